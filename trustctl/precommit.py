"""The ``trustctl-validate`` pre-commit hook: check each rules or policy file given."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from trustctl.errors import TrustctlError

__all__ = ["main", "validate_file"]


_KIND = re.compile(r'^\s*"?kind"?\s*:\s*"?(TrustRules|AutonomyPolicy)"?\s*,?\s*$', re.MULTILINE)


def validate_file(path: Path) -> str | None:
    """Check one file by its ``kind``; ``None`` when it is no trustctl file, else a verdict.

    The kind is found in the text, so a file of another tool is skipped however it is
    written; a trustctl file is then read as trustctl reads it (``TrustctlError`` if bad).
    """
    from trustctl.policy import load_policy
    from trustctl.rules import load_rules

    try:
        found = _KIND.search(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        found = None
    if found is None:
        return None
    if found.group(1) == "TrustRules":
        load_rules(path)
        return f"{path}: rules ok"
    load_policy(path)
    return f"{path}: policy ok"


def main(argv: Sequence[str] | None = None) -> int:
    """Validate every file named; 1 when any is bad (each error on stderr), else 0."""
    failed = False
    for name in sys.argv[1:] if argv is None else argv:
        try:
            validate_file(Path(name))
        except TrustctlError as exc:
            failed = True
            for line in str(exc).splitlines():
                print(f"error: {line}", file=sys.stderr)
    return 1 if failed else 0
