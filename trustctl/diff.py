"""What changed between two policy files, group by group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trustctl.evidence import GroupKey, sort_key
from trustctl.policy_model import Policy

__all__ = ["Kind", "LevelChange", "diff_policies", "label"]

Kind = Literal["promoted", "demoted", "added", "removed"]


@dataclass(frozen=True)
class LevelChange:
    """One group whose level differs between the old and the new policy."""

    key: GroupKey
    label: str
    """The group key as text, e.g. ``k8s.rollback`` or ``k8s.rollback system_tier=2``."""
    kind: Kind
    old: str | None
    new: str | None
    reason: str | None
    """The new policy's reason (the old one's for a removed group)."""


def label(group_by: tuple[str, ...], key: GroupKey) -> str:
    """A group key as text: the action class, then ``name=value`` for other keys."""
    parts = [str(key[0])]
    for name, value in zip(group_by[1:], key[1:], strict=True):
        if value not in ("", 0):
            parts.append(f"{name}={value}")
    return " ".join(parts)


def diff_policies(old: Policy, new: Policy) -> list[LevelChange]:
    """Level changes from ``old`` to ``new``, sorted by group key."""
    before, after = old.by_key(), new.by_key()
    changes: list[LevelChange] = []
    for key in sorted(set(before) | set(after), key=sort_key):
        was, now = before.get(key), after.get(key)
        if was is not None and now is not None:
            if was.level == now.level:
                continue
            kind: Kind = "promoted" if now.level.rank > was.level.rank else "demoted"
        else:
            kind = "added" if now is not None else "removed"
        # A removed group is named under the old policy's group_by (it may have changed).
        source = old if now is None else new
        changes.append(
            LevelChange(
                key=key,
                label=label(tuple(source.metadata.group_by), key),
                kind=kind,
                old=None if was is None else was.level.value,
                new=None if now is None else now.level.value,
                reason=now.reason if now is not None else was.reason if was is not None else None,
            )
        )
    return changes
