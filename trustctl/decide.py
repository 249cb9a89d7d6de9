"""From a group's state to its verdict: demotion, promotion, cooldown, caps, pins (as data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from trustctl import bounds, times
from trustctl.evidence import Evidence, GroupState, empty_evidence
from trustctl.gate_checks import counts, gate_counts, promotion_checks
from trustctl.levels import LADDER, Level, lowest
from trustctl.rules import TrustRules
from trustctl.verdict import (
    AtTop,
    Bound,
    Cap,
    CapBinds,
    CappedAt,
    CappedDown,
    Change,
    Check,
    CooldownBlocks,
    CooldownEnds,
    CooldownRule,
    CriticalFailure,
    Demoted,
    GatesFail,
    MinDecisions,
    MoreClean,
    MoreVerified,
    Need,
    NewVersion,
    Next,
    NotConfigured,
    NoUnverifiedAllowed,
    PinExpired,
    Pinned,
    PinnedBy,
    PinStatus,
    Promoted,
    Reason,
    Stays,
    Unreachable,
    Verdict,
)

__all__ = ["cap_for", "decide", "pin_for"]


def cap_for(state: GroupState, rules: TrustRules) -> Cap:
    """The strictest tier cap over every tier the group's decisions touch.

    A decision whose risk tier is unknown (no column, no matching pattern) is
    treated as tier 3: missing data never lifts a cap.
    """
    level: Level = Level.FULL
    limited_by: str | None = None
    for tier in sorted(state.risk_tiers):
        tier_level = rules.caps.for_risk_tier(3 if tier == 0 else tier)
        if tier_level.rank < level.rank:
            shown = "unknown" if tier == 0 else str(tier)
            level, limited_by = tier_level, f"cap:risk_tier={shown}"
    for tier in sorted(state.system_tiers):
        tier_level = rules.caps.for_system_tier(tier)
        if tier_level.rank < level.rank:
            level, limited_by = tier_level, f"cap:system_tier={tier}"
    if state.inherited_cap is not None and state.inherited_cap[0].rank < level.rank:
        level, limited_by = state.inherited_cap
    return Cap(level=level, limited_by=limited_by)


def pin_for(state: GroupState, rules: TrustRules, as_of: dt.datetime) -> PinStatus | None:
    """The strictest active pin matching the group, else the first expired one."""
    action_class = str(state.key[0])
    matching = [p for p in rules.pins if p.matches(action_class, set(state.system_tiers))]
    active = [p for p in matching if (p.expires_at() or as_of + dt.timedelta(1)) > as_of]
    if active:
        return PinStatus(pin=min(active, key=lambda p: p.level.rank), active=True)
    return PinStatus(pin=matching[0], active=False) if matching else None


def _critical_failure(state: GroupState, rules: TrustRules) -> tuple[Check | None, bool]:
    """The critical-failure rule's check, and whether it demotes."""
    failure = state.last_critical_failure
    if failure is None:
        return None, False
    after_promotion = state.last_promoted is None or failure >= state.last_promoted
    unanswered = state.last_demoted is None or failure > state.last_demoted
    fires = (
        after_promotion
        and unanswered
        and rules.demote.critical_failure_to.rank < state.current.rank
    )
    finding = CriticalFailure(
        decision=state.last_critical_decision,
        at=failure,
        answered_by=None if unanswered else state.last_demoted,
        before_promotion=None if after_promotion or not unanswered else state.last_promoted,
    )
    return Check(rule="demote.critical_failure_to", passed=not fires, finding=finding), fires


def _demotion(state: GroupState, rules: TrustRules) -> tuple[Level, Demoted | None, list[Check]]:
    """The level the demotion rules send the group to (its current one when none fires)."""
    current = state.current
    checks: list[Check] = []
    reason: Demoted | None = None
    check, fires = _critical_failure(state, rules)
    target = current
    if check is not None:
        checks.append(check)
        if fires:
            target = rules.demote.critical_failure_to
            reason = Demoted(current, target, check, after_promotion=state.last_promoted)
    b = rules.bounds
    method, confidence, prior = b.for_demotion, b.confidence, b.prior
    for level in LADDER[1:]:
        demote_at = rules.demote.at(level)
        below = level.below()
        if demote_at is None or below is None or current.rank < level.rank:
            continue
        records: list[tuple[Evidence, str | None]] = [(state.demotion_evidence, None)]
        if state.recent_evidence is not None:
            records.append((state.recent_evidence, rules.demote.recent))
        for metric, gate in demote_at.gates():
            for record, recent in records:
                k, n = counts(metric, record)
                upper = bounds.upper_bound(k, n, confidence, method, prior)
                bound = Check(
                    rule=f"demote.{level.value}.{metric}.threshold",
                    passed=upper >= gate.threshold,
                    finding=Bound(metric, k, n, confidence, "upper", upper, gate.threshold, recent),
                )
                checks.append(bound)
                if not bound.passed and below.rank < target.rank:
                    target = below
                    reason = Demoted(current, below, bound)
    probation = _probation(state, rules)
    if probation is not None:
        checks.append(probation)
        if not probation.passed and Level.AUTO_NOTIFY.rank < target.rank:
            target = Level.AUTO_NOTIFY
            reason = Demoted(current, target, probation)
    return target, reason, checks


def _probation(state: GroupState, rules: TrustRules) -> Check | None:
    """With ``agent_version_change: probation``: whether a group at ``full`` whose agent version
    changed since its level was set keeps it, judged by the new version's own record."""
    change, gates = state.version_change, rules.promote.full
    if change is None or gates is None or state.current is not Level.FULL:
        return None
    if state.last_change is not None and change.at <= state.last_change:
        return None  # the level was set on the new version's watch
    checks = tuple(promotion_checks(Level.FULL, gates, change.record, rules))
    finding = NewVersion(change.previous, change.version, change.at, checks)
    return Check(rule="agent_version_change", passed=all(c.passed for c in checks), finding=finding)


@dataclass(frozen=True)
class _Outcome:
    """What the evidence alone gives, before caps and pins."""

    level: Level
    reason: Reason
    limited_by: str | None
    cooldown_ends: dt.datetime | None


def _promotion(
    state: GroupState, rules: TrustRules, as_of: dt.datetime, cap: Cap, checks: list[Check]
) -> _Outcome:
    """Level, reason, limited_by and cooldown end when no demotion fired."""
    current, evidence = state.current, state.evidence
    up = current.above()
    if up is None:
        return _Outcome(current, Stays(current, AtTop(), evidence), None, None)
    gates = rules.promote.to(up)
    if gates is None:
        return _Outcome(current, Stays(current, NotConfigured(up), evidence), None, None)
    gate_checks = promotion_checks(up, gates, state.evidence, rules)
    checks.extend(gate_checks)
    failing = tuple(c for c in gate_checks if not c.passed)
    if up.rank > cap.level.rank:
        # The cap binds whatever the gates say; name it, and the gates for the record.
        why = CapBinds(cap, up, failing)
        return _Outcome(current, Stays(current, why, evidence), cap.limited_by, None)
    if failing:
        short = any(isinstance(c.finding, MinDecisions) for c in failing)
        limited = "insufficient_data" if short or evidence.decisions == 0 else None
        return _Outcome(current, Stays(current, GatesFail(up, failing), evidence), limited, None)
    last_change = state.last_change
    # Whole UTC days: a weekly run is never held a second week by the time of day of a row.
    ends = None if last_change is None else times.whole_days_after(last_change, rules.cooldown_span)
    if last_change is not None and ends is not None and as_of < ends:
        cooldown = CooldownRule(last_change, rules.cooldown, ends)
        checks.append(Check(rule="cooldown", passed=False, finding=cooldown))
        blocked = CooldownBlocks(current, up, tuple(gate_checks), cooldown)
        return _Outcome(current, blocked, "cooldown", ends)
    return _Outcome(up, Promoted(current, up, tuple(gate_checks)), None, None)


def _next_step(
    level: Level,
    cap: Cap,
    pin: PinStatus | None,
    state: GroupState,
    rules: TrustRules,
    cooldown_ends: dt.datetime | None,
) -> Next:
    """What the next promotion from ``level`` needs, counted on ``state``'s evidence."""
    up = level.above()
    if pin is not None and pin.active:
        return Next(None, (PinnedBy(pin.pin.owner),), None)
    if up is None:
        return Next(None, (AtTop(),), None)
    if up.rank > cap.level.rank:
        return Next(None, (_capped_at(cap, state, rules),), None)
    gates = rules.promote.to(up)
    if gates is None:
        return Next(up, (NotConfigured(up),), None)
    needs: list[Need] = []
    clean = 0
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    evidence = state.evidence
    for metric, gate in gates.gates():
        k, n, unverified = gate_counts(metric, gate, evidence)
        more = bounds.clean_needed(
            k, n, gate.threshold, gate.min_decisions, confidence, method, prior
        )
        if more is None:
            return Next(up, (Unreachable(metric),), None)
        if more:
            needs.append(MoreClean(metric, more, gate.threshold, gate.min_decisions, unverified))
        clean = max(clean, more)
        if gate.max_unverified is not None and evidence.unverified:
            if gate.max_unverified == 0:
                return Next(up, (NoUnverifiedAllowed(),), None)
            # u / (e + m) <= max  ⇔  m >= u / max - e
            extra = max(0, _ceil_div(evidence.unverified, gate.max_unverified) - evidence.executed)
            if extra:
                needs.append(MoreVerified(extra, gate.max_unverified))
            clean = max(clean, extra)
    if cooldown_ends is not None:
        needs.append(CooldownEnds(cooldown_ends))
    return Next(up, tuple(needs), clean)


def _capped_at(cap: Cap, state: GroupState, rules: TrustRules) -> CappedAt:
    """The cap that holds the level; a system tier's names its services there, and whether
    splitting the group by tier would judge each tier apart."""
    if not cap.tier.startswith("system_tier="):
        return CappedAt(cap)
    tier = int(cap.tier.removeprefix("system_tier="))
    split = "system_tier" not in rules.group_by and len(state.system_tiers) > 1
    return CappedAt(cap, state.services_at(tier), split)


def _ceil_div(count: int, share: float) -> int:
    """The least integer ``m`` with ``count / m <= share``."""
    m = int(count / share)
    while count > share * m:
        m += 1
    while m > 0 and count <= share * (m - 1):
        m -= 1
    return m


def _agreement_threshold(level: Level, rules: TrustRules) -> float | None:
    """The agreement threshold of the next promotion (of the current level at the top)."""
    for candidate in (level.above(), level):
        gates = None if candidate is None else rules.promote.to(candidate)
        if gates is not None and gates.agreement is not None:
            return gates.agreement.threshold
    return None


def _held(
    current: Level, alone: _Outcome, cap: Cap, pin: PinStatus | None
) -> tuple[Level, Reason, str | None]:
    """What the evidence gives, held under the cap, then set by an active pin (itself held
    under the cap): the level, the reason and what limits it."""
    target, reason, limited_by = alone.level, alone.reason, alone.limited_by
    if target.rank > cap.level.rank:
        reason = CappedDown(current, cap, reason)
        target, limited_by = cap.level, cap.limited_by
    elif target is cap.level and cap.limited_by is not None:
        limited_by = cap.limited_by  # promoted or demoted onto the cap: it holds the next level
    if pin is not None and pin.active:
        pinned = lowest(pin.pin.level, cap.level)
        reason = Pinned(pin.pin, pinned, cap, target)
        target, limited_by = pinned, ("pin" if pinned is pin.pin.level else cap.limited_by)
    elif pin is not None:
        reason = PinExpired(reason, pin.pin)
    return target, reason, limited_by


def _change(current: Level, target: Level, in_previous: bool | None) -> Change:
    if in_previous is False:
        return "new"
    if target.rank > current.rank:
        return "promoted"
    if target.rank < current.rank:
        return "demoted"
    return "unchanged"


def decide(
    state: GroupState,
    rules: TrustRules,
    as_of: dt.datetime,
    in_previous: bool | None,
) -> Verdict:
    """The verdict for one group.

    Order: demotion (critical failure, upper bounds) — else promotion (gates,
    cooldown, at most one level) — then the tier cap — then an active pin,
    itself held under the cap. ``in_previous`` is ``None`` when no previous
    policy was given, else whether the group was in it (absent means ``new``).
    """
    cap = cap_for(state, rules)
    pin = pin_for(state, rules, as_of)
    current = state.current

    target, demoted, checks = _demotion(state, rules)
    alone = (
        _Outcome(target, demoted, None, None)
        if demoted is not None
        else _promotion(state, rules, as_of, cap, checks)
    )
    target, reason, limited_by = _held(current, alone, cap, pin)
    cooldown_ends = alone.cooldown_ends

    changed = target is not current
    if changed:
        cooldown_ends = times.whole_days_after(as_of, rules.cooldown_span)
    next_state = state
    if target.rank < current.rank:
        # The demotion restarts the evidence clock now: nothing counted so far will count.
        next_state = replace(state, evidence=empty_evidence(as_of, "last demotion"))
    threshold = _agreement_threshold(target, rules)
    evidence, record = state.evidence, state.demotion_evidence
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior

    def summary(k: int, n: int, judged: bounds.Method = method) -> bounds.RateSummary:
        return bounds.summarise(k, n, confidence, judged, prior)

    demotion = rules.bounds.for_demotion

    recent = state.recent_evidence
    return Verdict(
        state=state,
        level=target,
        previous_level=current,
        change=_change(current, target, in_previous),
        limited_by=limited_by,
        since=as_of if changed else (state.level_since or state.last_change),
        last_promoted=as_of if target.rank > current.rank else state.last_promoted,
        last_demoted=as_of if target.rank < current.rank else state.last_demoted,
        reason=reason,
        agreement=summary(evidence.agreed, evidence.reviewed),
        success=summary(evidence.succeeded, evidence.verified),
        demotion_agreement=summary(record.agreed, record.reviewed, demotion),
        demotion_success=summary(record.succeeded, record.verified, demotion),
        threshold=threshold,
        p_agreement=(
            None
            if threshold is None
            else bounds.prob_at_least(evidence.agreed, evidence.reviewed, threshold, prior)
        ),
        cap=cap,
        pin=pin,
        checks=tuple(checks),
        next=_next_step(target, cap, pin, next_state, rules, cooldown_ends),
        recent_agreement=(
            None if recent is None else summary(recent.agreed, recent.reviewed, demotion)
        ),
        recent_success=(
            None if recent is None else summary(recent.succeeded, recent.verified, demotion)
        ),
    )
