"""One run against the ledger: what takes effect, promotions held for sign-off, approvals.

``decide`` says what the evidence earns; this module says what of it takes effect. A
promotion to a level in ``approval.required_for`` is proposed, not applied, until a person
approves it; a rejected one is not proposed again before ``approval.expires`` has passed;
demotions apply at once. Each group's change is an event for the ledger (its fields are
``signoff_events``', whose ``Context``, ``inputs_digest`` and ``rule_of`` are re-exported).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from trustctl.diff import label
from trustctl.errors import LedgerError
from trustctl.evidence import GroupKey
from trustctl.ledger import (
    Entry,
    Event,
    GroupHistory,
    Kind,
    Proposal,
    Rejection,
    instant,
)
from trustctl.levels import Level
from trustctl.reasons import needs_text, reason_text
from trustctl.rules import Approval
from trustctl.signoff_events import (
    Context,
    event_of,
    initial_event,
    inputs_digest,
    lapse_event,
    pin_events,
    promotion_of,
    rule_of,
)
from trustctl.times import stamp
from trustctl.verdict import (
    Approved,
    Next,
    Proposed,
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


def _needs_signoff(verdict: Verdict, approval: Approval) -> bool:
    return promotion_of(verdict) is not None and verdict.level in approval.required_for


def _held(verdict: Verdict, proposal: Proposal, label: str) -> Verdict:
    """``verdict``, a promotion, held at its level while ``proposal`` waits for a person."""
    state, promotion = verdict.state, promotion_of(verdict)
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
    events: list[Event] = [] if before is not None else [initial_event(ctx, verdict)]
    events += pin_events(ctx, verdict, None if before is None else before.pin)
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
            events.append(lapse_event(ctx, verdict, pending, "lapsed unanswered"))
        if rejection is not None and rejection.level is target:
            return Outcome(_rejected(verdict, rejection), verdict, None, rejection, tuple(events))
        expires = ctx.as_of + ctx.approval.expires_span
        waiting = Proposal(target, stamp(ctx.as_of), "", stamp(expires))
        held = _held(verdict, waiting, name)
        proposal = replace(waiting, reason=reason_text(held.reason))
        events.append(
            event_of(
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
        events.append(lapse_event(ctx, verdict, pending, why))
    if verdict.level is not verdict.previous_level:
        kind: Kind = "promoted" if verdict.level.rank > verdict.previous_level.rank else "demoted"
        events.append(
            event_of(
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


def settle(
    verdicts: Sequence[Verdict], before: Mapping[GroupKey, GroupHistory], ctx: Context
) -> tuple[Outcome, ...]:
    """Every group's outcome of a run at ``ctx.as_of`` on the ledger's state ``before`` it."""
    return tuple(_settle(v, before.get(v.state.key), ctx) for v in verdicts)


def approve(outcome: Outcome, by: str, reason: str, ctx: Context) -> tuple[Outcome, Event]:
    """Apply the waiting promotion of ``outcome``; raise ``LedgerError`` when none waits."""
    proposal, earned = outcome.proposal, outcome.earned
    promotion = promotion_of(earned)
    if proposal is None or promotion is None or earned.level is not proposal.level:
        raise LedgerError(f"nothing to approve: {reason_text(outcome.verdict.reason)}")
    verdict = replace(
        earned,
        reason=Approved(earned.previous_level, earned.level, promotion.gates, by, reason),
    )
    event = event_of(
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
