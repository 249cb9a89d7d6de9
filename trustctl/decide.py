"""From a group's state to its verdict: demotion, promotion, cooldown, caps, pins, reasons."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

from trustctl import bounds, numbers, times
from trustctl.bounds import RateSummary
from trustctl.evidence import Evidence, GroupState, empty_evidence
from trustctl.levels import LADDER, Level, lowest
from trustctl.rules import Metric, Pin, PromoteTo, TrustRules

Change = Literal["promoted", "demoted", "unchanged", "new"]

_NOUNS: dict[Metric, tuple[str, str]] = {
    "agreement": ("reviewed", "approved"),
    "success": ("verified", "succeeded"),
}


@dataclass(frozen=True)
class Check:
    """One gate or rule, evaluated, as ``explain`` shows it."""

    rule: str
    """The rule's key path in the rules file, e.g. ``promote.auto_notify.agreement.threshold``."""
    passed: bool
    detail: str


@dataclass(frozen=True)
class Cap:
    """The highest level the tiers allow and which tier sets it."""

    level: Level
    limited_by: str | None
    """e.g. ``cap:risk_tier=2``; ``None`` when nothing caps below ``full``."""


@dataclass(frozen=True)
class PinStatus:
    """A pin that matches the group, active or expired."""

    pin: Pin
    active: bool


@dataclass(frozen=True)
class Next:
    """What the next promotion needs."""

    level: Level | None
    needs: str
    clean_decisions_needed: int | None


@dataclass(frozen=True)
class Verdict:
    """The decision for one group, with everything needed to explain it."""

    state: GroupState
    level: Level
    previous_level: Level
    change: Change
    limited_by: str | None
    since: dt.datetime | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    reason: str
    agreement: RateSummary
    """Agreement on the promotion evidence (``state.evidence``)."""
    success: RateSummary
    """Success on the promotion evidence."""
    demotion_agreement: RateSummary
    """Agreement on the demotion evidence (``state.demotion_evidence``)."""
    demotion_success: RateSummary
    """Success on the demotion evidence."""
    threshold: float | None
    """The agreement threshold the posterior probability is reported against."""
    p_agreement: float | None
    """``P(agreement >= threshold)`` under the Beta posterior."""
    cap: Cap
    pin: PinStatus | None
    checks: tuple[Check, ...]
    next: Next


def _bound(value: float, threshold: float, lower: bool) -> str:
    """A bound with 3 decimals, or as many more as it takes to show its side of ``threshold``.

    A lower bound of 0.95004 is printed ``0.95004 ≥ 0.95``, never ``0.949 < 0.95``.
    """
    for digits in range(3, 16):
        text = numbers.bound_text(value, digits, lower)
        if (float(text) < threshold) == (value < threshold):
            return text
    return repr(value)


def _confidence(rules: TrustRules) -> str:
    return f"{round(rules.bounds.confidence * 100, 4):g}%"


def _counts(metric: Metric, evidence: Evidence) -> tuple[int, int]:
    if metric == "agreement":
        return evidence.agreed, evidence.reviewed
    return evidence.succeeded, evidence.verified


def _tier_text(cap: Cap) -> str:
    return (cap.limited_by or "").removeprefix("cap:")


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


def _promotion_checks(
    target: Level, gates: PromoteTo, state: GroupState, rules: TrustRules
) -> list[Check]:
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    checks: list[Check] = []
    for metric, gate in gates.gates():
        k, n = _counts(metric, state.evidence)
        base, good = _NOUNS[metric]
        rule = f"promote.{target.value}.{metric}"
        enough = n >= gate.min_decisions
        checks.append(
            Check(
                rule=f"{rule}.min_decisions",
                passed=enough,
                detail=f"{n} {base} {'≥' if enough else '<'} {gate.min_decisions} needed",
            )
        )
        lower = bounds.lower_bound(k, n, confidence, method, prior)
        high_enough = n > 0 and lower >= gate.threshold
        checks.append(
            Check(
                rule=f"{rule}.threshold",
                passed=high_enough,
                detail=f"{k} of {n} {base} {good} ({numbers.percent(k, n)}); "
                f"{_confidence(rules)} lower bound {_bound(lower, gate.threshold, lower=True)} "
                f"{'≥' if high_enough else '<'} {gate.threshold}",
            )
        )
        if gate.max_unverified is not None:
            executed, unverified = state.evidence.executed, state.evidence.unverified
            ok = executed > 0 and unverified <= gate.max_unverified * executed
            detail = (
                f"{unverified} of {executed} executed actions unverified "
                f"({numbers.percent(unverified, executed)}) {'≤' if ok else '>'} "
                f"{100 * gate.max_unverified:g}% allowed"
                if executed
                else "no executed actions: the unverified share is unknown"
            )
            checks.append(Check(rule=f"{rule}.max_unverified", passed=ok, detail=detail))
    return checks


def _critical_failure(state: GroupState, rules: TrustRules) -> tuple[Check | None, str | None]:
    """The critical-failure rule: its check, and the demotion reason when it fires."""
    failure = state.last_critical_failure
    if failure is None:
        return None, None
    current, target = state.current, rules.demote.critical_failure_to
    after_promotion = state.last_promoted is None or failure >= state.last_promoted
    unanswered = state.last_demoted is None or failure > state.last_demoted
    fires = after_promotion and unanswered and target.rank < current.rank
    detail = (
        f"critical failure on decision {state.last_critical_decision} at {times.stamp(failure)}"
    )
    if not unanswered and state.last_demoted is not None:
        detail += f"; already answered by the demotion of {times.stamp(state.last_demoted)}"
    elif not after_promotion and state.last_promoted is not None:
        detail += f"; before the last promotion on {times.stamp(state.last_promoted)}"
    check = Check(rule="demote.critical_failure_to", passed=not fires, detail=detail)
    if not fires:
        return check, None
    reason = f"demoted {current.value} → {target.value}: {detail}"
    if state.last_promoted is not None:
        reason += f", after the last promotion on {times.stamp(state.last_promoted)}"
    return check, reason


def _demotion(state: GroupState, rules: TrustRules) -> tuple[Level, str | None, list[Check]]:
    """The level the demotion rules send the group to (its current one when none fires)."""
    current = state.current
    checks: list[Check] = []
    check, reason = _critical_failure(state, rules)
    target = rules.demote.critical_failure_to if reason else current
    if check is not None:
        checks.append(check)
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    for level in LADDER[1:]:
        demote_at = rules.demote.at(level)
        below = level.below()
        if demote_at is None or below is None or current.rank < level.rank:
            continue
        for metric, gate in demote_at.gates():
            k, n = _counts(metric, state.demotion_evidence)
            base, good = _NOUNS[metric]
            upper = bounds.upper_bound(k, n, confidence, method, prior)
            fires = upper < gate.threshold
            detail = (
                f"{k} of {n} {base} {good} ({numbers.percent(k, n)}); "
                f"{_confidence(rules)} upper bound "
                f"{_bound(upper, gate.threshold, lower=False)} "
                f"{'<' if fires else '≥'} {gate.threshold}"
            )
            checks.append(
                Check(
                    rule=f"demote.{level.value}.{metric}.threshold", passed=not fires, detail=detail
                )
            )
            if fires and below.rank < target.rank:
                target = below
                reason = f"demoted {current.value} → {below.value}: {detail}"
    return target, reason, checks


def evidence_days(evidence: Evidence, current: Level) -> str:
    """Which whole UTC days an evidence clock counts, and why, in words."""
    day = evidence.counted_from.strftime("%Y-%m-%d")
    if evidence.level_day:
        return (
            f"{day}, the day of the {evidence.counted_from_reason} "
            f"(that day only its decisions at {current.value})"
        )
    if evidence.reset:
        return f"{day}, the first whole UTC day after the {evidence.counted_from_reason}"
    return f"{day}, the first whole UTC day in the window"


def _stays(current: Level, state: GroupState, why: str) -> str:
    evidence = state.evidence
    clock = f"; evidence counted from {evidence_days(evidence, current)}" if evidence.reset else ""
    return f"stays at {current.value}: {why}{clock}"


@dataclass(frozen=True)
class _Promotion:
    level: Level
    reason: str
    limited_by: str | None
    cooldown_ends: dt.datetime | None


def _promotion(
    state: GroupState, rules: TrustRules, as_of: dt.datetime, cap: Cap, checks: list[Check]
) -> _Promotion:
    """Level, reason, limited_by and cooldown end when no demotion fired."""
    current = state.current
    up = current.above()
    if up is None:
        return _Promotion(current, _stays(current, state, "already at the top"), None, None)
    gates = rules.promote.to(up)
    if gates is None:
        why = f"promote.{up.value} is not configured"
        return _Promotion(current, _stays(current, state, why), None, None)
    gate_checks = _promotion_checks(up, gates, state, rules)
    checks.extend(gate_checks)
    failing = [c for c in gate_checks if not c.passed]
    if up.rank > cap.level.rank:
        # The cap binds whatever the gates say; name it, and the gates for the record.
        gates_text = (
            "; ".join(c.detail for c in failing) + f" (needed for {up.value})"
            if failing
            else f"the gates for {up.value} pass"
        )
        why = f"{_tier_text(cap)} allows at most {cap.level.value}; {gates_text}"
        return _Promotion(current, _stays(current, state, why), cap.limited_by, None)
    if failing:
        short = any(c.rule.endswith("min_decisions") for c in failing)
        why = "; ".join(c.detail for c in failing) + f" (needed for {up.value})"
        limited = "insufficient_data" if short or state.evidence.decisions == 0 else None
        return _Promotion(current, _stays(current, state, why), limited, None)
    passed = "; ".join(c.detail for c in gate_checks if not c.rule.endswith("min_decisions"))
    counts = "; ".join(c.detail for c in gate_checks if c.rule.endswith("min_decisions"))
    last_change = state.last_change
    if last_change is not None and as_of - last_change < rules.cooldown_span:
        ends = last_change + rules.cooldown_span
        checks.append(
            Check(
                rule="cooldown",
                passed=False,
                detail=f"last level change {times.stamp(last_change)}; "
                f"the {rules.cooldown} cooldown ends {times.stamp(ends)}",
            )
        )
        reason = (
            f"stays at {current.value}: the gates for {up.value} pass ({passed}), but the last "
            f"level change was on {times.stamp(last_change)}; the {rules.cooldown} cooldown ends "
            f"{times.stamp(ends)}"
        )
        return _Promotion(current, reason, "cooldown", ends)
    return _Promotion(up, f"promoted {current.value} → {up.value}: {passed}; {counts}", None, None)


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
        return Next(None, f"pinned by {pin.pin.owner}; the pin must be removed or expire", None)
    if up is None:
        return Next(None, "already at the top of the ladder", None)
    if up.rank > cap.level.rank:
        return Next(None, f"capped at {cap.level.value} by {_tier_text(cap)}", None)
    gates = rules.promote.to(up)
    if gates is None:
        return Next(up, f"no promotion to {up.value} is configured (promote.{up.value})", None)
    needs: list[str] = []
    clean = 0
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    evidence = state.evidence
    for metric, gate in gates.gates():
        k, n = _counts(metric, state.evidence)
        more = bounds.clean_needed(
            k, n, gate.threshold, gate.min_decisions, confidence, method, prior
        )
        if more is None:
            return Next(up, f"the {metric} gate cannot be reached by clean decisions", None)
        if more:
            noun = "clean approvals" if metric == "agreement" else "verified successes"
            needs.append(
                f"{more} more {noun} ({metric} lower bound ≥ {gate.threshold} over "
                f"≥ {gate.min_decisions} {_NOUNS[metric][0]})"
            )
        clean = max(clean, more)
        if gate.max_unverified is not None and evidence.unverified:
            if gate.max_unverified == 0:
                return Next(up, "unverified actions exist and max_unverified is 0", None)
            # u / (e + m) <= max  ⇔  m >= u / max - e
            extra = max(0, _ceil_div(evidence.unverified, gate.max_unverified) - evidence.executed)
            if extra:
                needs.append(
                    f"{extra} more verified executions to bring the unverified share to "
                    f"≤ {100 * gate.max_unverified:g}%"
                )
            clean = max(clean, extra)
    if cooldown_ends is not None:
        needs.append(f"the cooldown to end on {times.stamp(cooldown_ends)}")
    return Next(up, "; ".join(needs) if needs else "nothing more: the gates pass", clean)


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
    evidence, record = state.evidence, state.demotion_evidence
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    cap = cap_for(state, rules)
    pin = pin_for(state, rules, as_of)
    current = state.current
    checks: list[Check] = []

    target, demotion_reason, demotion_checks = _demotion(state, rules)
    checks.extend(demotion_checks)
    limited_by: str | None = None
    cooldown_ends: dt.datetime | None = None
    if demotion_reason is not None:
        reason = demotion_reason
    else:
        promotion = _promotion(state, rules, as_of, cap, checks)
        target, reason = promotion.level, promotion.reason
        limited_by, cooldown_ends = promotion.limited_by, promotion.cooldown_ends
    if target.rank > cap.level.rank:
        reason = (
            f"demoted {current.value} → {cap.level.value}: {_tier_text(cap)} allows at most "
            f"{cap.level.value} (evidence: {reason})"
        )
        target, limited_by = cap.level, cap.limited_by
    if pin is not None and pin.active:
        pinned = lowest(pin.pin.level, cap.level)
        expiry = pin.pin.expires_at()
        reason = (
            f"pinned at {pin.pin.level.value} by {pin.pin.owner}"
            + (f" until {times.stamp(expiry)}" if expiry else "")
            + f": {pin.pin.reason}"
            + ("" if pinned is pin.pin.level else f" (held at {pinned.value} by {_tier_text(cap)})")
            + f"; the evidence alone gives {target.value}"
        )
        target, limited_by = pinned, ("pin" if pinned is pin.pin.level else cap.limited_by)
    elif pin is not None:
        expiry = pin.pin.expires_at()
        reason += (
            f" (pin by {pin.pin.owner} expired on "
            f"{times.stamp(expiry) if expiry else 'an unknown date'}; ignored)"
        )

    change: Change
    if in_previous is False:
        change = "new"
    elif target.rank > current.rank:
        change = "promoted"
    elif target.rank < current.rank:
        change = "demoted"
    else:
        change = "unchanged"
    changed = target is not current
    if changed:
        cooldown_ends = as_of + rules.cooldown_span
    next_state = state
    if target.rank < current.rank:
        # The demotion restarts the evidence clock now: nothing counted so far will count.
        next_state = replace(state, evidence=empty_evidence(as_of, "last demotion"))
    threshold = _agreement_threshold(target, rules)
    return Verdict(
        state=state,
        level=target,
        previous_level=current,
        change=change,
        limited_by=limited_by,
        since=as_of if changed else (state.level_since or state.last_change),
        last_promoted=as_of if target.rank > current.rank else state.last_promoted,
        last_demoted=as_of if target.rank < current.rank else state.last_demoted,
        reason=reason,
        agreement=bounds.summarise(evidence.agreed, evidence.reviewed, confidence, method, prior),
        success=bounds.summarise(evidence.succeeded, evidence.verified, confidence, method, prior),
        demotion_agreement=bounds.summarise(
            record.agreed, record.reviewed, confidence, method, prior
        ),
        demotion_success=bounds.summarise(
            record.succeeded, record.verified, confidence, method, prior
        ),
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
    )
