"""What ``decide`` returns, as data: the checks run, the reason, the cap, the pin, the next step.

The checks' findings are in ``trustctl.findings`` (and re-exported here).

No English here: ``trustctl.reasons`` turns every finding, reason and need into text,
and the renderers and the policy use that text. Tests assert on these values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeAlias

from trustctl.bounds import RateSummary
from trustctl.evidence import Evidence, GroupState
from trustctl.findings import (
    Bound,
    Check,
    CooldownRule,
    CriticalFailure,
    Finding,
    MinDecisions,
    NewVersion,
    Unverified,
)
from trustctl.levels import Change, Level
from trustctl.rules import Metric, Pin, UnverifiedRule

__all__ = [
    "Approved",
    "AtTop",
    "Bound",
    "Cap",
    "CapBinds",
    "CappedAt",
    "CappedDown",
    "Change",
    "Check",
    "CooldownBlocks",
    "CooldownEnds",
    "CooldownRule",
    "CriticalFailure",
    "Demoted",
    "Finding",
    "GatesFail",
    "MinDecisions",
    "MoreClean",
    "MoreVerified",
    "Need",
    "NewVersion",
    "Next",
    "NoUnverifiedAllowed",
    "NotConfigured",
    "PinExpired",
    "PinStatus",
    "Pinned",
    "PinnedBy",
    "Promoted",
    "Proposed",
    "Reason",
    "Rejected",
    "RejectedUntil",
    "SignOff",
    "StayWhy",
    "Stays",
    "Unreachable",
    "Unverified",
    "Verdict",
]


# --- reasons: why the level is what it is ------------------------------------------------------


@dataclass(frozen=True)
class AtTop:
    """Nothing above the level (``full``)."""


@dataclass(frozen=True)
class NotConfigured:
    """The rules have no gates for the level above."""

    level: Level


@dataclass(frozen=True)
class CapBinds:
    """The cap forbids the level above, whatever the gates say (``failing`` for the record)."""

    cap: Cap
    level: Level
    failing: tuple[Check, ...]


@dataclass(frozen=True)
class GatesFail:
    """Gates for the level above that fail."""

    level: Level
    failing: tuple[Check, ...]


StayWhy: TypeAlias = AtTop | NotConfigured | CapBinds | GatesFail


@dataclass(frozen=True)
class Stays:
    """No change: ``why``; ``evidence`` is the promotion evidence (its clock is named when an
    event restarted it)."""

    level: Level
    why: StayWhy
    evidence: Evidence


@dataclass(frozen=True)
class Demoted:
    """A demotion rule fired: ``check`` is the rule that sent the group lowest."""

    level: Level
    to: Level
    check: Check
    after_promotion: dt.datetime | None = None
    """For a critical failure: the last promotion it came after."""


@dataclass(frozen=True)
class Promoted:
    """The gates for the next level pass: one level up."""

    level: Level
    to: Level
    gates: tuple[Check, ...]


@dataclass(frozen=True)
class CooldownBlocks:
    """The gates pass, but the last level change is too recent."""

    level: Level
    to: Level
    gates: tuple[Check, ...]
    cooldown: CooldownRule


@dataclass(frozen=True)
class CappedDown:
    """The evidence gives a level above the cap: held down to it."""

    level: Level
    cap: Cap
    evidence: Reason


@dataclass(frozen=True)
class Pinned:
    """An active pin sets the level (held under the cap)."""

    pin: Pin
    held: Level
    cap: Cap
    evidence_level: Level
    """What the evidence alone gives."""


@dataclass(frozen=True)
class PinExpired:
    """The reason, with a matching pin that expired (and is ignored)."""

    reason: Reason
    pin: Pin


@dataclass(frozen=True)
class Proposed:
    """The gates pass for a level whose promotions wait for a person's sign-off
    (``approval.required_for``): the group stays until someone approves."""

    level: Level
    to: Level
    gates: tuple[Check, ...]
    since: dt.datetime
    """When it was proposed."""


@dataclass(frozen=True)
class Rejected:
    """A person rejected the promotion to ``to``: not proposed again before ``until``."""

    level: Level
    to: Level
    by: str
    at: dt.datetime
    why: str
    until: dt.datetime | None


@dataclass(frozen=True)
class Approved:
    """A person approved the waiting promotion, which the evidence still earns."""

    level: Level
    to: Level
    gates: tuple[Check, ...]
    by: str
    why: str


Reason: TypeAlias = (
    Stays
    | Demoted
    | Promoted
    | CooldownBlocks
    | CappedDown
    | Pinned
    | PinExpired
    | Proposed
    | Rejected
    | Approved
)


# --- the next step -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PinnedBy:
    """An active pin holds the level."""

    owner: str


@dataclass(frozen=True)
class CappedAt:
    """The cap holds the level."""

    cap: Cap
    services: tuple[str, ...] = ()
    """For a cap by ``system_tier``: the group's services on that tier."""
    split: bool = False
    """The group spans several system tiers and ``group_by`` does not split them: adding
    ``system_tier`` would judge each tier apart."""


@dataclass(frozen=True)
class Unreachable:
    """No number of clean decisions passes this gate."""

    metric: Metric


@dataclass(frozen=True)
class NoUnverifiedAllowed:
    """Unverified actions exist and ``max_unverified`` is 0."""


@dataclass(frozen=True)
class MoreClean:
    """Clean decisions still needed for a gate."""

    metric: Metric
    more: int
    threshold: float
    min_decisions: int
    unverified: UnverifiedRule | None = None


@dataclass(frozen=True)
class MoreVerified:
    """Verified executions still needed to bring the unverified share down."""

    more: int
    allowed: float


@dataclass(frozen=True)
class CooldownEnds:
    """The cooldown still has to end."""

    ends: dt.datetime


@dataclass(frozen=True)
class SignOff:
    """A person's sign-off on the waiting proposal (``trustctl approve``)."""

    group: str
    expires: dt.datetime | None


@dataclass(frozen=True)
class RejectedUntil:
    """A rejection holds the group until ``until``."""

    by: str
    until: dt.datetime | None


Need: TypeAlias = (
    SignOff
    | RejectedUntil
    | PinnedBy
    | AtTop
    | CappedAt
    | NotConfigured
    | Unreachable
    | NoUnverifiedAllowed
    | MoreClean
    | MoreVerified
    | CooldownEnds
)


@dataclass(frozen=True)
class Next:
    """What the next promotion needs."""

    level: Level | None
    needs: tuple[Need, ...]
    """What is missing; empty when nothing is (the gates pass)."""
    clean_decisions_needed: int | None


# --- the verdict -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cap:
    """The highest level the tiers allow and which tier sets it."""

    level: Level
    limited_by: str | None
    """e.g. ``cap:risk_tier=2``; ``None`` when nothing caps below ``full``."""

    @property
    def tier(self) -> str:
        """``limited_by`` without its ``cap:`` prefix (``risk_tier=2``)."""
        return (self.limited_by or "").removeprefix("cap:")


@dataclass(frozen=True)
class PinStatus:
    """A pin that matches the group, active or expired."""

    pin: Pin
    active: bool


@dataclass(frozen=True)
class Verdict:
    """The decision for one group, with everything needed to explain it."""

    state: GroupState
    level: Level
    previous_level: Level
    change: Change
    limited_by: str | None
    since: dt.datetime | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    reason: Reason
    agreement: RateSummary
    """Agreement on the promotion evidence (``state.evidence``)."""
    success: RateSummary
    """Success on the promotion evidence."""
    demotion_agreement: RateSummary
    """Agreement on the demotion evidence (``state.demotion_evidence``)."""
    demotion_success: RateSummary
    """Success on the demotion evidence."""
    threshold: float | None
    """The agreement threshold the posterior probability is reported against."""
    p_agreement: float | None
    """``P(agreement >= threshold)`` under the Beta posterior."""
    cap: Cap
    pin: PinStatus | None
    checks: tuple[Check, ...]
    next: Next
    recent_agreement: RateSummary | None = None
    """Agreement on the recent record (``state.recent_evidence``), with ``demote.recent``."""
    recent_success: RateSummary | None = None
    """Success on the recent record."""
