"""Every command's output on the shipped sample, byte for byte as committed in ``tests/golden/``.

The files were written by trustctl before its core was reshaped (issue 7); any change
to a policy, a reason, a table or a markdown body shows here. To write them again after
a deliberate change: ``python tests/test_golden.py``, then review the diff.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from clirun import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SPLIT = "rules-split.yaml"

#: (golden file, arguments); run in order in one folder holding ``sample_data/`` and the rules,
#: so later commands can read the policies earlier ones wrote.
COMMANDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("policy.yaml", ("generate", "sample_data")),
    ("policy.json", ("generate", "sample_data", "--format", "json")),
    ("policy-table.txt", ("generate", "sample_data", "--format", "table")),
    ("policy-wide.txt", ("generate", "sample_data", "--format", "table", "--wide")),
    ("policy.md", ("generate", "sample_data", "--format", "markdown")),
    ("early.yaml", ("generate", "sample_data", "--as-of", "2026-09-01")),
    ("previous.yaml", ("generate", "sample_data", "--previous", "early.yaml")),
    (
        "previous.md",
        ("generate", "sample_data", "--previous", "early.yaml", "--format", "markdown"),
    ),
    ("split-early.yaml", ("generate", "sample_data", "--rules", SPLIT, "--as-of", "2026-10-01")),
    ("split.yaml", ("generate", "sample_data", "--rules", SPLIT, "--previous", "split-early.yaml")),
    ("split-table.txt", ("generate", "sample_data", "--rules", SPLIT, "--format", "table")),
    ("check.txt", ("check", "sample_data", "--policy", "early.yaml")),
    ("check-split.txt", ("check", "sample_data", "--rules", SPLIT, "--policy", "split.yaml")),
    ("diff.txt", ("diff", "early.yaml", "previous.yaml")),
    ("diff.md", ("diff", "early.yaml", "previous.yaml", "--format", "markdown")),
    ("diff.json", ("diff", "early.yaml", "previous.yaml", "--format", "json")),
    ("diff-split.md", ("diff", "split-early.yaml", "split.yaml", "--format", "markdown")),
    ("explain-rollback.txt", ("explain", "k8s.rollback", "sample_data")),
    ("explain-previous.txt", ("explain", "db.failover", "sample_data", "--previous", "early.yaml")),
    ("explain-split.txt", ("explain", "dns.update", "sample_data", "--rules", SPLIT)),
    ("explain-cert.txt", ("explain", "cert.renew", "sample_data", "--rules", SPLIT)),
    ("validate.txt", ("validate", "sample_data", "--policy", "previous.yaml")),
)


def _outputs(folder: Path) -> dict[str, tuple[int, str]]:
    """Each command's exit code and stdout, run in ``folder``; policies land there too."""
    (folder / "sample_data").mkdir()
    shutil.copy(ROOT / "sample_data" / "decisions.csv", folder / "sample_data")
    shutil.copy(GOLDEN / SPLIT, folder / SPLIT)
    found: dict[str, tuple[int, str]] = {}
    for name, args in COMMANDS:
        result = run(*args)
        found[name] = (result.exit_code, result.stdout)
        if name.endswith(".yaml"):
            (folder / name).write_text(result.stdout, encoding="utf-8")
    return found


def test_every_output_is_byte_identical_to_the_committed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, (code, text) in _outputs(tmp_path).items():
        assert code == (1 if name.startswith("check") else 0), (name, text)
        assert text == (GOLDEN / name).read_text(encoding="utf-8"), name


if __name__ == "__main__":
    import os
    import tempfile

    os.environ.update(COLUMNS="120", NO_COLOR="1")
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        for name, (code, text) in _outputs(Path(scratch)).items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
            print(f"{name}: exit {code}, {len(text)} chars", file=sys.stderr)
