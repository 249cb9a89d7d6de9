"""The policy file (``trustctl/v1``, kind ``AutonomyPolicy``): building, reading and writing it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from trustctl import __version__, yamlio
from trustctl.decide import Verdict, stamp
from trustctl.errors import PolicyError
from trustctl.evidence import GroupKey, PriorState
from trustctl.ingest import IngestReport
from trustctl.levels import Level
from trustctl.rules import LoadedRules

_DIGITS = 6


_QUANTUM = Decimal(1).scaleb(-_DIGITS)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, _DIGITS)


def _round_down(value: float) -> float:
    """A lower bound to 6 places, never above the exact value (no false pass on re-reading)."""
    return float(Decimal(value).quantize(_QUANTUM, rounding=ROUND_FLOOR))


def _round_up(value: float) -> float:
    """An upper bound to 6 places, never below the exact value."""
    return float(Decimal(value).quantize(_QUANTUM, rounding=ROUND_CEILING))


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else stamp(value)


def key_fields(group_by: Sequence[str], key: GroupKey) -> dict[str, Any]:
    """A group key as the mapping written in the policy (tier 0 and ``""`` become null)."""
    return {
        name: (value if value not in (0, "") else None)
        for name, value in zip(group_by, key, strict=True)
    }


def _action(verdict: Verdict, group_by: Sequence[str]) -> dict[str, Any]:
    state, evidence, record = verdict.state, verdict.state.evidence, verdict.state.demotion_evidence
    agreement, success = verdict.agreement, verdict.success
    entry: dict[str, Any] = key_fields(group_by, state.key)
    entry.update(
        level=verdict.level.value,
        previous_level=verdict.previous_level.value,
        change=verdict.change,
        limited_by=verdict.limited_by,
        since=_when(verdict.since),
        last_promoted=_when(verdict.last_promoted),
        last_demoted=_when(verdict.last_demoted),
        reason=verdict.reason,
        evidence={
            "decisions": evidence.decisions,
            "counted_from": _when(evidence.counted_from),
            "counted_from_reason": evidence.counted_from_reason,
            "agreement": {
                "agreed": evidence.agreed,
                "reviewed": evidence.reviewed,
                "timeouts": evidence.timeouts,
                "rate": _round(agreement.rate),
                "mean": _round(agreement.mean),
                "lower": _round_down(agreement.lower),
                "upper": _round_up(agreement.upper),
                "threshold": verdict.threshold,
                "p_at_least_threshold": _round(verdict.p_agreement),
            },
            "success": {
                "succeeded": evidence.succeeded,
                "verified": evidence.verified,
                "unverified": evidence.unverified,
                "executed": evidence.executed,
                "rate": _round(success.rate),
                "mean": _round(success.mean),
                "lower": _round_down(success.lower),
                "upper": _round_up(success.upper),
            },
            "critical_failures": state.critical_failures,
            "last_critical_failure": _when(state.last_critical_failure),
            "for_demotion": {
                "counted_from": _when(record.counted_from),
                "counted_from_reason": record.counted_from_reason,
                "agreed": record.agreed,
                "reviewed": record.reviewed,
                "agreement_upper": _round_up(verdict.demotion_agreement.upper),
                "succeeded": record.succeeded,
                "verified": record.verified,
                "success_upper": _round_up(verdict.demotion_success.upper),
            },
        },
        cap={"level": verdict.cap.level.value, "by": verdict.cap.limited_by},
    )
    if verdict.pin is not None:
        pin = verdict.pin.pin
        entry["pin"] = {
            "level": pin.level.value,
            "owner": pin.owner,
            "reason": pin.reason,
            "expires": _when(pin.expires_at()),
            "active": verdict.pin.active,
        }
    entry["next"] = {
        "level": None if verdict.next.level is None else verdict.next.level.value,
        "needs": verdict.next.needs,
        "clean_decisions_needed": verdict.next.clean_decisions_needed,
    }
    return entry


def build_policy(
    verdicts: Sequence[Verdict],
    rules: LoadedRules,
    report: IngestReport,
    as_of: dt.datetime,
    after_as_of: int,
) -> dict[str, Any]:
    """The policy document as plain, ordered data (ready for YAML or JSON)."""
    changes = [v.change for v in verdicts]
    group_by = rules.rules.group_by
    return {
        "apiVersion": "trustctl/v1",
        "kind": "AutonomyPolicy",
        "metadata": {
            "as_of": stamp(as_of),
            "generator": f"trustctl {__version__}",
            "rules": {"path": rules.path, "sha256": rules.sha256},
            "bounds": {
                "method": rules.rules.bounds.method,
                "confidence": rules.rules.bounds.confidence,
                "prior": list(rules.rules.bounds.prior),
            },
            "group_by": list(group_by),
            "inputs": [
                {"path": f.path, "sha256": f.sha256, "rows": f.rows, "decisions": f.decisions}
                for f in report.files
            ],
            "ingest": {
                "rows": report.rows,
                "decisions": report.decisions,
                "after_as_of": after_as_of,
                "naive_timestamps": report.naive_timestamps,
                "skipped_decisions": report.skipped_decisions,
                "skipped_rows": report.skipped_rows,
            },
            "summary": {
                "groups": len(verdicts),
                "promoted": changes.count("promoted"),
                "demoted": changes.count("demoted"),
                "unchanged": changes.count("unchanged"),
                "new": changes.count("new"),
            },
        },
        "actions": [_action(v, group_by) for v in verdicts],
    }


def to_yaml(policy: dict[str, Any]) -> str:
    """The policy as YAML text."""
    return yamlio.dump(policy)


def to_json(policy: dict[str, Any]) -> str:
    """The policy as JSON text (two-space indent, trailing newline)."""
    return json.dumps(policy, indent=2, ensure_ascii=False) + "\n"


class PolicyAction(BaseModel):
    """One entry of a policy file, as far as trustctl reads it back."""

    model_config = ConfigDict(extra="allow", frozen=True)

    action_class: str
    level: Level
    change: Literal["promoted", "demoted", "unchanged", "new"] | None = None
    since: dt.datetime | None = None
    last_promoted: dt.datetime | None = None
    last_demoted: dt.datetime | None = None
    reason: str | None = None


class PolicyMetadata(BaseModel):
    """The policy's metadata, as far as trustctl reads it back."""

    model_config = ConfigDict(extra="allow", frozen=True)

    as_of: dt.datetime
    group_by: tuple[str, ...] = ("action_class",)

    @field_validator("as_of")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value


class PolicyDocument(BaseModel):
    """A policy file read back (``--previous``, ``check``, ``diff``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    apiVersion: Literal["trustctl/v1"]
    kind: Literal["AutonomyPolicy"]
    metadata: PolicyMetadata
    actions: tuple[PolicyAction, ...]

    @model_validator(mode="after")
    def _one_entry_per_group(self) -> PolicyDocument:
        seen: dict[GroupKey, int] = {}
        for index, action in enumerate(self.actions):
            first = seen.setdefault(self.key_of(action), index)
            if first != index:
                raise ValueError(
                    f"actions.{index}: the group of actions.{first} ({action.action_class}) "
                    "appears twice; a group has one level"
                )
        return self

    def key_of(self, action: PolicyAction) -> GroupKey:
        """The group key of an entry under this policy's ``group_by``."""
        extra = action.model_extra or {}
        parts: list[str | int] = []
        for name in self.metadata.group_by:
            value = action.action_class if name == "action_class" else extra.get(name)
            if name == "system_tier":
                parts.append(int(value) if value is not None else 0)
            else:
                parts.append("" if value is None else str(value))
        return tuple(parts)

    def by_key(self) -> dict[GroupKey, PolicyAction]:
        """Entries keyed by group."""
        return {self.key_of(a): a for a in self.actions}

    def prior_states(self) -> dict[GroupKey, PriorState]:
        """What ``generate --previous`` needs from each entry."""
        return {
            key: PriorState(
                level=a.level,
                since=_utc(a.since),
                last_promoted=_utc(a.last_promoted),
                last_demoted=_utc(a.last_demoted),
                cap=_cap_of(a),
            )
            for key, a in self.by_key().items()
        }


def _cap_of(action: PolicyAction) -> tuple[Level, str] | None:
    """The ``cap`` an entry records, when it names a level and what set it."""
    cap = (action.model_extra or {}).get("cap")
    if not isinstance(cap, dict) or cap.get("by") is None:
        return None
    try:
        return Level(cap.get("level")), str(cap["by"])
    except ValueError:
        return None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def load_policy(path: Path) -> PolicyDocument:
    """Read a policy file (YAML or JSON); raise ``PolicyError`` naming the key path."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc}") from None
    try:
        data = yamlio.load(text)
    except yamlio.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy file must be a mapping (apiVersion, kind, ...)")
    if data.get("kind") != "AutonomyPolicy":
        # Checked first: a rules file given as a policy gets one line, not twenty.
        raise PolicyError(
            f"{path}: kind: expected 'AutonomyPolicy', found {data.get('kind')!r}; "
            "a policy file is what 'trustctl generate' writes"
        )
    try:
        return PolicyDocument.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{path}: {loc}: {message}" if loc else f"{path}: {message}")
        raise PolicyError("\n".join(lines)) from None
