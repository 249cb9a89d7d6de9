"""One run against the ledger: the events it records, promotions held for sign-off, approvals.

``decide`` says what the evidence earns; this module says what of it takes effect. A
promotion to a level in ``approval.required_for`` is proposed, not applied, until a person
approves it; a rejected one is not proposed again before ``approval.expires`` has passed;
demotions apply at once. Each group's change is an event for the ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from trustctl import numbers
from trustctl.diff import label
from trustctl.errors import LedgerError
from trustctl.evidence import GroupKey
from trustctl.ledger import (
    TRUSTCTL,
    Entry,
    Event,
    EvidenceNumbers,
    GroupHistory,
    History,
    Kind,
    PinRecord,
    Proposal,
    Rejection,
    Source,
    canonical,
    instant,
)
from trustctl.levels import Level
from trustctl.reasons import needs_text, reason_text
from trustctl.rules import Approval
from trustctl.times import stamp
from trustctl.verdict import (
    Approved,
    CappedDown,
    Demoted,
    Next,
    PinExpired,
    Pinned,
    Promoted,
    Proposed,
    Reason,
    Rejected,
    RejectedUntil,
    SignOff,
    Verdict,
)

__all__ = [
    "Context",
    "Outcome",
    "apply_signed",
    "approve",
    "inputs_digest",
    "reject",
    "rejected_needs",
    "rejected_reason",
    "rule_of",
    "settle",
]


@dataclass(frozen=True)
class Context:
    """What every event of one run shares."""

    as_of: dt.datetime
    group_by: tuple[str, ...]
    inputs_sha256: str | None
    rules_sha256: str
    version: str
    approval: Approval


@dataclass(frozen=True)
class Outcome:
    """What one group's run comes to, and the events that record it."""

    verdict: Verdict
    """The verdict in force: ``earned`` held at its level while a proposal waits."""
    earned: Verdict
    """What the evidence alone gives (``decide``'s verdict)."""
    proposal: Proposal | None
    """The promotion waiting for sign-off after this run."""
    rejection: Rejection | None
    """The rejection that keeps the group from being proposed again, while it holds."""
    events: tuple[Event, ...]


def inputs_digest(sha256s: Sequence[str]) -> str:
    """The sha256 of the inputs: of the canonical JSON list of their sha256s, sorted."""
    return hashlib.sha256(canonical({"inputs": sorted(sha256s)})).hexdigest()


def _bound(value: float, lower: bool) -> str:
    return numbers.bound_text(value, numbers.PLACES, lower)


def _evidence_numbers(verdict: Verdict) -> EvidenceNumbers:
    """The counts and bounds a level change rests on (bounds as 6-place decimal text)."""
    evidence, record = verdict.state.evidence, verdict.state.demotion_evidence
    return {
        "decisions": evidence.decisions,
        "counted_from": stamp(evidence.counted_from),
        "agreed": evidence.agreed,
        "reviewed": evidence.reviewed,
        "agreement_lower": _bound(verdict.agreement.lower, lower=True),
        "succeeded": evidence.succeeded,
        "verified": evidence.verified,
        "unverified": evidence.unverified,
        "executed": evidence.executed,
        "success_lower": _bound(verdict.success.lower, lower=True),
        "critical_failures": verdict.state.critical_failures,
        "demotion_agreed": record.agreed,
        "demotion_reviewed": record.reviewed,
        "demotion_agreement_upper": _bound(verdict.demotion_agreement.upper, lower=False),
        "demotion_succeeded": record.succeeded,
        "demotion_verified": record.verified,
        "demotion_success_upper": _bound(verdict.demotion_success.upper, lower=False),
    }


def _unwrapped(reason: Reason) -> Reason:
    return reason.reason if isinstance(reason, PinExpired) else reason


def rule_of(verdict: Verdict) -> str:
    """The rule that moved a group: ``pins``, a cap, a demotion check or ``promote.<level>``."""
    reason = _unwrapped(verdict.reason)
    if isinstance(reason, Pinned):
        return "pins"
    if isinstance(reason, CappedDown):
        return reason.cap.limited_by or "caps"
    if isinstance(reason, Demoted):
        return reason.check.rule
    return f"promote.{verdict.level.value}"


def _promotion(verdict: Verdict) -> Promoted | None:
    reason = _unwrapped(verdict.reason)
    return reason if isinstance(reason, Promoted) else None


def _key_fields(group_by: Sequence[str], key: GroupKey) -> dict[str, str | int | None]:
    return {
        name: (value if value not in (0, "") else None)
        for name, value in zip(group_by, key, strict=True)
    }


def _event(
    ctx: Context,
    verdict: Verdict,
    kind: Kind,
    levels: tuple[Level | None, Level | None],
    rule: str,
    reason: str,
    *,
    actor: str = TRUSTCTL,
    history: History | None = None,
    expires: dt.datetime | None = None,
) -> Event:
    return Event(
        at=stamp(ctx.as_of),
        kind=kind,
        group=_key_fields(ctx.group_by, verdict.state.key),
        from_level=levels[0],
        to_level=levels[1],
        rule=rule,
        reason=reason,
        evidence=None
        if kind in ("initial", "pinned", "unpinned", "expired")
        else _evidence_numbers(verdict),
        inputs_sha256=ctx.inputs_sha256,
        rules_sha256=ctx.rules_sha256,
        version=ctx.version,
        actor=actor,
        history=history,
        expires=None if expires is None else stamp(expires),
    )


def _initial(ctx: Context, verdict: Verdict) -> Event:
    state = verdict.state
    source: Source = "previous policy" if state.current_source == "previous policy" else "log"
    since = state.level_since
    cap = state.inherited_cap
    why = (
        "the level of the previous policy"
        if source == "previous policy"
        else "the mode of its latest decision in the log"
    )
    return _event(
        ctx,
        verdict,
        "initial",
        (None, state.current),
        "initial",
        f"starts at {state.current.value}: {why}",
        history=History(
            source=source,
            since=None if since is None else stamp(since),
            last_promoted=None if state.last_promoted is None else stamp(state.last_promoted),
            last_demoted=None if state.last_demoted is None else stamp(state.last_demoted),
            cap=None if cap is None else {"level": cap[0].value, "by": cap[1]},
        ),
    )


def _pin_events(ctx: Context, verdict: Verdict, recorded: PinRecord | None) -> list[Event]:
    status = verdict.pin
    if status is not None and status.active:
        pin = status.pin
        now = PinRecord(level=pin.level, owner=pin.owner, reason=pin.reason)
        if now == recorded:
            return []
        levels = (None if recorded is None else recorded.level, pin.level)
        return [
            _event(
                ctx, verdict, "pinned", levels, "pins", pin.reason,
                actor=pin.owner, expires=pin.expires_at(),
            )
        ]  # fmt: skip
    if recorded is None:
        return []
    if status is not None:
        expiry = status.pin.expires_at()
        when = "an unknown date" if expiry is None else stamp(expiry)
        kind: Kind = "expired"
        reason = f"the pin at {recorded.level.value} by {recorded.owner} expired on {when}"
    else:
        kind = "unpinned"
        reason = (
            f"the pin at {recorded.level.value} by {recorded.owner} was removed from the "
            f"rules (it said: {recorded.reason})"
        )
    return [
        _event(ctx, verdict, kind, (recorded.level, None), "pins", reason, actor=recorded.owner)
    ]


def _needs_signoff(verdict: Verdict, approval: Approval) -> bool:
    return _promotion(verdict) is not None and verdict.level in approval.required_for


def _held(verdict: Verdict, proposal: Proposal, label: str) -> Verdict:
    """``verdict``, a promotion, held at its level while ``proposal`` waits for a person."""
    state, promotion = verdict.state, _promotion(verdict)
    gates = () if promotion is None else promotion.gates
    expires = None if proposal.expires is None else instant(proposal.expires)
    return replace(
        verdict,
        level=verdict.previous_level,
        change="proposed",
        limited_by="approval",
        since=state.level_since or state.last_change,
        last_promoted=state.last_promoted,
        reason=Proposed(verdict.previous_level, proposal.level, gates, instant(proposal.since)),
        next=Next(proposal.level, (SignOff(label, expires),), 0),
    )


def _settle(verdict: Verdict, before: GroupHistory | None, ctx: Context) -> Outcome:
    events: list[Event] = [] if before is not None else [_initial(ctx, verdict)]
    events += _pin_events(ctx, verdict, None if before is None else before.pin)
    pending = None if before is None else before.proposal
    rejection = None if before is None else before.rejection
    if rejection is not None and (rejection.until is None or instant(rejection.until) <= ctx.as_of):
        rejection = None
    name = label(ctx.group_by, verdict.state.key)
    if _needs_signoff(verdict, ctx.approval):
        target = verdict.level
        lapsed = pending is not None and (
            pending.expires is not None and instant(pending.expires) <= ctx.as_of
        )
        if pending is not None and pending.level is target and not lapsed:
            return Outcome(_held(verdict, pending, name), verdict, pending, None, tuple(events))
        if pending is not None:
            events.append(_lapse(ctx, verdict, pending, "lapsed unanswered"))
        if rejection is not None and rejection.level is target:
            return Outcome(_rejected(verdict, rejection), verdict, None, rejection, tuple(events))
        expires = ctx.as_of + ctx.approval.expires_span
        waiting = Proposal(target, stamp(ctx.as_of), "", stamp(expires))
        held = _held(verdict, waiting, name)
        proposal = replace(waiting, reason=reason_text(held.reason))
        events.append(
            _event(
                ctx,
                verdict,
                "proposed",
                (verdict.previous_level, target),
                "approval.required_for",
                proposal.reason,
                expires=expires,
            )
        )
        return Outcome(held, verdict, proposal, None, tuple(events))
    if pending is not None and verdict.level is verdict.previous_level:
        why = f"no longer earned: {reason_text(verdict.reason)}"
        events.append(_lapse(ctx, verdict, pending, why))
    if verdict.level is not verdict.previous_level:
        kind: Kind = "promoted" if verdict.level.rank > verdict.previous_level.rank else "demoted"
        events.append(
            _event(
                ctx, verdict, kind, (verdict.previous_level, verdict.level), rule_of(verdict),
                reason_text(verdict.reason),
            )
        )  # fmt: skip
    return Outcome(verdict, verdict, None, None, tuple(events))


def _rejection_reason(level: Level, rejection: Rejection) -> Rejected:
    return Rejected(
        level,
        rejection.level,
        rejection.by,
        instant(rejection.at),
        rejection.reason,
        None if rejection.until is None else instant(rejection.until),
    )


def _rejection_next(rejection: Rejection) -> Next:
    until = None if rejection.until is None else instant(rejection.until)
    return Next(rejection.level, (RejectedUntil(rejection.by, until),), None)


def rejected_reason(level: Level, rejection: Rejection) -> str:
    """The reason of a group whose promotion to ``rejection.level`` was rejected."""
    return reason_text(_rejection_reason(level, rejection))


def rejected_needs(rejection: Rejection) -> str:
    """What the next promotion of a rejected group needs."""
    return needs_text(_rejection_next(rejection))


def _rejected(verdict: Verdict, rejection: Rejection) -> Verdict:
    """``verdict``, a promotion, held at its level by a person's rejection."""
    state = verdict.state
    return replace(
        verdict,
        level=verdict.previous_level,
        change="unchanged",
        limited_by="approval",
        since=state.level_since or state.last_change,
        last_promoted=state.last_promoted,
        reason=_rejection_reason(verdict.previous_level, rejection),
        next=_rejection_next(rejection),
    )


def _lapse(ctx: Context, verdict: Verdict, pending: Proposal, why: str) -> Event:
    return _event(
        ctx,
        verdict,
        "expired",
        (verdict.previous_level, pending.level),
        "approval.expires" if why == "lapsed unanswered" else "approval",
        f"the proposal of {pending.since} to {pending.level.value} {why}",
    )


def settle(
    verdicts: Sequence[Verdict], before: Mapping[GroupKey, GroupHistory], ctx: Context
) -> tuple[Outcome, ...]:
    """Every group's outcome of a run at ``ctx.as_of`` on the ledger's state ``before`` it."""
    return tuple(_settle(v, before.get(v.state.key), ctx) for v in verdicts)


def approve(outcome: Outcome, by: str, reason: str, ctx: Context) -> tuple[Outcome, Event]:
    """Apply the waiting promotion of ``outcome``; raise ``LedgerError`` when none waits."""
    proposal, earned = outcome.proposal, outcome.earned
    promotion = _promotion(earned)
    if proposal is None or promotion is None or earned.level is not proposal.level:
        raise LedgerError(f"nothing to approve: {reason_text(outcome.verdict.reason)}")
    verdict = replace(
        earned,
        reason=Approved(earned.previous_level, earned.level, promotion.gates, by, reason),
    )
    event = _event(
        ctx, earned, "approved", (earned.previous_level, earned.level), "approval", reason,
        actor=by,
    )  # fmt: skip
    return replace(outcome, verdict=verdict, proposal=None), event


def reject(
    outcome_level: Level,
    proposal: Proposal,
    by: str,
    reason: str,
    ctx: Context,
    group: dict[str, str | int | None],
) -> tuple[Rejection, Event]:
    """A person's rejection of a waiting promotion, held for ``approval.expires``."""
    until = ctx.as_of + ctx.approval.expires_span
    rejection = Rejection(proposal.level, stamp(ctx.as_of), by, reason, stamp(until))
    event = Event(
        at=stamp(ctx.as_of),
        kind="rejected",
        group=group,
        from_level=outcome_level,
        to_level=proposal.level,
        rule="approval",
        reason=reason,
        evidence=None,
        inputs_sha256=ctx.inputs_sha256,
        rules_sha256=ctx.rules_sha256,
        version=ctx.version,
        actor=by,
        expires=stamp(until),
    )
    return rejection, event


def apply_signed(
    outcomes: Sequence[Outcome], signed: Sequence[Entry], ctx: Context
) -> tuple[Outcome, ...]:
    """``outcomes`` with the approvals and rejections the ledger records at ``ctx.as_of``."""
    by_key = {o.verdict.state.key: o for o in outcomes}
    for entry in signed:
        key = tuple(
            (int(v) if isinstance(v, int) else 0)
            if n == "system_tier"
            else ("" if v is None else str(v))
            for n, v in ((n, entry.group.get(n)) for n in ctx.group_by)
        )
        outcome = by_key.get(key)
        if (
            outcome is None
            or outcome.proposal is None
            or outcome.proposal.level is not entry.to_level
        ):
            raise LedgerError(
                f"line {entry.seq}: {entry.kind} at {entry.at}, but a run as of then proposes no "
                f"promotion of {label(ctx.group_by, key)} to {entry.to_level}"
            )
        if entry.kind == "approved":
            approved, _ = approve(outcome, entry.actor, entry.reason, ctx)
            by_key[key] = approved
        else:
            rejection = Rejection(
                outcome.proposal.level, entry.at, entry.actor, entry.reason, entry.expires
            )
            by_key[key] = replace(
                outcome,
                verdict=_rejected(outcome.earned, rejection),
                proposal=None,
                rejection=rejection,
            )
    return tuple(by_key[o.verdict.state.key] for o in outcomes)
