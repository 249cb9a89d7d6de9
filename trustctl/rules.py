"""The rules file (``trustctl/v1``, kind ``TrustRules``): its model, defaults and loading."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from trustctl import times, yamlio
from trustctl.bands import Bands
from trustctl.errors import RulesError
from trustctl.files import read_input
from trustctl.levels import LADDER, Level
from trustctl.rules_gates import (
    Bounds,
    Demote,
    DemoteAt,
    DemoteGate,
    LevelName,
    Metric,
    Promote,
    PromoteGate,
    PromoteTo,
    RulesModel,
    UnverifiedRule,
    open_unit_interval_at,
)
from trustctl.suggest import did_you_mean, model_keys
from trustctl.times import MAX_DURATION_DAYS, parse_duration

__all__ = [
    "DEFAULT_RISK_TIERS",
    "DEFAULT_RISK_TIER_CAPS",
    "DEFAULT_SYSTEM_TIER_CAPS",
    "MAX_DURATION_DAYS",
    "SEVERITIES",
    "Approval",
    "Bounds",
    "Caps",
    "Demote",
    "DemoteAt",
    "DemoteGate",
    "Economics",
    "GroupField",
    "LevelName",
    "LoadedRules",
    "Metric",
    "Pin",
    "Promote",
    "PromoteGate",
    "PromoteTo",
    "RiskTierPattern",
    "Severity",
    "TrustRules",
    "UnverifiedRule",
    "load_rules",
    "parse_duration",
    "parse_rules",
]

GroupField = Literal["action_class", "system_tier", "service", "agent_version"]

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


class TrustRules(RulesModel):
    """Every knob of the decision, with the defaults of the shipped ``policies/rules.yaml``."""

    apiVersion: Literal["trustctl/v1"] = "trustctl/v1"
    kind: Literal["TrustRules"] = "TrustRules"
    initial_level: LevelName = Level.SUGGEST
    bounds: Bounds = Bounds()
    window: str = "180d"
    group_by: Annotated[tuple[GroupField, ...], Strict(False)] = ("action_class",)
    cooldown: str = "7d"
    reset_on_agent_version_change: bool = True
    agent_version_change: Literal["keep", "probation"] = "keep"
    """``probation``: a group at ``full`` whose agent version changes drops to ``auto_notify``
    unless the new version's own record passes the ``full`` gates."""
    promote: Promote = Promote()
    demote: Demote = Demote()
    caps: Caps = Caps()
    risk_tiers: Annotated[tuple[RiskTierPattern, ...], Strict(False)] = DEFAULT_RISK_TIERS
    pins: Annotated[tuple[Pin, ...], Strict(False)] = ()
    approval: Approval = Approval()
    economics: Economics | None = None
    """Prices for the review's and ``explain``'s cost of waiting; none: nothing assumed."""
    confidence_bands: Annotated[tuple[float, ...], Strict(False)] = ()
    """Cut points on ``ai_confidence`` (strictly increasing, each in (0, 1)): each group is
    split into bands (``<0.9``, ``>=0.9``, and ``none`` without a confidence) that earn
    levels apart. ``[]``: no split."""

    @model_serializer(mode="wrap")
    def _without_no_bands(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        # Rules without bands keep the canonical JSON, and so the sha256, they had before
        # (the Python form keeps the key: --set finds the rules' keys in it).
        data: dict[str, Any] = handler(self)
        if not self.confidence_bands and info.mode_is_json():
            data.pop("confidence_bands", None)
        return data

    @property
    def bands(self) -> Bands:
        """``confidence_bands`` as the bands decisions are split into."""
        return Bands(self.confidence_bands)

    @property
    def key_fields(self) -> tuple[str, ...]:
        """What a group's key is made of: ``group_by``, then ``confidence`` with bands."""
        return (*self.group_by, "confidence") if self.confidence_bands else self.group_by

    @model_validator(mode="after")
    def _check(self) -> TrustRules:
        for key in ("window", "cooldown"):
            try:
                parse_duration(getattr(self, key))
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
        if not self.window_span:
            raise ValueError("window: must be > 0")
        # Group keys are read positionally: key[0] is the action class everywhere.
        if self.group_by[:1] != ("action_class",):
            raise ValueError("group_by: must start with 'action_class'")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by: lists a key twice")
        self._check_hysteresis()
        self._check_bands()
        if self.agent_version_change == "probation" and self.promote.full is None:
            raise ValueError(
                "agent_version_change: probation judges the new version by the promote.full "
                "gates, and there are none"
            )
        return self

    def _check_bands(self) -> None:
        cuts = self.confidence_bands
        for index, cut in enumerate(cuts):
            open_unit_interval_at(cut, f"confidence_bands.{index}")
            if index and cut <= cuts[index - 1]:
                raise ValueError(
                    f"confidence_bands.{index}: {cut} must be above {cuts[index - 1]} "
                    "(cuts are strictly increasing)"
                )

    def _check_hysteresis(self) -> None:
        """Every promotion threshold must lie above the demotion threshold that guards it."""
        for level in LADDER:
            demote_at = self.demote.at(level)
            if demote_at is None:
                continue
            for metric, gate in demote_at.gates():
                for target in LADDER[level.rank :]:
                    promote_to = self.promote.to(target)
                    promote_gate = None if promote_to is None else getattr(promote_to, metric)
                    if promote_gate is not None and promote_gate.threshold <= gate.threshold:
                        raise ValueError(
                            f"promote.{target.value}.{metric}.threshold: must be above "
                            f"demote.{level.value}.{metric}.threshold ({gate.threshold}), "
                            "or levels would flap"
                        )

    @property
    def window_span(self) -> dt.timedelta:
        """The evidence window as a timedelta."""
        return parse_duration(self.window)

    @property
    def cooldown_span(self) -> dt.timedelta:
        """The cooldown as a timedelta."""
        return parse_duration(self.cooldown)

    def deciding(self) -> dict[str, Any]:
        """The rules that decide levels, as JSON data: all but ``economics``, which only
        prices them (what ``effective_sha256`` hashes)."""
        return self.model_dump(mode="json", exclude={"economics"})

    def risk_tier_of(self, action_class: str) -> int | None:
        """The risk tier of the first matching ``risk_tiers`` pattern, or ``None``."""
        for entry in self.risk_tiers:
            if fnmatch.fnmatchcase(action_class, entry.pattern):
                return entry.tier
        return None


_NESTED_KEY = re.compile(r"^([a-z_][a-z_.]*): ")


def _describe(errors: list[Any]) -> list[str]:
    lines = []
    for error in errors:
        loc = ".".join(str(part) for part in error["loc"] if part != "[key]")
        message = str(error["msg"]).removeprefix("Value error, ")
        nested = _NESTED_KEY.match(message)
        if loc and nested:  # a model check names its own key: join the paths
            loc, message = f"{loc}.{nested.group(1)}", message[nested.end() :]
        if error["type"] == "extra_forbidden":
            hint = did_you_mean(str(error["loc"][-1]), model_keys(TrustRules, error["loc"][:-1]))
            message = f"{message}; {hint}" if hint else message
        lines.append(f"{loc}: {message}" if loc else message)
    return lines


def parse_rules(data: Any, source: str) -> TrustRules:
    """Validate a parsed rules document; raise ``RulesError`` naming each bad key path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesError(f"{source}: a rules file must be a mapping (apiVersion, kind, ...)")
    try:
        return TrustRules.model_validate(data)
    except ValidationError as exc:
        details = "\n".join(f"{source}: {line}" for line in _describe(exc.errors()))
        raise RulesError(details) from None


class LoadedRules(BaseModel):
    """Rules together with where they came from, for the policy's metadata."""

    model_config = ConfigDict(frozen=True)

    rules: TrustRules
    path: str | None
    sha256: str | None
    overrides: tuple[str, ...] = ()
    """``--set KEY=VALUE`` laid over the file, in order (``trustctl.overrides``)."""
    effective_sha256: str | None = None
    """With overrides: the hash of the rules in effect (``overrides.effective_sha256``)."""


def load_rules(path: Path | None) -> LoadedRules:
    """Read a rules file, or return the built-in defaults when ``path`` is ``None``."""
    if path is None:
        return LoadedRules(rules=TrustRules(), path=None, sha256=None)
    try:
        raw = read_input(path)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read rules file: {exc.strerror or exc}") from None
    try:
        data = yamlio.load(raw)
    except yamlio.YAMLError as exc:
        raise RulesError(f"{exc.where(path)}: not valid YAML: {exc.reason}") from None
    return LoadedRules(
        rules=parse_rules(data, str(path)),
        path=str(path),
        sha256=hashlib.sha256(raw).hexdigest(),
    )
