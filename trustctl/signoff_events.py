"""The ledger events of one run: what every event shares, and each one's fields from a verdict."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from trustctl import numbers
from trustctl.evidence import GroupKey
from trustctl.ledger import (
    TRUSTCTL,
    Event,
    EvidenceNumbers,
    History,
    Kind,
    PinRecord,
    Proposal,
    Source,
    canonical,
)
from trustctl.levels import Level
from trustctl.rules import Approval
from trustctl.times import stamp
from trustctl.verdict import CappedDown, Demoted, PinExpired, Pinned, Promoted, Reason, Verdict

__all__ = [
    "Context",
    "event_of",
    "initial_event",
    "inputs_digest",
    "lapse_event",
    "pin_events",
    "promotion_of",
    "rule_of",
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


def promotion_of(verdict: Verdict) -> Promoted | None:
    """The promotion ``verdict`` records (through an expired pin), if it is one."""
    reason = _unwrapped(verdict.reason)
    return reason if isinstance(reason, Promoted) else None


def _key_fields(group_by: Sequence[str], key: GroupKey) -> dict[str, str | int | None]:
    return {
        name: (value if value not in (0, "") else None)
        for name, value in zip(group_by, key, strict=True)
    }


def event_of(
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
    """One event of the run about ``verdict``'s group; the evidence's numbers for a level change."""
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


def initial_event(ctx: Context, verdict: Verdict) -> Event:
    """A group's first entry: the level it starts at, and where that level came from."""
    state = verdict.state
    source: Source = "previous policy" if state.current_source == "previous policy" else "log"
    since = state.level_since
    cap = state.inherited_cap
    why = (
        "the level of the previous policy"
        if source == "previous policy"
        else "the mode of its latest decision in the log"
    )
    return event_of(
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


def pin_events(ctx: Context, verdict: Verdict, recorded: PinRecord | None) -> list[Event]:
    """The pin a group gained, changed, lost or saw expire since ``recorded``."""
    status = verdict.pin
    if status is not None and status.active:
        pin = status.pin
        now = PinRecord(level=pin.level, owner=pin.owner, reason=pin.reason)
        if now == recorded:
            return []
        levels = (None if recorded is None else recorded.level, pin.level)
        return [
            event_of(
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
        event_of(ctx, verdict, kind, (recorded.level, None), "pins", reason, actor=recorded.owner)
    ]


def lapse_event(ctx: Context, verdict: Verdict, pending: Proposal, why: str) -> Event:
    """A proposal's end without a person's word: it lapsed, or is no longer earned."""
    return event_of(
        ctx,
        verdict,
        "expired",
        (verdict.previous_level, pending.level),
        "approval.expires" if why == "lapsed unanswered" else "approval",
        f"the proposal of {pending.since} to {pending.level.value} {why}",
    )
