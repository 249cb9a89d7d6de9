"""What changed between two policy files, group by group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trustctl.evidence import GroupKey
from trustctl.policy import PolicyDocument

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
    for name, value in zip(group_by[1:], key[1:]):
        if value not in ("", 0):
            parts.append(f"{name}={value}")
    return " ".join(parts)


def diff_policies(old: PolicyDocument, new: PolicyDocument) -> list[LevelChange]:
    """Level changes from ``old`` to ``new``, sorted by group key."""
    before, after = old.by_key(), new.by_key()
    group_by = tuple(new.metadata.group_by)
    changes: list[LevelChange] = []
    for key in sorted(set(before) | set(after), key=lambda k: tuple(map(str, k))):
        was, now = before.get(key), after.get(key)
        if was is not None and now is not None:
            if was.level == now.level:
                continue
            kind: Kind = "promoted" if now.level.rank > was.level.rank else "demoted"
        else:
            kind = "added" if now is not None else "removed"
        changes.append(
            LevelChange(
                key=key,
                label=label(group_by, key),
                kind=kind,
                old=None if was is None else was.level.value,
                new=None if now is None else now.level.value,
                reason=(now or was).reason if (now or was) is not None else None,
            )
        )
    return changes
