"""The ledger: an append-only, hash-chained JSON Lines record of every level change.

Each line is one entry in canonical JSON (keys sorted, no spaces, UTF-8, no floats);
its ``hash`` is the sha256 of that canonical JSON without the ``hash`` member, and its
``prev`` is the ``hash`` of the line before (``null`` on the first line). Editing,
removing, reordering or inserting a line breaks the chain at or after that line.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from trustctl import times
from trustctl.errors import LedgerError
from trustctl.levels import Level

__all__ = [
    "SIGNED",
    "TRUSTCTL",
    "BrokenLink",
    "Entry",
    "Event",
    "EvidenceNumbers",
    "GroupFields",
    "GroupHistory",
    "History",
    "Kind",
    "Ledger",
    "PinRecord",
    "Proposal",
    "Rejection",
    "Source",
    "broken_link",
    "canonical",
    "chain",
    "digest",
    "group_key",
    "instant",
    "read",
    "replay",
]

Kind = Literal[
    "initial",
    "promoted",
    "demoted",
    "proposed",
    "approved",
    "rejected",
    "pinned",
    "unpinned",
    "expired",
]
Source = Literal["log", "previous policy"]
"""Where an ``initial`` entry took the group's level from."""
GroupFields = dict[str, str | int | None]
"""A group key as the policy writes it: ``{"action_class": "k8s.scale", ...}``."""
EvidenceNumbers = dict[str, int | str | None]
"""Counts as integers, bounds as decimal strings (``"0.967512"``), dates as stamps."""

SIGNED: frozenset[str] = frozenset({"approved", "rejected"})
"""Kinds a person writes with ``approve`` or ``reject``."""
TRUSTCTL = "trustctl"
"""The ``actor`` of automatic entries."""


def canonical(data: Mapping[str, Any]) -> bytes:
    """Canonical JSON: keys sorted, no spaces, UTF-8 (no ``\\u`` escapes beyond JSON's own)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(data: Mapping[str, Any]) -> str:
    """The sha256 (hex) of ``data``'s canonical JSON."""
    return hashlib.sha256(canonical(data)).hexdigest()


def _stamp_text(value: str | None) -> str | None:
    """Refuse a time that is not written as ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    if value is None:
        return None
    try:
        parsed = instant(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a UTC time like 2026-11-19T21:13:30Z") from None
    if times.stamp(parsed) != value:
        raise ValueError(f"{value!r} is not a UTC time like 2026-11-19T21:13:30Z")
    return value


def instant(text: str) -> dt.datetime:
    """A stamp read back as an aware UTC datetime."""
    if not text.endswith("Z"):
        raise ValueError(text)
    return dt.datetime.fromisoformat(text[:-1]).replace(tzinfo=dt.timezone.utc)


class History(BaseModel):
    """Where an ``initial`` entry's level came from, and the dates it brought with it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    source: Source
    since: str | None
    """The starting level's ``since`` as the run found it (``None`` when not recorded)."""
    last_promoted: str | None
    last_demoted: str | None
    cap: dict[str, str] | None
    """The cap the previous policy applied (``{"level", "by"}``), kept for a group with no
    decisions now; ``None`` otherwise."""

    _times = field_validator("since", "last_promoted", "last_demoted")(_stamp_text)


class Event(BaseModel):
    """What happened to one group, before it is chained into the ledger."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    at: str
    """The run's ``as_of`` (a manual entry: the ``as_of`` of the policy it signs)."""
    kind: Kind
    group: GroupFields
    from_level: Level | None = Field(
        validation_alias=AliasChoices("from", "from_level"), serialization_alias="from"
    )
    to_level: Level | None = Field(
        validation_alias=AliasChoices("to", "to_level"), serialization_alias="to"
    )
    rule: str
    """The rule that fired (``promote.full``, ``demote.auto_notify.agreement.threshold``,
    ``approval.required_for``, ``pins``, ...)."""
    reason: str
    evidence: EvidenceNumbers | None
    inputs_sha256: str | None
    rules_sha256: str
    version: str
    actor: str = Field(min_length=1)
    history: History | None = None
    """``initial`` entries only."""
    expires: str | None = None
    """``proposed``: when the proposal lapses; ``rejected``: when it may be proposed again."""

    _times = field_validator("at", "expires")(_stamp_text)

    @field_validator("from_level", "to_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return Level(value) if isinstance(value, str) else value

    @field_validator("reason", "rule")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @property
    def when(self) -> dt.datetime:
        """``at`` as a datetime."""
        return instant(self.at)

    @property
    def signed(self) -> bool:
        """Whether a person, not trustctl, made this entry."""
        return self.actor != TRUSTCTL

    def content(self) -> dict[str, Any]:
        """The event's members as they are hashed and written (an entry's without its
        ``seq``, ``prev`` and ``hash``)."""
        return self.model_dump(mode="json", by_alias=True, include=set(Event.model_fields))


class Entry(Event):
    """One line of the ledger."""

    seq: int = Field(ge=1)
    prev: str | None
    hash: str

    def unhashed(self) -> dict[str, Any]:
        """Every member but ``hash``: what ``hash`` is the sha256 of."""
        return {**self.content(), "seq": self.seq, "prev": self.prev}

    def line(self) -> bytes:
        """The entry as its ledger line (canonical JSON and a newline)."""
        return canonical({**self.unhashed(), "hash": self.hash}) + b"\n"


def chain(events: Iterable[Event], head: Entry | None) -> list[Entry]:
    """``events`` as entries following ``head``: numbered, linked and hashed."""
    entries: list[Entry] = []
    seq, prev = (0, None) if head is None else (head.seq, head.hash)
    for event in events:
        seq += 1
        data = {**event.content(), "seq": seq, "prev": prev}
        entry = Entry.model_validate({**data, "hash": digest(data)})
        entries.append(entry)
        prev = entry.hash
    return entries


@dataclass(frozen=True)
class Ledger:
    """A ledger file as read: its entries and the bytes of each line."""

    path: Path
    entries: tuple[Entry, ...] = ()
    lines: tuple[bytes, ...] = ()
    exists: bool = False

    @property
    def head(self) -> Entry | None:
        """The last entry, or ``None`` for an empty ledger."""
        return self.entries[-1] if self.entries else None

    def data(self) -> bytes:
        """The file's bytes as read."""
        return b"".join(self.lines)

    def with_events(self, events: Sequence[Event]) -> tuple[Ledger, tuple[Entry, ...]]:
        """This ledger with ``events`` appended, and the new entries."""
        added = tuple(chain(events, self.head))
        return (
            replace(
                self,
                entries=self.entries + added,
                lines=self.lines + tuple(e.line() for e in added),
            ),
            added,
        )


def read(path: Path, *, missing_ok: bool = True) -> Ledger:
    """Read a ledger; raise ``LedgerError`` naming ``FILE:LINE`` for a line that is not an entry.

    A missing file is an empty ledger when ``missing_ok``. Whether the chain holds is
    :func:`broken_link`'s question, not this one's.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return Ledger(path=path)
        raise LedgerError(f"{path}: the ledger does not exist") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger: {exc.strerror}") from None
    lines = tuple(data.splitlines(keepends=True))
    entries = tuple(_parse(path, number, raw) for number, raw in enumerate(lines, start=1))
    return Ledger(path=path, entries=entries, lines=lines, exists=True)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} appears twice")
        found[key] = value
    return found


def _parse(path: Path, number: int, raw: bytes) -> Entry:
    where = f"{path}:{number}"
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LedgerError(f"{where}: not a JSON line: {exc}") from None
    if not isinstance(data, dict):
        raise LedgerError(f"{where}: a ledger line is a JSON object")
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {loc}: {message}" if loc else f"{where}: {message}")
        raise LedgerError("\n".join(problems)) from None


@dataclass(frozen=True)
class BrokenLink:
    """The first line at which the chain does not hold."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def broken_link(ledger: Ledger) -> BrokenLink | None:
    """The first line that breaks the chain (edited, removed, reordered, inserted), if any."""
    previous: Entry | None = None
    for number, (entry, raw) in enumerate(zip(ledger.entries, ledger.lines, strict=True), 1):
        if entry.hash != digest(entry.unhashed()):
            return BrokenLink(number, "its hash does not match its content (edited?)")
        if raw != entry.line():
            return BrokenLink(number, "not written in canonical JSON (edited by hand?)")
        if entry.seq != number:
            return BrokenLink(
                number, f"seq {entry.seq} where {number} was due (a line removed or moved?)"
            )
        expected = None if previous is None else previous.hash
        if entry.prev != expected:
            return BrokenLink(
                number,
                f"prev does not match the hash of line {number - 1} (a line before it edited, "
                "removed, inserted or moved?)"
                if previous is not None
                else "the first line must have prev null (lines removed before it?)",
            )
        if previous is not None and entry.when < previous.when:
            return BrokenLink(number, f"at {entry.at} is before line {number - 1}'s {previous.at}")
        previous = entry
    return None


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
