"""What one check measured, as data: counts and bounds against a gate, critical failures,
the cooldown, an agent version change. ``trustctl.reasons`` says them in English."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, TypeAlias

from trustctl.rules import Metric, UnverifiedRule

__all__ = [
    "Bound",
    "Check",
    "CooldownRule",
    "CriticalFailure",
    "Finding",
    "MinDecisions",
    "NewVersion",
    "Unverified",
]


@dataclass(frozen=True)
class MinDecisions:
    """A gate's ``min_decisions``: enough decisions measured?"""

    metric: Metric
    n: int
    needed: int
    unverified: UnverifiedRule | None = None
    """For a success gate: how executed actions without a verified outcome were counted."""


@dataclass(frozen=True)
class Bound:
    """A gate's ``threshold``: the lower bound (promotion) or upper bound (demotion) against it."""

    metric: Metric
    k: int
    n: int
    confidence: float
    side: Literal["lower", "upper"]
    value: float
    """The exact bound."""
    threshold: float
    recent: str | None = None
    """For a demotion check on the recent record: ``demote.recent`` (``28d``)."""
    unverified: UnverifiedRule | None = None
    """For a success promotion gate: how executed actions without a verified outcome were
    counted (``count_as_failure``: ``n`` is every executed action)."""


@dataclass(frozen=True)
class Unverified:
    """A gate's ``max_unverified``: the share of executed actions with no verified outcome."""

    unverified: int
    executed: int
    allowed: float


@dataclass(frozen=True)
class CriticalFailure:
    """The latest critical failure in the window, and whether it was already answered."""

    decision: str | None
    at: dt.datetime
    answered_by: dt.datetime | None
    """The demotion that already answered it (it does not fire again)."""
    before_promotion: dt.datetime | None
    """The later promotion it preceded (it does not fire)."""


@dataclass(frozen=True)
class CooldownRule:
    """The cooldown after the last level change, blocking a promotion."""

    last_change: dt.datetime
    cooldown: str
    """As the rules give it (``7d``)."""
    ends: dt.datetime


@dataclass(frozen=True)
class NewVersion:
    """``agent_version_change: probation``: the agent version changed while at ``full``; the new
    version's own record against the ``full`` gates (all pass: the level holds)."""

    previous: str
    version: str
    at: dt.datetime
    """The new version's first decision."""
    gates: tuple[Check, ...]


Finding: TypeAlias = MinDecisions | Bound | Unverified | CriticalFailure | CooldownRule | NewVersion


@dataclass(frozen=True)
class Check:
    """One gate or rule, evaluated, as ``explain`` shows it."""

    rule: str
    """The rule's key path in the rules file, e.g. ``promote.auto_notify.agreement.threshold``."""
    passed: bool
    """For a demotion check: it holds (does not demote); for the cooldown: always ``False``."""
    finding: Finding
