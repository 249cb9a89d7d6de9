"""One ledger line: its members, checked; canonical JSON; the sha256 that chains it.

Each line is one entry in canonical JSON (keys sorted, no spaces, UTF-8, no floats); its
``hash`` is the sha256 of that canonical JSON without the ``hash`` member.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from trustctl import times
from trustctl.levels import Level

__all__ = [
    "SIGNED",
    "TRUSTCTL",
    "Entry",
    "Event",
    "EvidenceNumbers",
    "GroupFields",
    "History",
    "Kind",
    "Source",
    "canonical",
    "digest",
    "instant",
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
