"""The policy document built from verdicts: each group's action, its counts and bounds
(floats rounded, bounds outwards), the run's metadata."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

from trustctl import __version__, numbers
from trustctl.bounds import RateSummary
from trustctl.evidence import Evidence, GroupKey
from trustctl.ingest import IngestReport
from trustctl.policy_model import (
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

__all__ = ["build_policy"]


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
