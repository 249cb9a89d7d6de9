"""``--set KEY=VALUE``: a rules key changed on the command line, checked as the rules file is."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustctl import yamlio
from trustctl.errors import RulesError
from trustctl.rules import LoadedRules, TrustRules, parse_rules

__all__ = ["Override", "apply_overrides", "effective_sha256", "parse_override"]


@dataclass(frozen=True)
class Override:
    """One ``KEY=VALUE``: a dotted path into the rules and the value read as YAML."""

    text: str
    """As given, for the policy's metadata and messages."""
    path: tuple[str, ...]
    value: Any


def parse_override(text: str, option: str = "--set") -> Override:
    """``promote.auto_notify.agreement.threshold=0.9`` as an ``Override``."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise RulesError(f"{option} {text!r}: expected KEY=VALUE, e.g. window=90d")
    path = tuple(key.split("."))
    if any(not part for part in path):
        raise RulesError(f"{option} {text!r}: {key!r} is not a dotted rules key")
    try:
        value = yamlio.load(raw) if raw.strip() else None
    except yamlio.YAMLError as exc:
        raise RulesError(f"{option} {key}: the value is not valid YAML: {exc.reason}") from None
    if value is None:
        raise RulesError(f"{option} {key}: give a value (KEY=VALUE)")
    return Override(text=f"{key}={raw.strip()}", path=path, value=value)


def _step(node: Any, part: str, done: tuple[str, ...], option: str) -> tuple[Any, Any]:
    """The container key of ``part`` in ``node`` (a mapping or list), or an error naming it."""
    where = ".".join((*done, part))
    if isinstance(node, dict):
        keys = {str(k): k for k in node}
        if part in keys:
            return keys[part], node[keys[part]]
        close = difflib.get_close_matches(part, sorted(keys), n=1)
        hint = f"; did you mean {'.'.join((*done, close[0]))!r}?" if close else ""
        known = ", ".join(sorted(keys))
        raise RulesError(f"{option} {where}: no such rules key (known here: {known}){hint}")
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return int(part), node[int(part)]
        raise RulesError(f"{option} {where}: {'.'.join(done)} has {len(node)} entries")
    raise RulesError(f"{option} {where}: {'.'.join(done)} is a value, not a section")


def _lists(data: Any) -> Any:
    """The rules as plain data, tuples as lists, so an entry can be set by its index."""
    if isinstance(data, dict):
        return {k: _lists(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_lists(v) for v in data]
    return data


def _set(data: dict[str, Any], override: Override, option: str) -> None:
    node: Any = data
    for index, part in enumerate(override.path[:-1]):
        key, child = _step(node, part, override.path[:index], option)
        if child is None:  # an optional section left out: it starts empty
            child = node[key] = {}
        node = child
    key, _ = _step(node, override.path[-1], override.path[:-1], option)
    node[key] = override.value


def effective_sha256(rules: TrustRules) -> str:
    """The sha256 of the rules as canonical JSON: equal rules, equal hash, however given.
    ``economics`` is left out: it prices levels and never changes one."""
    text = json.dumps(rules.deciding(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def apply_overrides(
    loaded: LoadedRules, overrides: Sequence[Override], option: str = "--set"
) -> LoadedRules:
    """The rules with each override laid on in turn, checked as a rules file would be.

    An unknown key is refused with the nearest known one; a bad value with the message
    the rules file would give, at the key's path.
    """
    if not overrides:
        return loaded
    data: dict[str, Any] = _lists(loaded.rules.model_dump())
    for override in overrides:
        _set(data, override, option)
    given = " ".join(o.text for o in overrides)
    rules = parse_rules(data, f"{option} {given}")
    return loaded.model_copy(
        update={
            "rules": rules,
            "overrides": tuple(o.text for o in overrides),
            "effective_sha256": effective_sha256(rules),
        }
    )
