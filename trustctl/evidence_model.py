"""What evidence is about: a group's key, what the previous policy said of it, its counts and
its state before the decision is taken (the types ``trustctl.evidence`` builds)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from trustctl.levels import Level

__all__ = [
    "Evidence",
    "GroupKey",
    "GroupState",
    "PriorState",
    "VersionChange",
    "latest_of",
    "normalise_key",
    "sort_key",
]

#: A group's identity: its ``group_by`` values in rule order (tiers as int, 0 = not given).
GroupKey = tuple[str | int, ...]


@dataclass(frozen=True)
class PriorState:
    """What the previous policy said about a group."""

    level: Level
    since: dt.datetime | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    cap: tuple[Level, str] | None = None
    """The cap the previous policy applied and what set it (``cap:system_tier=4``, say)."""


@dataclass(frozen=True)
class Evidence:
    """The counts for one group: decisions of the UTC days from ``counted_from`` to ``as_of``."""

    decisions: int
    reviewed: int
    agreed: int
    timeouts: int
    executed: int
    verified: int
    succeeded: int
    unverified: int
    counted_from: dt.datetime
    """Midnight UTC of the first day counted: for the window, the first day that begins at or
    after its start; after an event, the first day that begins after it."""
    counted_from_reason: str
    """What started the clock: the window's start, or an event (``last demotion``, ...)."""
    reset: bool = False
    """Whether an event, not the window's start, started the clock."""
    level_day: bool = False
    """Whether ``counted_from`` is the day of a level change, of which only the decisions
    made at the current level count."""
    unsampled: int = 0
    """Reviews of decisions made at ``auto_notify`` or ``full`` that ``review_sampled`` says
    were not of the audit sample: left out of ``reviewed`` and ``agreed``."""
    sampling_unknown: int = 0
    """Reviews of decisions made at ``auto_notify`` or ``full`` that ``review_sampled`` says
    nothing about: counted, but they may be a biased choice."""


@dataclass(frozen=True)
class VersionChange:
    """The group's latest change of named agent version, with ``agent_version_change:
    probation``: the new version's own record decides whether a level at ``full`` holds."""

    previous: str
    version: str
    at: dt.datetime
    """The new version's first decision."""
    record: Evidence
    """The new version's decisions: the days after ``at`` (and after the last demotion and
    critical failure, as for promotion)."""


@dataclass(frozen=True)
class GroupState:
    """Everything known about one group before the decision is taken."""

    key: GroupKey
    current: Level
    current_source: str
    """``previous policy`` or ``log`` (the mode of the group's latest decision)."""
    level_since: dt.datetime | None
    """When the current level was set, by the previous policy's ``since``."""
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    evidence: Evidence
    """What promotion counts: after the last demotion, critical failure and version change."""
    demotion_evidence: Evidence
    """What the demotion checks count: the record at the current level, since the last
    promotion or demotion. No agent-version reset: a new version never hides that record."""
    critical_failures: int
    """Critical failures within the window (all of them, not only counted ones)."""
    last_critical_failure: dt.datetime | None
    last_critical_decision: str | None
    system_tiers: frozenset[int]
    risk_tiers: frozenset[int]
    """Risk tiers of the group's decisions (the column, else the rules' patterns); 0 = unknown."""
    agent_version: str | None
    """The version named by the group's latest decision that names one."""
    agent_version_since: dt.datetime | None
    inherited_cap: tuple[Level, str] | None = None
    """For a group with no decisions read: the previous policy's cap, since its tiers are
    unknown now and missing data must never lift a cap."""
    recent_evidence: Evidence | None = None
    """With ``demote.recent``: the part of ``demotion_evidence`` in the last ``recent`` whole
    UTC days, which the demotion checks judge too."""
    version_change: VersionChange | None = None
    """With ``agent_version_change: probation``: the latest change of named agent version."""
    tier_services: tuple[tuple[int, tuple[str, ...]], ...] = ()
    """Per system tier of the group's decisions, the services named there (sorted): which
    services set a cap by ``system_tier``."""

    def services_at(self, tier: int) -> tuple[str, ...]:
        """The services of the group's decisions on system tier ``tier``."""
        return next((names for t, names in self.tier_services if t == tier), ())

    @property
    def last_change(self) -> dt.datetime | None:
        """The latest level change known (promotion, demotion, previous ``since``)."""
        return latest_of(self.level_since, self.last_promoted, self.last_demoted)


def latest_of(*values: dt.datetime | None) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def sort_key(key: GroupKey) -> tuple[tuple[int, str], ...]:
    """Order of groups in the policy: by key part, tiers as numbers."""
    return tuple((0, f"{v:08d}") if isinstance(v, int) else (1, v) for v in key)


def normalise_key(raw: object) -> GroupKey:
    parts = raw if isinstance(raw, tuple) else (raw,)
    return tuple(int(p) if isinstance(p, (int, np.integer)) else str(p) for p in parts)
