"""Verdicts in English: each finding, reason and need of ``trustctl.verdict`` as text.

The policy's ``reason`` and ``next.needs``, ``check``'s lines, the review table and
``explain`` all take their words from here, so the same fact reads the same everywhere.
"""

from __future__ import annotations

from trustctl import numbers, times
from trustctl.evidence import Evidence
from trustctl.levels import Level
from trustctl.rules import Metric, UnverifiedRule
from trustctl.verdict import (
    Approved,
    AtTop,
    Bound,
    CapBinds,
    CappedAt,
    CappedDown,
    Check,
    CooldownBlocks,
    CriticalFailure,
    Demoted,
    Finding,
    MinDecisions,
    MoreClean,
    MoreVerified,
    Need,
    NewVersion,
    Next,
    NotConfigured,
    NoUnverifiedAllowed,
    Pinned,
    PinnedBy,
    Promoted,
    Proposed,
    Reason,
    Rejected,
    RejectedUntil,
    SignOff,
    Stays,
    StayWhy,
    Unreachable,
    Unverified,
)

__all__ = [
    "check_text",
    "evidence_days",
    "finding_text",
    "first_need",
    "need_text",
    "needs_text",
    "reason_text",
]

_NOUNS: dict[Metric, tuple[str, str]] = {
    "agreement": ("reviewed", "approved"),
    "success": ("verified", "succeeded"),
}
_UNVERIFIED: dict[UnverifiedRule, str] = {
    "count_as_failure": "unverified counted as failures",
    "exclude": "unverified excluded",
}


def _base(metric: Metric, unverified: UnverifiedRule | None) -> str:
    """What a gate's ``n`` counts: every executed action when unverified ones are failures."""
    return "executed" if unverified == "count_as_failure" else _NOUNS[metric][0]


def finding_text(finding: Finding, passed: bool) -> str:
    """What one check measured, with its verdict as ``≥``/``<`` (``≤``/``>`` for shares)."""
    if isinstance(finding, MinDecisions):
        base = _base(finding.metric, finding.unverified)
        return f"{finding.n} {base} {'≥' if passed else '<'} {finding.needed} needed"
    if isinstance(finding, Bound):
        base, good = _base(finding.metric, finding.unverified), _NOUNS[finding.metric][1]
        k, n, threshold = finding.k, finding.n, finding.threshold
        bound = numbers.bound_against(finding.value, threshold, lower=finding.side == "lower")
        recent = "" if finding.recent is None else f"in the last {finding.recent}: "
        how = "" if finding.unverified is None else f", {_UNVERIFIED[finding.unverified]}"
        return (
            f"{recent}{k} of {n} {base} {good} ({numbers.percent(k, n)}{how}); "
            f"{numbers.confidence_text(finding.confidence)} {finding.side} bound {bound} "
            f"{'≥' if passed else '<'} {threshold}"
        )
    if isinstance(finding, Unverified):
        unverified, executed = finding.unverified, finding.executed
        if not executed:
            return "no executed actions: the unverified share is unknown"
        return (
            f"{unverified} of {executed} executed actions unverified "
            f"({numbers.percent(unverified, executed)}) {'≤' if passed else '>'} "
            f"{numbers.share_text(finding.allowed)} allowed"
        )
    if isinstance(finding, CriticalFailure):
        text = f"critical failure on decision {finding.decision} at {times.stamp(finding.at)}"
        if finding.answered_by is not None:
            text += f"; already answered by the demotion of {times.stamp(finding.answered_by)}"
        elif finding.before_promotion is not None:
            text += f"; before the last promotion on {times.stamp(finding.before_promotion)}"
        return text
    if isinstance(finding, NewVersion):
        changed = (
            f"agent version changed from {finding.previous} to {finding.version} on "
            f"{times.stamp(finding.at)} (agent_version_change: probation); "
            f"{finding.version}'s own record"
        )
        if passed:
            return f"{changed} passes the full gates: {_gates(finding.gates)}"
        failing = tuple(c for c in finding.gates if not c.passed)
        return f"{changed} does not pass the full gates yet: {_joined(failing)}"
    return (
        f"last level change {times.stamp(finding.last_change)}; "
        f"the {finding.cooldown} cooldown ends {times.stamp(finding.ends)}"
    )


def check_text(check: Check) -> str:
    """A check's numbers and verdict in one line."""
    return finding_text(check.finding, check.passed)


def _joined(checks: tuple[Check, ...]) -> str:
    return "; ".join(check_text(c) for c in checks)


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
    window = "recent window" if evidence.counted_from_reason.startswith("recent") else "window"
    return f"{day}, the first whole UTC day in the {window}"


def _stay_why(why: StayWhy) -> str:
    if isinstance(why, AtTop):
        return "already at the top"
    if isinstance(why, NotConfigured):
        return f"promote.{why.level.value} is not configured"
    if isinstance(why, CapBinds):
        gates = (
            _joined(why.failing) + f" (needed for {why.level.value})"
            if why.failing
            else f"the gates for {why.level.value} pass"
        )
        return f"{why.cap.tier} allows at most {why.cap.level.value}; {gates}"
    return _joined(why.failing) + f" (needed for {why.level.value})"


def _is_count(check: Check) -> bool:
    return isinstance(check.finding, MinDecisions)


def _gates(gates: tuple[Check, ...]) -> str:
    """Passing gates: the bounds, then the counts."""
    passed = _joined(tuple(c for c in gates if not _is_count(c)))
    return f"{passed}; {_joined(tuple(c for c in gates if _is_count(c)))}"


def reason_text(reason: Reason) -> str:
    """The one-line reason of a verdict, as the policy writes it."""
    if isinstance(reason, Stays):
        evidence = reason.evidence
        clock = (
            f"; evidence counted from {evidence_days(evidence, reason.level)}"
            if evidence.reset
            else ""
        )
        return f"stays at {reason.level.value}: {_stay_why(reason.why)}{clock}"
    if isinstance(reason, Demoted):
        text = f"demoted {reason.level.value} → {reason.to.value}: {check_text(reason.check)}"
        if reason.after_promotion is not None:
            text += f", after the last promotion on {times.stamp(reason.after_promotion)}"
        return text
    if isinstance(reason, Promoted):
        return f"promoted {reason.level.value} → {reason.to.value}: {_gates(reason.gates)}"
    if isinstance(reason, Proposed):
        return (
            f"proposed {reason.level.value} → {reason.to.value} on {times.stamp(reason.since)}, "
            f"waiting for sign-off (approval.required_for): {_gates(reason.gates)}"
        )
    if isinstance(reason, Approved):
        return (
            f"promoted {reason.level.value} → {reason.to.value}: approved by {reason.by} "
            f"({reason.why}); {_gates(reason.gates)}"
        )
    if isinstance(reason, Rejected):
        until = "an unknown date" if reason.until is None else times.stamp(reason.until)
        return (
            f"stays at {reason.level.value}: the promotion to {reason.to.value} was rejected "
            f"by {reason.by} on {times.stamp(reason.at)} ({reason.why}); not proposed again "
            f"before {until}"
        )
    if isinstance(reason, CooldownBlocks):
        passed = _joined(tuple(c for c in reason.gates if not _is_count(c)))
        cooldown = reason.cooldown
        return (
            f"stays at {reason.level.value}: the gates for {reason.to.value} pass ({passed}), "
            f"but the last level change was on {times.stamp(cooldown.last_change)}; "
            f"the {cooldown.cooldown} cooldown ends {times.stamp(cooldown.ends)}"
        )
    if isinstance(reason, CappedDown):
        cap = reason.cap
        return (
            f"demoted {reason.level.value} → {cap.level.value}: {cap.tier} allows at most "
            f"{cap.level.value} (evidence: {reason_text(reason.evidence)})"
        )
    if isinstance(reason, Pinned):
        pin, expiry, tier = reason.pin, reason.pin.expires_at(), reason.cap.tier
        return (
            f"pinned at {pin.level.value} by {pin.owner}"
            + (f" until {times.stamp(expiry)}" if expiry else "")
            + f": {pin.reason}"
            + ("" if reason.held is pin.level else f" (held at {reason.held.value} by {tier})")
            + f"; the evidence alone gives {reason.evidence_level.value}"
        )
    expiry = reason.pin.expires_at()
    return (
        f"{reason_text(reason.reason)} (pin by {reason.pin.owner} expired on "
        f"{times.stamp(expiry) if expiry else 'an unknown date'}; ignored)"
    )


def need_text(need: Need) -> str:
    """One thing the next promotion needs (or what stands in its way)."""
    if isinstance(need, SignOff):
        by = "" if need.expires is None else f" before {times.stamp(need.expires)}"
        return f"a person's sign-off: trustctl approve {need.group} --by NAME --reason TEXT{by}"
    if isinstance(need, RejectedUntil):
        until = "an unknown date" if need.until is None else times.stamp(need.until)
        return f"time: not proposed again before {until} (rejected by {need.by})"
    if isinstance(need, PinnedBy):
        return f"pinned by {need.owner}; the pin must be removed or expire"
    if isinstance(need, AtTop):
        return "already at the top of the ladder"
    if isinstance(need, CappedAt):
        text = f"capped at {need.cap.level.value} by {need.cap.tier}"
        if need.services:
            text += f" (services: {', '.join(need.services)})"
        if need.split:
            text += "; adding system_tier to group_by would split it, each tier judged apart"
        return text
    if isinstance(need, NotConfigured):
        return f"no promotion to {need.level.value} is configured (promote.{need.level.value})"
    if isinstance(need, Unreachable):
        return f"the {need.metric} gate cannot be reached by clean decisions"
    if isinstance(need, NoUnverifiedAllowed):
        return "unverified actions exist and max_unverified is 0"
    if isinstance(need, MoreClean):
        noun = "clean approvals" if need.metric == "agreement" else "verified successes"
        return (
            f"{need.more} more {noun} ({need.metric} lower bound ≥ {need.threshold} over "
            f"≥ {need.min_decisions} {_base(need.metric, need.unverified)})"
        )
    if isinstance(need, MoreVerified):
        return (
            f"{need.more} more verified executions to bring the unverified share to "
            f"≤ {numbers.share_text(need.allowed)}"
        )
    return f"the cooldown to end on {times.stamp(need.ends)}"


def needs_text(step: Next) -> str:
    """Everything the next promotion needs, as the policy's ``next.needs`` writes it."""
    return "; ".join(need_text(n) for n in step.needs) or "nothing more: the gates pass"


def first_need(step: Next) -> str:
    """The first thing the next promotion needs (the review table's cell)."""
    return need_text(step.needs[0]) if step.needs else "nothing more: the gates pass"
