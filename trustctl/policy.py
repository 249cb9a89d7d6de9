"""The policy file: written as YAML or JSON, read back (the serializer).

The document is ``trustctl.policy_model.Policy``, built from verdicts by
``trustctl.policy_build`` (``build_policy``, re-exported here); this is the one module that
turns it into plain keys and values and back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TypeAlias

from pydantic import ValidationError

from trustctl import times, yamlio
from trustctl.errors import PolicyError
from trustctl.files import read_input
from trustctl.levels import Level
from trustctl.policy_build import build_policy
from trustctl.policy_model import (
    GROUP_FIELDS,
    Action,
    ActionEvidence,
    DemotionRecord,
    Metadata,
    Policy,
)

__all__ = ["Plain", "build_policy", "load_policy", "to_data", "to_json", "to_yaml"]

Plain: TypeAlias = dict[str, "Plain"] | list["Plain"] | str | int | float | bool | None
"""Data as YAML and JSON hold it."""


# --- writing ---------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else times.stamp(value)


def _level(value: Level | None) -> str | None:
    return None if value is None else value.value


def _metadata(meta: Metadata) -> dict[str, Plain]:
    data: dict[str, Plain] = {"as_of": times.stamp(meta.as_of), "generator": meta.generator}
    if meta.rules is not None:
        rules: dict[str, Plain] = {"path": meta.rules.path, "sha256": meta.rules.sha256}
        if meta.rules.overrides:
            rules["overrides"] = list(meta.rules.overrides)
            rules["effective_sha256"] = meta.rules.effective_sha256
        data["rules"] = rules
    if meta.bounds is not None:
        bounds: dict[str, Plain] = {
            "method": meta.bounds.method,
            "confidence": meta.bounds.confidence,
            "prior": list(meta.bounds.prior),
        }
        if meta.bounds.demotion_method is not None:
            bounds["demotion_method"] = meta.bounds.demotion_method
        data["bounds"] = bounds
    data["group_by"] = list(meta.group_by)
    data["inputs"] = [
        {"path": f.path, "sha256": f.sha256, "rows": f.rows, "decisions": f.decisions}
        for f in meta.inputs
    ]
    if meta.ingest is not None:
        i = meta.ingest
        data["ingest"] = {
            "rows": i.rows,
            "decisions": i.decisions,
            "after_as_of": i.after_as_of,
            "naive_timestamps": i.naive_timestamps,
            "skipped_decisions": i.skipped_decisions,
            "skipped_rows": i.skipped_rows,
        }
    if meta.filters:
        data["filters"] = list(meta.filters)
    if meta.summary is not None:
        s = meta.summary
        data["summary"] = {
            "groups": s.groups,
            "promoted": s.promoted,
            "demoted": s.demoted,
            "unchanged": s.unchanged,
            "new": s.new,
            "proposed": s.proposed,
        }
    if meta.ledger is not None:
        data["ledger"] = {"seq": meta.ledger.seq, "hash": meta.ledger.hash}
    return data


def _evidence(e: ActionEvidence) -> dict[str, Plain]:
    a, s = e.agreement, e.success
    return {
        "decisions": e.decisions,
        "counted_from": times.stamp(e.counted_from),
        "counted_from_reason": e.counted_from_reason,
        "agreement": {
            "agreed": a.agreed,
            "reviewed": a.reviewed,
            "timeouts": a.timeouts,
            "rate": a.rate,
            "mean": a.mean,
            "lower": a.lower,
            "upper": a.upper,
            "threshold": a.threshold,
            "p_at_least_threshold": a.p_at_least_threshold,
            **({"not_sampled": a.not_sampled} if a.not_sampled else {}),
        },
        "success": {
            "succeeded": s.succeeded,
            "verified": s.verified,
            "unverified": s.unverified,
            "executed": s.executed,
            "rate": s.rate,
            "mean": s.mean,
            "lower": s.lower,
            "upper": s.upper,
        },
        "critical_failures": e.critical_failures,
        "last_critical_failure": _when(e.last_critical_failure),
        "for_demotion": _record_data(e.for_demotion),
    }


def _record_data(r: DemotionRecord) -> dict[str, Plain]:
    data: dict[str, Plain] = {
        "counted_from": times.stamp(r.counted_from),
        "counted_from_reason": r.counted_from_reason,
        "agreed": r.agreed,
        "reviewed": r.reviewed,
        "agreement_upper": r.agreement_upper,
        "succeeded": r.succeeded,
        "verified": r.verified,
        "success_upper": r.success_upper,
    }
    if r.not_sampled:
        data["not_sampled"] = r.not_sampled
    if r.recent is not None:
        data["recent"] = _record_data(r.recent)
    return data


def _action_data(action: Action, group_by: Sequence[str]) -> dict[str, Plain]:
    data: dict[str, Plain] = {name: action.part(name) for name in group_by}
    data.update(
        level=_level(action.level),
        previous_level=_level(action.previous_level),
        change=action.change,
        limited_by=action.limited_by,
        since=_when(action.since),
        last_promoted=_when(action.last_promoted),
        last_demoted=_when(action.last_demoted),
        reason=action.reason,
    )
    if action.agreement_sampling is not None:
        data["agreement_sampling"] = action.agreement_sampling
    data.update(
        evidence=None if action.evidence is None else _evidence(action.evidence),
        cap=None
        if action.cap is None
        else {"level": _level(action.cap.level), "by": action.cap.by},
    )
    if action.pin is not None:
        pin = action.pin
        data["pin"] = {
            "level": _level(pin.level),
            "owner": pin.owner,
            "reason": pin.reason,
            "expires": _when(pin.expires),
            "active": pin.active,
        }
    if action.proposed is not None:
        proposed = action.proposed
        data["proposed"] = {
            "level": _level(proposed.level),
            "since": times.stamp(proposed.since),
            "reason": proposed.reason,
            "expires": _when(proposed.expires),
        }
    step = action.next
    data["next"] = (
        None
        if step is None
        else {
            "level": _level(step.level),
            "needs": step.needs,
            "clean_decisions_needed": step.clean_decisions_needed,
        }
    )
    return data


def to_data(policy: Policy) -> dict[str, Plain]:
    """The policy as plain, ordered data: what YAML and JSON hold, key for key."""
    group_by = [name for name in policy.metadata.group_by if name in GROUP_FIELDS]
    return {
        "apiVersion": policy.apiVersion,
        "kind": policy.kind,
        "metadata": _metadata(policy.metadata),
        "actions": [_action_data(a, group_by) for a in policy.actions],
    }


def to_yaml(policy: Policy) -> str:
    """The policy as YAML text."""
    return yamlio.dump(to_data(policy))


def to_json(policy: Policy) -> str:
    """The policy as JSON text (two-space indent, trailing newline)."""
    return json.dumps(to_data(policy), indent=2, ensure_ascii=False) + "\n"


# --- reading ---------------------------------------------------------------------------------


def load_policy(path: Path) -> Policy:
    """Read a policy file (YAML or JSON); raise ``PolicyError`` naming the key path."""
    try:
        raw = read_input(path)
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror or exc}") from None
    try:
        data = yamlio.load(raw)
    except yamlio.YAMLError as exc:
        raise PolicyError(f"{exc.where(path)}: not valid YAML or JSON: {exc.reason}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: a policy file must be a mapping (apiVersion, kind, ...)")
    if data.get("kind") != "AutonomyPolicy":
        # Checked first: a rules file given as a policy gets one line, not twenty.
        raise PolicyError(
            f"{path}: kind: expected 'AutonomyPolicy', found {data.get('kind')!r}; "
            "a policy file is what 'trustctl generate' writes"
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{path}: {loc}: {message}" if loc else f"{path}: {message}")
        raise PolicyError("\n".join(lines)) from None
