"""The policy file: built from verdicts, written as YAML or JSON, read back (the serializer).

The document is ``trustctl.policy_model.Policy``; this is the one module that turns it
into plain keys and values and back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeAlias

from pydantic import ValidationError

from trustctl import __version__, numbers, times, yamlio
from trustctl.bounds import RateSummary
from trustctl.errors import PolicyError
from trustctl.evidence import Evidence, GroupKey
from trustctl.files import read_input
from trustctl.ingest import IngestReport
from trustctl.levels import Level
from trustctl.policy_model import (
    GROUP_FIELDS,
    Action,
    ActionEvidence,
    AgreementEvidence,
    BoundsSettings,
    CapEntry,
    DemotionRecord,
    IngestCounts,
    InputFile,
    LedgerHead,
    Metadata,
    NextStep,
    PinEntry,
    Policy,
    ProposalEntry,
    RulesFile,
    SuccessEvidence,
    Summary,
)
from trustctl.reasons import needs_text, reason_text
from trustctl.rules import LoadedRules
from trustctl.verdict import Verdict

__all__ = ["Plain", "build_policy", "load_policy", "to_data", "to_json", "to_yaml"]

Plain: TypeAlias = dict[str, "Plain"] | list["Plain"] | str | int | float | bool | None
"""Data as YAML and JSON hold it."""


# --- building --------------------------------------------------------------------------------


def _text_part(parts: dict[str, str | int], name: str) -> str | None:
    value = parts.get(name)
    return None if value in (None, "") else str(value)


def _record(
    record: Evidence,
    agreement: RateSummary,
    success: RateSummary,
    recent: DemotionRecord | None = None,
) -> DemotionRecord:
    return DemotionRecord(
        counted_from=record.counted_from,
        counted_from_reason=record.counted_from_reason,
        agreed=record.agreed,
        reviewed=record.reviewed,
        agreement_upper=numbers.outward(agreement.upper, lower=False),
        succeeded=record.succeeded,
        verified=record.verified,
        success_upper=numbers.outward(success.upper, lower=False),
        not_sampled=record.unsampled,
        recent=recent,
    )


def _recent(verdict: Verdict) -> DemotionRecord | None:
    recent = verdict.state.recent_evidence
    if recent is None or verdict.recent_agreement is None or verdict.recent_success is None:
        return None
    return _record(recent, verdict.recent_agreement, verdict.recent_success)


def _evidence_entry(verdict: Verdict) -> ActionEvidence:
    """The counts and bounds of a verdict, floats rounded (bounds outwards)."""
    state, evidence, record = verdict.state, verdict.state.evidence, verdict.state.demotion_evidence
    agreement, success = verdict.agreement, verdict.success
    return ActionEvidence(
        decisions=evidence.decisions,
        counted_from=evidence.counted_from,
        counted_from_reason=evidence.counted_from_reason,
        agreement=AgreementEvidence(
            agreed=evidence.agreed,
            reviewed=evidence.reviewed,
            timeouts=evidence.timeouts,
            rate=numbers.rounded(agreement.rate),
            mean=numbers.rounded(agreement.mean),
            lower=numbers.outward(agreement.lower, lower=True),
            upper=numbers.outward(agreement.upper, lower=False),
            threshold=verdict.threshold,
            p_at_least_threshold=numbers.rounded(verdict.p_agreement),
            not_sampled=evidence.unsampled,
        ),
        success=SuccessEvidence(
            succeeded=evidence.succeeded,
            verified=evidence.verified,
            unverified=evidence.unverified,
            executed=evidence.executed,
            rate=numbers.rounded(success.rate),
            mean=numbers.rounded(success.mean),
            lower=numbers.outward(success.lower, lower=True),
            upper=numbers.outward(success.upper, lower=False),
        ),
        critical_failures=state.critical_failures,
        last_critical_failure=state.last_critical_failure,
        for_demotion=_record(
            record, verdict.demotion_agreement, verdict.demotion_success, _recent(verdict)
        ),
    )


def _sampling(verdict: Verdict) -> Literal["unknown"] | None:
    """``unknown`` when a record agreement is judged on counts reviews of unknown sampling."""
    state = verdict.state
    records = (state.evidence, state.demotion_evidence, state.recent_evidence)
    unknown = any(r is not None and r.sampling_unknown for r in records)
    return "unknown" if unknown else None


def _action(
    verdict: Verdict, group_by: Sequence[str], proposed: ProposalEntry | None = None
) -> Action:
    state, pin = verdict.state, verdict.pin
    # Tier 0 and "" are parts not given: written as null.
    parts = dict(zip(group_by, state.key, strict=True))
    tier = parts.get("system_tier")
    return Action(
        action_class=str(state.key[0]),
        system_tier=tier if isinstance(tier, int) and tier else None,
        service=_text_part(parts, "service"),
        agent_version=_text_part(parts, "agent_version"),
        confidence=_text_part(parts, "confidence"),
        level=verdict.level,
        previous_level=verdict.previous_level,
        change=verdict.change,
        limited_by=verdict.limited_by,
        since=verdict.since,
        last_promoted=verdict.last_promoted,
        last_demoted=verdict.last_demoted,
        reason=reason_text(verdict.reason),
        agreement_sampling=_sampling(verdict),
        evidence=_evidence_entry(verdict),
        cap=CapEntry(level=verdict.cap.level, by=verdict.cap.limited_by),
        pin=None
        if pin is None
        else PinEntry(
            level=pin.pin.level,
            owner=pin.pin.owner,
            reason=pin.pin.reason,
            expires=pin.pin.expires_at(),
            active=pin.active,
        ),
        proposed=proposed,
        next=NextStep(
            level=verdict.next.level,
            needs=needs_text(verdict.next),
            clean_decisions_needed=verdict.next.clean_decisions_needed,
        ),
    )


def build_policy(
    verdicts: Sequence[Verdict],
    rules: LoadedRules,
    report: IngestReport,
    as_of: dt.datetime,
    after_as_of: int,
    filters: Sequence[str] = (),
    proposals: Mapping[GroupKey, ProposalEntry] | None = None,
    ledger: LedgerHead | None = None,
) -> Policy:
    """The policy document of some verdicts (``filters``: the ``--where`` applied), with the
    promotions waiting for sign-off and the head of the ledger written with it."""
    proposals = proposals or {}
    changes = [v.change for v in verdicts]
    group_by = rules.rules.key_fields
    bounds = rules.rules.bounds
    return Policy(
        apiVersion="trustctl/v1",
        kind="AutonomyPolicy",
        metadata=Metadata(
            as_of=as_of,
            generator=f"trustctl {__version__}",
            rules=RulesFile(
                path=rules.path,
                sha256=rules.sha256,
                overrides=rules.overrides,
                effective_sha256=rules.effective_sha256,
            ),
            bounds=BoundsSettings(
                method=bounds.method,
                confidence=bounds.confidence,
                prior=bounds.prior,
                demotion_method=bounds.demotion_method,
            ),
            group_by=tuple(group_by),
            inputs=tuple(
                InputFile(path=f.path, sha256=f.sha256, rows=f.rows, decisions=f.decisions)
                for f in report.files
            ),
            ingest=IngestCounts(
                rows=report.rows,
                decisions=report.decisions,
                after_as_of=after_as_of,
                naive_timestamps=report.naive_timestamps,
                skipped_decisions=report.skipped_decisions,
                skipped_rows=report.skipped_rows,
            ),
            filters=tuple(filters),
            summary=Summary(
                groups=len(verdicts),
                promoted=changes.count("promoted"),
                demoted=changes.count("demoted"),
                unchanged=changes.count("unchanged"),
                new=changes.count("new"),
                proposed=changes.count("proposed"),
            ),
            ledger=ledger,
        ),
        actions=tuple(_action(v, group_by, proposals.get(v.state.key)) for v in verdicts),
    )


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
