"""The rules file's sections beside the gates: tier caps and risk tiers, pins, the sign-off
on promotions, economics."""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Annotated, Literal, cast

from pydantic import BeforeValidator, Field, Strict, field_validator, model_validator

from trustctl import times
from trustctl.levels import Level
from trustctl.rules_gates import LevelName, RulesModel
from trustctl.times import parse_duration

__all__ = [
    "DEFAULT_RISK_TIERS",
    "DEFAULT_RISK_TIER_CAPS",
    "DEFAULT_SYSTEM_TIER_CAPS",
    "SEVERITIES",
    "Approval",
    "Caps",
    "Economics",
    "Pin",
    "RiskTierPattern",
    "Severity",
]

DEFAULT_RISK_TIER_CAPS: dict[Literal[1, 2, 3], Level] = {
    1: Level.FULL,
    2: Level.AUTO_NOTIFY,
    3: Level.SUGGEST,
}
DEFAULT_SYSTEM_TIER_CAPS: dict[Literal[1, 2, 3, 4], Level] = {
    1: Level.FULL,
    2: Level.AUTO_NOTIFY,
    3: Level.SUGGEST,
    4: Level.OBSERVE,
}


class Caps(RulesModel):
    """The highest level allowed per tier, whatever the statistics say.

    Each map is laid over its defaults: a tier left out keeps its default cap, so
    a partial map can never lift a cap by omission.
    """

    risk_tier: dict[Literal[1, 2, 3], LevelName] = DEFAULT_RISK_TIER_CAPS
    system_tier: dict[Literal[1, 2, 3, 4], LevelName] = DEFAULT_SYSTEM_TIER_CAPS

    @field_validator("risk_tier")
    @classmethod
    def _over_risk_defaults(
        cls, given: dict[Literal[1, 2, 3], Level]
    ) -> dict[Literal[1, 2, 3], Level]:
        return {**DEFAULT_RISK_TIER_CAPS, **given}

    @field_validator("system_tier")
    @classmethod
    def _over_system_defaults(
        cls, given: dict[Literal[1, 2, 3, 4], Level]
    ) -> dict[Literal[1, 2, 3, 4], Level]:
        return {**DEFAULT_SYSTEM_TIER_CAPS, **given}

    def for_risk_tier(self, tier: int) -> Level:
        """The cap of risk tier 1..3 (ingest only lets those through)."""
        return self.risk_tier[cast(Literal[1, 2, 3], tier)]

    def for_system_tier(self, tier: int) -> Level:
        """The cap of system tier 1..4 (ingest only lets those through)."""
        return self.system_tier[cast(Literal[1, 2, 3, 4], tier)]


class RiskTierPattern(RulesModel):
    """Action classes matching ``pattern`` (a glob) have risk tier ``tier``."""

    pattern: str
    tier: Literal[1, 2, 3]


class Pin(RulesModel):
    """A human decision that sets a level whatever the evidence, until it expires."""

    action_class: str
    """Glob over action classes, e.g. ``db.*``."""
    system_tier: Literal[1, 2, 3, 4] | None = None
    """Only groups with decisions on this system tier."""
    level: LevelName
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    expires: Annotated[dt.datetime | None, BeforeValidator(times.instant_or_none)] = None
    """The pin is ignored (and reported) from this instant on; a date means its 00:00 UTC."""

    def matches(self, action_class: str, system_tiers: set[int]) -> bool:
        """Whether this pin covers a group."""
        if not fnmatch.fnmatchcase(action_class, self.action_class):
            return False
        return self.system_tier is None or self.system_tier in system_tiers

    def expires_at(self) -> dt.datetime | None:
        """``expires`` as an aware UTC datetime."""
        return self.expires


class Approval(RulesModel):
    """Which promotions wait for a person's sign-off, and for how long."""

    required_for: Annotated[tuple[LevelName, ...], Strict(False)] = (Level.FULL,)
    """Levels whose promotions are proposed, not applied, until approved; ``[]``: none."""
    expires: str = "14d"
    """A proposal not acted on lapses after this long (and a rejection holds this long)."""

    @model_validator(mode="after")
    def _check(self) -> Approval:
        try:
            parse_duration(self.expires)
        except ValueError as exc:
            raise ValueError(f"expires: {exc}") from None
        if Level.OBSERVE in self.required_for:
            raise ValueError("required_for: no promotion leads to observe")
        return self

    @property
    def expires_span(self) -> dt.timedelta:
        """``expires`` as a timedelta."""
        return parse_duration(self.expires)


Severity = Literal["minor", "major", "critical"]
SEVERITIES: tuple[Severity, ...] = ("minor", "major", "critical")


class Economics(RulesModel):
    """The price of waiting for a human and of a failure no human saw first (optional).

    It changes no level: it is left out of the rules' ``effective_sha256``, so adding it
    or changing a price never makes a policy stale.
    """

    review_delay_minutes: float = Field(gt=0, lt=10_000)
    """How long an action waits for a human at ``suggest`` before it runs."""
    downtime_cost_per_minute: float = Field(ge=0)
    """What a minute of remediation delay costs (an outage that lasts longer)."""
    failure_cost: dict[Severity, Annotated[float, Field(ge=0)]]
    """What one failure of each severity costs; a failure with no severity costs the most."""

    @field_validator("failure_cost")
    @classmethod
    def _every_severity(cls, given: dict[Severity, float]) -> dict[Severity, float]:
        missing = [s for s in SEVERITIES if s not in given]
        if missing:
            raise ValueError(f"needs a cost for every severity; missing: {', '.join(missing)}")
        return {s: given[s] for s in SEVERITIES}


DEFAULT_RISK_TIERS: tuple[RiskTierPattern, ...] = (
    RiskTierPattern(pattern="db.*", tier=3),
    RiskTierPattern(pattern="data.*", tier=3),
    RiskTierPattern(pattern="storage.*", tier=3),
    RiskTierPattern(pattern="*.rollback", tier=2),
    RiskTierPattern(pattern="*.failover", tier=2),
    RiskTierPattern(pattern="k8s.restart_pod", tier=1),
    RiskTierPattern(pattern="k8s.scale", tier=1),
    RiskTierPattern(pattern="cache.flush", tier=1),
    RiskTierPattern(pattern="*", tier=2),
)
