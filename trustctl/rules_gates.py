"""The rules file's statistics: bounds, promotion gates and demotion checks per level."""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from trustctl.levels import Level
from trustctl.times import parse_duration

__all__ = [
    "Bounds",
    "Demote",
    "DemoteAt",
    "DemoteGate",
    "LevelName",
    "Metric",
    "Promote",
    "PromoteGate",
    "PromoteTo",
    "RulesModel",
    "UnverifiedRule",
    "open_unit_interval_at",
]

LevelName = Annotated[Level, Strict(False)]
Metric = Literal["agreement", "success"]
UnverifiedRule = Literal["count_as_failure", "exclude"]


class RulesModel(BaseModel):
    """A part of the rules file: unknown keys refused, strict types, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _open_unit_interval(value: float) -> float:
    if value <= 0:
        raise ValueError("must be > 0")
    if value >= 1:
        raise ValueError("must be < 1")
    return value


class Bounds(RulesModel):
    """How a rate's uncertainty is turned into a gate."""

    method: Literal["clopper-pearson", "beta", "anytime"] = "clopper-pearson"
    """``clopper-pearson`` (exact, conservative), ``beta`` (quantile of the posterior) or
    ``anytime`` (a confidence sequence: valid however often the gate is re-checked)."""
    demotion_method: Literal["clopper-pearson", "beta", "anytime"] | None = None
    """The method of the upper bounds the demotion checks use; ``None``: ``method``. With
    ``method: anytime``, ``clopper-pearson`` here keeps demotion as fast as at one look."""
    confidence: float = 0.95
    """One-sided confidence of the lower (promotion) and upper (demotion) bounds."""
    prior: Annotated[tuple[float, float], Strict(False)] = (1.0, 1.0)
    """Beta prior ``[a, b]``, used by method ``beta`` and for the reported posterior."""

    @property
    def for_demotion(self) -> Literal["clopper-pearson", "beta", "anytime"]:
        """The method of the demotion checks' upper bounds."""
        return self.demotion_method or self.method

    @model_validator(mode="after")
    def _check(self) -> Bounds:
        open_unit_interval_at(self.confidence, "confidence")
        if self.prior[0] <= 0 or self.prior[1] <= 0:
            raise ValueError("prior: both parameters must be > 0")
        return self


def open_unit_interval_at(value: float, key: str) -> None:
    try:
        _open_unit_interval(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


class PromoteGate(RulesModel):
    """What one metric must show before a promotion."""

    min_decisions: int = Field(default=50, ge=1)
    """Minimum number of counted decisions (reviewed for agreement, verified for success)."""
    threshold: float
    """The bound (lower, at ``bounds.confidence``) must be at least this."""
    max_unverified: float | None = None
    """Success only: the largest allowed share of executed decisions without a verified outcome."""
    unverified: UnverifiedRule = "count_as_failure"
    """Success only: ``count_as_failure`` measures the rate on every executed decision, an
    unverified one counting as a failure; ``exclude`` measures it on verified ones only."""

    @model_validator(mode="after")
    def _check(self) -> PromoteGate:
        open_unit_interval_at(self.threshold, "threshold")
        if self.max_unverified is not None and not 0 <= self.max_unverified < 1:
            raise ValueError("max_unverified: must be in [0, 1)")
        return self


class PromoteTo(RulesModel):
    """The gates for promotion to one level; every gate given must pass."""

    agreement: PromoteGate | None = None
    success: PromoteGate | None = None

    @model_validator(mode="after")
    def _check(self) -> PromoteTo:
        if self.agreement is None and self.success is None:
            raise ValueError("needs at least one of 'agreement' or 'success'")
        if self.agreement is not None and self.agreement.max_unverified is not None:
            raise ValueError("agreement.max_unverified: only the success gate has it")
        # A dump of the rules (overrides, scenarios) repeats the default: only another value
        # says the agreement gate was given one.
        if self.agreement is not None and self.agreement.unverified != "count_as_failure":
            raise ValueError("agreement.unverified: only the success gate has it")
        return self

    def gates(self) -> list[tuple[Metric, PromoteGate]]:
        """The configured gates, agreement first."""
        return _by_metric(self.agreement, self.success)


class DemoteGate(RulesModel):
    """Demote when the metric's upper bound falls below ``threshold``."""

    threshold: float

    @model_validator(mode="after")
    def _check(self) -> DemoteGate:
        open_unit_interval_at(self.threshold, "threshold")
        return self


class DemoteAt(RulesModel):
    """Checks for groups at this level or above; a failing check drops to the level below it."""

    agreement: DemoteGate | None = None
    success: DemoteGate | None = None

    def gates(self) -> list[tuple[Metric, DemoteGate]]:
        """The configured checks, agreement first."""
        return _by_metric(self.agreement, self.success)


_Gate = TypeVar("_Gate", PromoteGate, DemoteGate)


def _by_metric(agreement: _Gate | None, success: _Gate | None) -> list[tuple[Metric, _Gate]]:
    pairs: tuple[tuple[Metric, _Gate | None], ...] = (
        ("agreement", agreement),
        ("success", success),
    )
    return [(metric, gate) for metric, gate in pairs if gate is not None]


class Promote(RulesModel):
    """Promotion gates per target level."""

    suggest: PromoteTo | None = PromoteTo(agreement=PromoteGate(min_decisions=30, threshold=0.8))
    auto_notify: PromoteTo | None = PromoteTo(
        agreement=PromoteGate(min_decisions=50, threshold=0.95)
    )
    full: PromoteTo | None = PromoteTo(
        agreement=PromoteGate(min_decisions=50, threshold=0.95),
        success=PromoteGate(min_decisions=200, threshold=0.99, max_unverified=0.05),
    )

    def to(self, level: Level) -> PromoteTo | None:
        """The gates for promotion to ``level`` (``None``: no promotion to it)."""
        return None if level is Level.OBSERVE else getattr(self, level.value)


class Demote(RulesModel):
    """Demotion checks per level, and where a critical failure sends a group."""

    critical_failure_to: LevelName = Level.SUGGEST
    recent: str | None = None
    """With a duration (``28d``), the checks also judge the record's last days: drift is
    caught in weeks even after months at a level."""
    suggest: DemoteAt | None = None
    auto_notify: DemoteAt | None = DemoteAt(agreement=DemoteGate(threshold=0.90))
    full: DemoteAt | None = DemoteAt(success=DemoteGate(threshold=0.97))

    @model_validator(mode="after")
    def _check(self) -> Demote:
        if self.recent is not None:
            try:
                if not parse_duration(self.recent):
                    raise ValueError("must be > 0")
            except ValueError as exc:
                raise ValueError(f"recent: {exc}") from None
        if self.critical_failure_to is Level.FULL:
            raise ValueError(
                "critical_failure_to: must be below full, or a critical failure would demote "
                "nothing"
            )
        return self

    def at(self, level: Level) -> DemoteAt | None:
        """The checks that apply from ``level`` upwards."""
        return None if level is Level.OBSERVE else getattr(self, level.value)
