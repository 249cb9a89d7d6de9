"""Each group's state replayed from the ledger's entries: level, dates, proposal, rejection, pin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from trustctl.errors import LedgerError
from trustctl.ledger_entries import Entry, instant
from trustctl.levels import Level

__all__ = [
    "GroupHistory",
    "PinRecord",
    "Proposal",
    "Rejection",
    "group_key",
    "replay",
]


@dataclass(frozen=True)
class Proposal:
    """A promotion waiting for a person's sign-off."""

    level: Level
    since: str
    reason: str
    expires: str | None


@dataclass(frozen=True)
class Rejection:
    """A proposal a person rejected: not proposed again before ``until``."""

    level: Level
    at: str
    by: str
    reason: str
    until: str | None


@dataclass(frozen=True)
class PinRecord:
    """The pin the ledger last recorded for a group."""

    level: Level
    owner: str
    reason: str


@dataclass(frozen=True)
class GroupHistory:
    """One group's state, replayed from its ledger entries."""

    level: Level
    since: str | None
    """When the level was reached, as far as known (as a policy's ``since``)."""
    last_promoted: str | None
    last_demoted: str | None
    source: str
    """Where the first entry took the level from (``log`` or ``previous policy``)."""
    changed: str
    """The ``at`` of the entry that set the level."""
    cap: dict[str, str] | None = None
    proposal: Proposal | None = None
    rejection: Rejection | None = None
    pin: PinRecord | None = None
    entries: tuple[int, ...] = field(default=())
    """The ``seq`` of every entry about the group, oldest first."""


def group_key(group_by: Sequence[str], group: Mapping[str, Any]) -> tuple[str | int, ...]:
    """An entry's group as a group key (tiers as int, 0 and ``""`` for not given)."""
    parts: list[str | int] = []
    for name in group_by:
        value = group.get(name)
        if name == "system_tier":
            parts.append(int(value) if isinstance(value, int) else 0)
        else:
            parts.append("" if value is None else str(value))
    return tuple(parts)


def replay(
    entries: Iterable[Entry], group_by: Sequence[str]
) -> dict[tuple[str | int, ...], GroupHistory]:
    """Every group's state after ``entries``; raise ``LedgerError`` on an impossible sequence.

    Level changes come from ``initial``, ``promoted``, ``approved`` and ``demoted``; proposals
    from ``proposed`` (ended by ``approved``, ``rejected``, ``expired`` or a level change);
    pins from ``pinned`` and ``unpinned``/``expired``.
    """
    states: dict[tuple[str | int, ...], GroupHistory] = {}
    for entry in entries:
        if set(entry.group) != set(group_by):
            raise LedgerError(
                f"line {entry.seq}: the group names {sorted(entry.group)}, but the policy "
                f"groups by {list(group_by)}"
            )
        key = group_key(group_by, entry.group)
        state = states.get(key)
        if state is None:
            if entry.kind != "initial" or entry.history is None or entry.to_level is None:
                raise LedgerError(
                    f"line {entry.seq}: {entry.kind} for a group with no initial entry"
                )
            start = entry.history
            known = [t for t in (start.last_promoted, start.last_demoted) if t is not None]
            states[key] = GroupHistory(
                level=entry.to_level,
                since=start.since or max(known, key=instant, default=None),
                last_promoted=start.last_promoted,
                last_demoted=start.last_demoted,
                source=start.source,
                changed=entry.at,
                cap=entry.history.cap,
                entries=(entry.seq,),
            )
            continue
        states[key] = _step(replace(state, entries=(*state.entries, entry.seq)), entry)
    return states


def _step(state: GroupHistory, entry: Entry) -> GroupHistory:
    kind, to = entry.kind, entry.to_level
    if kind == "initial":
        raise LedgerError(f"line {entry.seq}: a second initial entry for the group")
    if kind in ("promoted", "approved", "demoted"):
        if to is None or entry.from_level is not state.level:
            raise LedgerError(
                f"line {entry.seq}: {kind} from {_name(entry.from_level)}, but the group "
                f"is at {state.level.value}"
            )
        if kind == "approved" and (state.proposal is None or state.proposal.level is not to):
            raise LedgerError(f"line {entry.seq}: approves {to.value}, which is not proposed")
        up = kind != "demoted"
        return replace(
            state,
            level=to,
            since=entry.at,
            changed=entry.at,
            last_promoted=entry.at if up else state.last_promoted,
            last_demoted=entry.at if not up else state.last_demoted,
            proposal=None,
        )
    if kind == "proposed":
        if to is None:
            raise LedgerError(f"line {entry.seq}: a proposal names no level")
        proposal = Proposal(level=to, since=entry.at, reason=entry.reason, expires=entry.expires)
        return replace(state, proposal=proposal, rejection=None)
    if kind == "rejected":
        if to is None or state.proposal is None or state.proposal.level is not to:
            raise LedgerError(f"line {entry.seq}: rejects {_name(to)}, which is not proposed")
        rejection = Rejection(
            level=to, at=entry.at, by=entry.actor, reason=entry.reason, until=entry.expires
        )
        return replace(state, proposal=None, rejection=rejection)
    if kind == "pinned":
        if to is None:
            raise LedgerError(f"line {entry.seq}: a pin names no level")
        return replace(state, pin=PinRecord(level=to, owner=entry.actor, reason=entry.reason))
    if kind == "unpinned" or (kind == "expired" and entry.rule == "pins"):
        return replace(state, pin=None)
    return replace(state, proposal=None)  # an expired or withdrawn proposal


def _name(level: Level | None) -> str:
    return "nothing" if level is None else level.value
