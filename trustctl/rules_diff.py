"""Whether two sets of rules are the same rules, compared as ``check`` compares them (by the
rules in effect), and the keys where they differ; the rules a policy was made with, as far
as they can still be known."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from trustctl.errors import TrustctlError
from trustctl.overrides import apply_overrides, effective_sha256, parse_override
from trustctl.policy_model import RulesFile
from trustctl.rules import TrustRules, load_rules

__all__ = ["KeyChange", "changed_keys", "differ", "effective_of", "made_with", "shown"]

KeyChange = tuple[str, Any, Any]
"""A rules key as ``--set`` names it (``promote.full.success.threshold``), its value before
and after (``None`` on the side that lacks it)."""


def made_with(recorded: RulesFile) -> TrustRules | None:
    """The rules in effect when a policy was made: the built-in rules, or the recorded file
    while it still holds the recorded bytes, with the recorded ``--set`` laid over; ``None``
    when they cannot be known any more (the file changed or is gone)."""
    try:
        if recorded.path is None:
            base = load_rules(None)
        else:
            path = Path(recorded.path)
            if hashlib.sha256(path.read_bytes()).hexdigest() != recorded.sha256:
                return None
            base = load_rules(path)
        loaded = apply_overrides(base, [parse_override(text) for text in recorded.overrides])
    except (OSError, TrustctlError):
        return None
    rules = loaded.rules
    if recorded.effective_sha256 not in (None, effective_sha256(rules)):
        return None
    return rules


def effective_of(recorded: RulesFile) -> str | None:
    """The sha256 of the rules in effect when a policy was made (``effective_sha256``):
    recorded with ``--set``, else of ``made_with``'s rules; ``None`` when unknown."""
    if recorded.effective_sha256 is not None:
        return recorded.effective_sha256
    rules = made_with(recorded)
    return None if rules is None else effective_sha256(rules)


def differ(before: RulesFile, after: RulesFile) -> bool:
    """Whether two policies were made with other rules: compared by the rules in effect (a
    file equal to the built-in rules is the same rules) whenever both can be known, else by
    the files."""
    was, now = effective_of(before), effective_of(after)
    if was is None or now is None:
        return (before.sha256, before.effective_sha256) != (after.sha256, after.effective_sha256)
    return was != now


def changed_keys(before: TrustRules, after: TrustRules) -> list[KeyChange]:
    """Every rules key whose value differs, in the order of the rules file."""
    old, new = _flat(before.model_dump(mode="json")), _flat(after.model_dump(mode="json"))
    keys = list(new)
    for position, key in enumerate(old):  # a key only the old rules have, where it stood
        if key not in new:
            keys.insert(min(position, len(keys)), key)
    return [(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)]


def shown(value: Any) -> str:
    """A rules value as a line of text: ``0.95``, ``180d``, ``null``, ``["action_class"]``."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    """Each leaf value by its dotted path (list items by index, as ``--set`` names them)."""
    if isinstance(data, dict) and data:
        items = list(data.items())
    elif isinstance(data, list) and data:
        items = list(enumerate(data))
    else:
        return {prefix.removesuffix("."): data}
    found: dict[str, Any] = {}
    for key, value in items:
        found.update(_flat(value, f"{prefix}{key}."))
    return found
