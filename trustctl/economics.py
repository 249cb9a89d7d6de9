"""The price of waiting for a human, and of the failures that run before a human sees them.

The minutes a decision waits for a human before it runs (the rules'
``economics.review_delay_minutes``, or ``--review-minutes`` over them): each decision run
without prior human approval (at ``auto_notify`` or ``full``) saved that wait, so minutes
saved = automated decisions × minutes. Against it stand the failures among those
decisions, which ran before anyone could stop them.

For a group at ``suggest`` whose next level is ``auto_notify``, the trade the promotion
offers, per week at the recent volume (the last four weeks' decisions / 4):

- delay saved = decisions/week × ``review_delay_minutes``, priced at
  ``downtime_cost_per_minute``;
- against it, the failures that would then run without a human first: for each severity
  ``s``, ``U_s`` = the one-sided upper bound (the rules' method and confidence) of the rate
  ``k_s / n`` (``k_s`` failures of severity ``s`` among the ``n`` verified executions the
  promotion evidence counts; a failure without a severity counts as the costliest), and
  expected cost ≤ decisions/week × Σ_s ``U_s`` × ``failure_cost[s]``.

Nothing here is assumed: without the minutes, no economics are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustctl import bounds
from trustctl.errors import TrustctlError
from trustctl.history import History
from trustctl.levels import Level
from trustctl.pace import RECENT_WEEKS
from trustctl.rules import SEVERITIES, Economics, Severity, TrustRules
from trustctl.schema import OUTCOME_CODES, SEVERITY_CODES
from trustctl.verdict import Verdict

__all__ = [
    "FailureRisk",
    "GroupEconomics",
    "Saving",
    "TradeOff",
    "group_economics",
    "minutes_of",
    "parse_minutes",
    "trade_off",
]


@dataclass(frozen=True)
class Saving:
    """Decisions run without a human first, and what that saved and risked."""

    minutes_per_review: float
    decisions: int
    automated: int
    failures: int
    critical: int

    @property
    def minutes_saved(self) -> float:
        """``automated × minutes_per_review``."""
        return self.automated * self.minutes_per_review

    @property
    def hours_saved(self) -> float:
        return self.minutes_saved / 60


@dataclass(frozen=True)
class FailureRisk:
    """Each severity's failures among the verified executions the promotion evidence
    counts, and the upper bound of its rate."""

    verified: int
    severities: tuple[tuple[Severity, int, float], ...]
    """(severity, failures, upper bound of their rate), in ``SEVERITIES`` order."""
    confidence: float
    method: str

    def cost_per_decision(self, prices: Economics) -> float:
        """Σ_s upper bound of severity ``s``'s rate × its cost."""
        costs = prices.failure_cost
        return sum(upper * costs[severity] for severity, _, upper in self.severities)


@dataclass(frozen=True)
class TradeOff:
    """What the next level (``auto_notify``) would save a week, and what it would risk."""

    level: Level
    per_week: float
    """The group's decisions a week, over the last four weeks."""
    delay_minutes: float
    """Minutes of remediation delay a week no longer spent waiting for a human."""
    risk: FailureRisk
    prices: Economics | None
    """The rules' prices; ``None`` with ``--review-minutes`` alone (minutes, no costs)."""

    @property
    def delay_cost(self) -> float | None:
        """``delay_minutes × downtime_cost_per_minute`` a week."""
        prices = self.prices
        return None if prices is None else self.delay_minutes * prices.downtime_cost_per_minute

    @property
    def failure_cost(self) -> float | None:
        """Expected cost a week of the failures that would run without a human first, at
        each severity's upper bound (``None`` without prices or verified outcomes)."""
        if self.prices is None or not self.risk.verified:
            return None
        return self.per_week * self.risk.cost_per_decision(self.prices)


@dataclass(frozen=True)
class GroupEconomics:
    """One group over the review's weeks: what automation saved; and what the next level
    would save and risk per week at the recent volume."""

    name: str
    saving: Saving
    weeks: float
    """The weeks the saving was counted over (the review's steps)."""
    next_level: TradeOff | None = None
    """For a group at ``suggest`` that could reach ``auto_notify``, else ``None``."""


def parse_minutes(value: float | None) -> float | None:
    """``--review-minutes``: a positive number of minutes, or ``None`` (not given)."""
    if value is not None and not 0 < value < 10_000:
        raise TrustctlError(f"--review-minutes: {value} is not a number of minutes in (0, 10000)")
    return value


def minutes_of(value: float | None, rules: TrustRules) -> float | None:
    """The minutes a decision waits for a human: ``--review-minutes`` when given, else the
    rules' ``economics.review_delay_minutes``, else ``None`` (nothing assumed)."""
    given = parse_minutes(value)
    if given is not None:
        return given
    return None if rules.economics is None else rules.economics.review_delay_minutes


def trade_off(
    verdict: Verdict,
    rows: pd.DataFrame,
    counted: np.ndarray,
    as_of: pd.Timestamp,
    rules: TrustRules,
    minutes: float,
) -> TradeOff | None:
    """The trade a promotion to ``auto_notify`` offers a group at ``suggest`` (``None`` for
    any other group). ``rows``: the group's decisions in the window; ``counted``: those its
    promotion evidence counts."""
    if verdict.level is not Level.SUGGEST or verdict.next.level is not Level.AUTO_NOTIFY:
        return None
    recent = rows["timestamp"] > as_of - pd.Timedelta(weeks=RECENT_WEEKS)
    per_week = int(recent.sum()) / RECENT_WEEKS
    outcome = rows["outcome"].to_numpy()
    verified = counted & rows["executed"].to_numpy() & np.isin(outcome, [0, 1])
    failed = verified & (outcome == OUTCOME_CODES["failure"])
    severity = rows["severity"].to_numpy()
    n = int(verified.sum())
    settings = rules.bounds
    found = []
    for name in SEVERITIES:
        k = int((failed & (severity == SEVERITY_CODES[name])).sum())
        if name == _costliest(rules.economics):
            k += int((failed & ~np.isin(severity, list(SEVERITY_CODES.values()))).sum())
        upper = bounds.upper_bound(k, n, settings.confidence, settings.method, settings.prior)
        found.append((name, k, upper))
    risk = FailureRisk(n, tuple(found), settings.confidence, settings.method)
    return TradeOff(Level.AUTO_NOTIFY, per_week, per_week * minutes, risk, rules.economics)


def _costliest(prices: Economics | None) -> Severity:
    """The severity a failure without one is charged as: the costliest (``critical``
    without prices)."""
    if prices is None:
        return "critical"
    costs = prices.failure_cost
    return max(reversed(SEVERITIES), key=lambda s: costs[s])


def group_economics(
    found: History,
    verdicts: Sequence[Verdict],
    names: Sequence[str],
    minutes: float,
    next_levels: Sequence[TradeOff | None],
) -> list[GroupEconomics]:
    """Each verdict's group over the steps of ``found`` (its activity since the step before
    each): decisions, those run without a human first and their failures; with the trade
    its next level offers (``trade_off``)."""
    span = found.steps[-1].as_of - found.steps[0].as_of if found.steps else None
    weeks = max(span.total_seconds() / 604800, 1.0) if span is not None else 1.0
    result = []
    for verdict, name, next_level in zip(verdicts, names, next_levels, strict=True):
        key = verdict.state.key
        active = [step.activity_of(key) for step in found.steps[1:]]
        saving = Saving(
            minutes_per_review=minutes,
            decisions=sum(a.decisions for a in active),
            automated=sum(a.unattended for a in active),
            failures=sum(a.failures for a in active),
            critical=sum(a.critical for a in active),
        )
        result.append(GroupEconomics(name=name, saving=saving, weeks=weeks, next_level=next_level))
    return result
