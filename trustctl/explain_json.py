"""``explain --format json``'s pieces as plain data: incidents, calibration, the binding
need and the economics of the next level."""

from __future__ import annotations

from typing import Any

from trustctl import numbers
from trustctl.calibration import Calibration
from trustctl.economics import TradeOff
from trustctl.explain import Incident
from trustctl.pace import Eta
from trustctl.reasons import need_text

__all__ = ["calibration_json", "economics", "eta_json", "incident_json"]


def incident_json(i: Incident) -> dict[str, Any]:
    return {
        "decision_id": i.decision_id,
        "timestamp": i.timestamp,
        "human_decision": i.human_decision or None,
        "outcome": i.outcome or None,
        "severity": i.severity or None,
        "reviewer": i.reviewer or None,
        "rationale": i.rationale or None,
        "incident_id": i.incident_id or None,
        "counted": i.counted,
    }


def calibration_json(c: Calibration | None) -> dict[str, Any] | None:
    """The calibration's numbers to 6 places (a cut's lower bound rounded down)."""
    if c is None:
        return None
    return {
        "decisions": c.decisions,
        "brier": numbers.rounded(c.brier),
        "ece": numbers.rounded(c.ece),
        "bins": [
            {
                "low": b.low,
                "high": b.high,
                "count": b.count,
                "mean_confidence": numbers.rounded(b.mean_confidence),
                "approval_rate": numbers.rounded(b.approval_rate),
            }
            for b in c.bins
        ],
        "cuts": [
            {
                "cut": cut.cut,
                "reviewed": cut.reviewed,
                "approved": cut.approved,
                "rate": numbers.rounded(cut.rate),
                "lower": numbers.outward(cut.lower, lower=True) if cut.reviewed else None,
            }
            for cut in c.cuts
        ],
    }


def eta_json(eta: Eta | None) -> dict[str, Any] | None:
    """The binding need and its pace (``None``: no count is missing)."""
    if eta is None:
        return None
    return {
        "need": need_text(eta.need),
        "more": eta.more,
        "per_week": eta.per_week,
        "per_week_counts": eta.pace_noun,
        "weeks": eta.weeks,
    }


def economics(t: TradeOff) -> dict[str, Any]:
    """The next level's trade, every number unrounded."""
    return {
        "level": t.level.value,
        "decisions_per_week": t.per_week,
        "delay_minutes_saved_per_week": t.delay_minutes,
        "delay_cost_per_week": t.delay_cost,
        "failure_cost_per_week_upper": t.failure_cost,
        "confidence": t.risk.confidence,
        "method": t.risk.method,
        "verified": t.risk.verified,
        "failures": {s: {"count": k, "rate_upper": upper} for s, k, upper in t.risk.severities},
    }
