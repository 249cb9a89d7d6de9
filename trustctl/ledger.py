"""The ledger: an append-only, hash-chained JSON Lines record of every level change.

Each line is one entry in canonical JSON (keys sorted, no spaces, UTF-8, no floats);
its ``hash`` is the sha256 of that canonical JSON without the ``hash`` member, and its
``prev`` is the ``hash`` of the line before (``null`` on the first line). Editing,
removing, reordering or inserting a line breaks the chain at or after that line.

This module is the file: reading it, chaining new events onto it, finding where its chain
breaks. A line's members are ``ledger_entries``', each group's state replayed from the
lines ``ledger_replay``'s; their names are re-exported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trustctl.errors import LedgerError
from trustctl.ledger_entries import (
    SIGNED,
    TRUSTCTL,
    Entry,
    Event,
    EvidenceNumbers,
    GroupFields,
    History,
    Kind,
    Source,
    canonical,
    digest,
    instant,
)
from trustctl.ledger_replay import (
    GroupHistory,
    PinRecord,
    Proposal,
    Rejection,
    group_key,
    replay,
)

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
