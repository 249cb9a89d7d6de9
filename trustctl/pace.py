"""How long the next promotion takes at the recent volume: the binding need and its ETA.

Of the counts a promotion still misses, the binding one is the one that takes longest at
the last four weeks' pace of its kind (reviews for agreement, verified outcomes for
success): the review's summary and ``explain`` name it and time it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from trustctl.schema import HUMAN_CODES
from trustctl.verdict import MoreClean, MoreVerified, Verdict

__all__ = ["RECENT_WEEKS", "Eta", "eta_of", "eta_text", "pace_text"]

RECENT_WEEKS = 4
"""The pace is the last this many weeks' volume."""
_JUDGED = [HUMAN_CODES[h] for h in ("approved", "rejected", "modified", "overridden")]


@dataclass(frozen=True)
class Eta:
    """How long one of the next promotion's missing counts takes at the recent volume."""

    need: MoreClean | MoreVerified
    noun: str
    """What is missing: ``clean approvals``, ``verified successes``, ``verified executions``."""
    pace_noun: str
    """What the pace counts: ``reviewed`` or ``verified`` decisions."""
    per_week: float
    """Decisions of that kind per week over the last four weeks."""

    @property
    def more(self) -> int:
        """How many are missing."""
        return self.need.more

    @property
    def weeks(self) -> float | None:
        """``None`` when nothing of that kind happened lately."""
        return self.more / self.per_week if self.per_week else None

    @property
    def longest(self) -> tuple[float, int]:
        """Sort key of the binding need: the longest wait (none lately: forever), then the
        larger count."""
        weeks = self.weeks
        return (float("inf") if weeks is None else weeks, self.more)


def eta_of(verdict: Verdict, rows: pd.DataFrame, as_of: pd.Timestamp) -> Eta | None:
    """The binding need: of the counts still missing, the one that takes longest at the
    last four weeks' pace of its kind in ``rows`` (the group's merged decisions)."""
    counts = [n for n in verdict.next.needs if isinstance(n, (MoreClean, MoreVerified))]
    if verdict.next.level is None or not counts:
        return None
    recent = rows[rows["timestamp"] > as_of - pd.Timedelta(weeks=RECENT_WEEKS)]
    verified = int((recent["executed"] & recent["outcome"].isin([0, 1])).sum())
    reviewed = int(recent["human_decision"].isin(_JUDGED).sum())
    etas = []
    for need in counts:
        if isinstance(need, MoreClean) and need.metric == "agreement":
            eta = Eta(need, "clean approvals", "reviewed", reviewed / RECENT_WEEKS)
        elif isinstance(need, MoreClean):
            eta = Eta(need, "verified successes", "verified", verified / RECENT_WEEKS)
        else:
            eta = Eta(need, "verified executions", "verified", verified / RECENT_WEEKS)
        etas.append(eta)
    return max(etas, key=lambda e: e.longest)


def eta_text(eta: Eta | None) -> str:
    """``13 more clean approvals ≈ 2 weeks at the last 4 weeks' 6.5 reviewed/week``."""
    if eta is None:
        return ""
    pace = f"at the last {RECENT_WEEKS} weeks' {eta.per_week:g} {eta.pace_noun}/week"
    weeks = eta.weeks
    if weeks is None:
        return f"{eta.more} more {eta.noun}; none in the last {RECENT_WEEKS} weeks"
    span = "under a week" if weeks < 1 else f"{math.ceil(weeks)} weeks"
    return f"{eta.more} more {eta.noun} ≈ {span} {pace}"


def pace_text(eta: Eta | None) -> str:
    """``≈ 2 weeks at 6.5 reviewed/week``: the summary's short form of ``eta_text``."""
    if eta is None:
        return "–"
    weeks = eta.weeks
    if weeks is None:
        return f"none {eta.pace_noun} in the last {RECENT_WEEKS} weeks"
    span = "under a week" if weeks < 1 else f"{math.ceil(weeks)} weeks"
    return f"≈ {span} at {eta.per_week:g} {eta.pace_noun}/week"
