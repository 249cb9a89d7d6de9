"""The rules file (``trustctl/v1``, kind ``TrustRules``): its model, defaults and loading (its
sections in ``rules_gates`` and ``rules_sections``, re-exported here)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Strict,
    ValidationError,
    model_serializer,
    model_validator,
)

from trustctl import yamlio
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
from trustctl.rules_sections import (
    DEFAULT_RISK_TIER_CAPS,
    DEFAULT_RISK_TIERS,
    DEFAULT_SYSTEM_TIER_CAPS,
    SEVERITIES,
    Approval,
    Caps,
    Economics,
    Pin,
    RiskTierPattern,
    Severity,
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
