"""What ``oc`` finds, as data: each promotion gate's and demotion check's behaviour at known
true rates, and the report of one set of rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["GATES", "Drift", "Gate", "Promotion", "Report", "Steady"]

Gate = Literal["auto_notify", "full", "demote"]
GATES: tuple[Gate, ...] = ("auto_notify", "full", "demote")


@dataclass(frozen=True)
class Promotion:
    """How a promotion gate behaves for a class with a true rate, at one volume."""

    rule: str
    """The gate's key path, e.g. ``promote.auto_notify.agreement``."""
    threshold: float
    min_decisions: int
    volume: int
    """Decisions the gate counts per week."""
    rate: float
    """The class's true rate."""
    promoted: float
    """The probability of promotion within the horizon."""
    median_week: int | None
    """The week by which half of such classes are promoted; ``None``: later than the horizon."""
    exact: bool
    """Computed exactly (else by the seeded simulation)."""


@dataclass(frozen=True)
class Drift:
    """How fast a demotion check catches a drop, at one volume."""

    rule: str
    """The check's key path, e.g. ``demote.full.success``."""
    threshold: float
    volume: int
    before: float
    """The true rate for ``weeks_before`` weeks after the promotion."""
    after: float
    """The true rate from then on."""
    weeks_before: int
    demoted: float
    """The probability of demotion within the horizon after the drop (for classes still
    at the level when it happens)."""
    median_week: int | None
    """Weeks from the drop until half of them are demoted; ``None``: later than the horizon."""
    p90_week: int | None
    """Weeks from the drop until 90% of them are demoted; ``None``: later than the horizon."""
    demoted_before_drop: float
    """The share demoted before the drop (false demotions at ``before``)."""


@dataclass(frozen=True)
class Steady:
    """The chance that a demotion check fires on a class whose true rate never changes."""

    rule: str
    threshold: float
    volume: int
    rate: float
    demoted: float
    """The probability of demotion within the horizon after the promotion."""


@dataclass(frozen=True)
class Report:
    """The operating characteristics of one set of rules."""

    method: str
    demotion_method: str
    """The demotion checks' method (``bounds.demotion_method``, else ``method``)."""
    confidence: float
    weeks: int
    """The horizon: weekly runs looked at."""
    window: str
    window_weeks: int
    recent: str | None
    recent_weeks: int | None
    volumes: tuple[int, ...]
    seed: int
    runs: int
    """Classes simulated per row where a row is not exact."""
    promotions: tuple[Promotion, ...]
    drifts: tuple[Drift, ...]
    steady: tuple[Steady, ...]

    @property
    def simulated(self) -> bool:
        """Whether any number comes from the simulation."""
        return bool(self.drifts or self.steady) or not all(p.exact for p in self.promotions)
