"""What changed between two policy files, group by group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trustctl.evidence import GroupKey, sort_key
from trustctl.policy_model import Action, Metadata, Policy
from trustctl.times import stamp

__all__ = [
    "DistanceChange",
    "Kind",
    "LevelChange",
    "MetadataChange",
    "ProposalChange",
    "diff_policies",
    "distance_changes",
    "label",
    "metadata_changes",
    "proposal_changes",
]

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
    old_reason: str | None = None
    """The old policy's reason, when the group is in both."""


def label(group_by: tuple[str, ...], key: GroupKey) -> str:
    """A group key as text: the action class, then ``name=value`` for other keys (a
    confidence band as ``confidence>=0.9``, ``confidence<0.9``, ``confidence=none``)."""
    parts = [str(key[0])]
    for name, value in zip(group_by[1:], key[1:], strict=True):
        if name == "confidence" and str(value)[:1] in ("<", ">"):
            parts.append(f"{name}{value}")
        elif value not in ("", 0):
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
                old_reason=was.reason if was is not None and now is not None else None,
            )
        )
    return changes


@dataclass(frozen=True)
class MetadataChange:
    """One thing the two policies' metadata says differently."""

    name: str
    """``as_of``, ``rules``, ``rules sha256``, ``rules in effect``, ``overrides``,
    ``filters``, ``group_by``, ``input added`` or ``input removed``."""
    old: str
    new: str


def _rules(meta: Metadata) -> list[tuple[str, str]]:
    rules = meta.rules
    if rules is None:
        return []
    return [
        ("rules", rules.path or "built-in"),
        ("rules sha256", rules.sha256 or "built-in"),
        ("rules in effect", rules.effective_sha256 or "as the file"),
        ("overrides", ", ".join(rules.overrides) or "none"),
    ]


def metadata_changes(old: Policy, new: Policy) -> list[MetadataChange]:
    """What the metadata of ``old`` and ``new`` say differently, in a fixed order."""
    was, now = old.metadata, new.metadata
    pairs = [
        ("as_of", stamp(was.as_of), stamp(now.as_of)),
        *(
            (name, before, after)
            for (name, before), (_, after) in zip(_rules(was), _rules(now), strict=False)
        ),
        ("filters", "; ".join(was.filters) or "none", "; ".join(now.filters) or "none"),
        ("group_by", ", ".join(was.group_by), ", ".join(now.group_by)),
    ]
    found = [MetadataChange(name, a, b) for name, a, b in pairs if a != b]
    inputs_before = {(f.path, f.sha256) for f in was.inputs}
    inputs_after = {(f.path, f.sha256) for f in now.inputs}
    found += [
        MetadataChange("input removed", f"{path} sha256 {sha[:12]}", "")
        for path, sha in sorted(inputs_before - inputs_after)
    ]
    found += [
        MetadataChange("input added", "", f"{path} sha256 {sha[:12]}")
        for path, sha in sorted(inputs_after - inputs_before)
    ]
    return found


@dataclass(frozen=True)
class DistanceChange:
    """A group at the same level in both whose next step moved: another level, or another
    number of clean decisions it needs."""

    key: GroupKey
    label: str
    level: str
    old_next: str | None
    new_next: str | None
    old_needed: int | None
    new_needed: int | None
    old_reason: str | None
    new_reason: str | None


def _next(action: Action) -> tuple[str | None, int | None]:
    step = action.next
    if step is None:
        return None, None
    return (None if step.level is None else step.level.value), step.clean_decisions_needed


def distance_changes(old: Policy, new: Policy) -> list[DistanceChange]:
    """Groups at the same level in both whose next step differs, sorted by group key."""
    before, after = old.by_key(), new.by_key()
    found = []
    for key in sorted(set(before) & set(after), key=sort_key):
        was, now = before[key], after[key]
        if was.level != now.level or _next(was) == _next(now):
            continue
        (old_next, old_needed), (new_next, new_needed) = _next(was), _next(now)
        found.append(
            DistanceChange(
                key=key,
                label=label(tuple(new.metadata.group_by), key),
                level=now.level.value,
                old_next=old_next,
                new_next=new_next,
                old_needed=old_needed,
                new_needed=new_needed,
                old_reason=was.reason,
                new_reason=now.reason,
            )
        )
    return found


@dataclass(frozen=True)
class ProposalChange:
    """A group whose promotion began, or stopped, waiting for sign-off; its level unchanged."""

    key: GroupKey
    label: str
    kind: Literal["proposed", "lapsed"]
    """``proposed``: a promotion now waits; ``lapsed``: the one that waited no longer does."""
    level: str
    """The level in force."""
    proposed: str
    """The level proposed (for ``lapsed``, the one that had been)."""
    reason: str | None
    """The new policy's reason for the group."""


def proposal_changes(old: Policy | None, new: Policy) -> list[ProposalChange]:
    """Every group whose proposal began or lapsed between ``old`` and ``new``."""
    before = old.by_key() if old is not None else {}
    found = []
    for key, now in sorted(new.by_key().items(), key=lambda item: sort_key(item[0])):
        was = before.get(key)
        if was is None or was.level != now.level:
            continue  # added, promoted or demoted: a level change says it
        if was.proposed == now.proposed:
            continue  # none, or the same proposal (a lapsed one proposed again is new)
        shown = now.proposed or was.proposed
        found.append(
            ProposalChange(
                key=key,
                label=label(new.metadata.group_by, key),
                kind="lapsed" if now.proposed is None else "proposed",
                level=now.level.value,
                proposed=(shown.level if shown is not None else now.level).value,
                reason=now.reason,
            )
        )
    return found
