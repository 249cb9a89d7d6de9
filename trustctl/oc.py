"""Operating characteristics of the rules: how often, and how soon, gates fire at a known true rate.

The model is a weekly job: each week ``volume`` decisions are counted by a gate (reviewed
ones for agreement, verified executions for success), each good with probability ``rate``
independently, and the gate is evaluated once a week on the evidence it would see:

* a promotion gate sees the class's decisions since it arrived at its level, within the
  window (``window`` days taken as ``round(days / 7)`` weeks: 180d is 26 weeks) and fires
  when ``n >= min_decisions`` and the lower bound is at least the threshold;
* a demotion check sees the record since the promotion (within the window) and, with
  ``demote.recent``, also the last ``recent`` weeks of it; it fires when either upper bound
  is below the threshold.

Cooldowns, caps, pins, critical failures and the other gates of a level are left out: each
gate is characterised alone. Probabilities are exact (dynamic programming over the count of
good decisions) while the window does not slide; otherwise they come from a seeded simulation
of ``runs`` classes, the same numbers for the same seed (``oc_chances``). The findings'
types are in ``oc_model``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from trustctl import bounds
from trustctl.levels import LADDER, Level
from trustctl.oc_chances import (
    exact_promotion,
    first_week,
    simulated_demotion,
    simulated_promotion,
)
from trustctl.oc_model import GATES, Drift, Gate, Promotion, Report, Steady
from trustctl.rules import Metric, TrustRules, parse_duration

__all__ = [
    "DEFAULT_RUNS",
    "DEFAULT_SEED",
    "DEFAULT_VOLUMES",
    "DEFAULT_WEEKS",
    "GATES",
    "Drift",
    "Gate",
    "Promotion",
    "Report",
    "Steady",
    "least_passing",
    "most_failing",
    "operating_characteristics",
    "rate_grid",
    "span_weeks",
]

DEFAULT_VOLUMES: tuple[int, ...] = (10, 25, 100)
DEFAULT_WEEKS = 26
DEFAULT_SEED = 20261201
DEFAULT_RUNS = 40_000

_WEEK_SECONDS = 7 * 86400


def span_weeks(text: str) -> int:
    """A duration such as ``180d`` as whole weeks of weekly runs (at least 1)."""
    return max(1, round(parse_duration(text).total_seconds() / _WEEK_SECONDS))


def rate_grid(threshold: float) -> tuple[float, ...]:
    """True rates around a promotion threshold ``t``, in steps of its gap ``g = 1 - t``:
    ``t - 2g, t - g, t - g/2, t, t + g/2, t + 4g/5`` (those in (0, 1))."""
    gap = 1 - threshold
    steps = (-2.0, -1.0, -0.5, 0.0, 0.5, 0.8)
    return tuple(r for r in (round(threshold + s * gap, 6) for s in steps) if 0 < r < 1)


def least_passing(threshold: float, n: int, min_decisions: int, rules: TrustRules) -> int:
    """The fewest good decisions of ``n`` that pass a promotion gate (``n + 1``: none does)."""
    b = rules.bounds

    def passes(k: int) -> bool:
        return bounds.lower_bound(k, n, b.confidence, b.method, b.prior) >= threshold

    if n == 0 or n < min_decisions or not passes(n):
        return n + 1
    return bounds.first_passing(passes, -1, n)  # passes(n); the bound grows with k


def most_failing(threshold: float, n: int, rules: TrustRules) -> int:
    """The most good decisions of ``n`` that still fire a demotion check (-1: none does)."""
    b = rules.bounds

    def fires(k: int) -> bool:
        return bounds.upper_bound(k, n, b.confidence, b.for_demotion, b.prior) < threshold

    if n == 0 or not fires(0):
        return -1
    # fires(0), and the bound grows with k: the last k that fires is one before the first
    # that does not (n + 1 when every k fires).
    return bounds.first_passing(lambda k: not fires(k), 0, n + 1) - 1


def _promotion_gates(rules: TrustRules, gates: Sequence[Gate]) -> list[tuple[str, float, int]]:
    """The promotion gates to characterise: key path, threshold, minimum count.

    Promotion evidence carries over a promotion, so a gate no stricter than the same
    metric's gate one level down has passed already: it is left out.
    """
    found = []
    below: dict[Metric, tuple[float, int]] = {}
    for level in (Level.SUGGEST, Level.AUTO_NOTIFY, Level.FULL):
        promote_to = rules.promote.to(level)
        for metric, gate in [] if promote_to is None else promote_to.gates():
            lower = below.get(metric, (0.0, 0))
            stricter = gate.threshold > lower[0] or gate.min_decisions > lower[1]
            below[metric] = (gate.threshold, gate.min_decisions)
            if level.value in gates and stricter:
                found.append(
                    (f"promote.{level.value}.{metric}", gate.threshold, gate.min_decisions)
                )
    return found


def _guarded(rules: TrustRules, level: Level, metric: Metric) -> float | None:
    """The lowest promotion threshold of ``metric`` into ``level`` or above (what lets a
    class in)."""
    thresholds = []
    for target in LADDER[level.rank :]:
        promote_to = rules.promote.to(target)
        gate = None if promote_to is None else getattr(promote_to, metric)
        if gate is not None:
            thresholds.append(gate.threshold)
    return min(thresholds) if thresholds else None


def _demotion_checks(rules: TrustRules) -> list[tuple[str, float, float]]:
    """Each demotion check: its key path, threshold and the promotion threshold above it."""
    found = []
    for level in LADDER[1:]:
        demote_at = rules.demote.at(level)
        if demote_at is None:
            continue
        for metric, gate in demote_at.gates():
            above = _guarded(rules, level, metric)
            promote = above if above is not None else (1 + gate.threshold) / 2
            found.append((f"demote.{level.value}.{metric}", gate.threshold, promote))
    return found


class _Counts:
    """Memoised gate boundaries per evidence size."""

    def __init__(self, rules: TrustRules) -> None:
        self._rules = rules
        self._least: dict[tuple[float, int, int], int] = {}
        self._most: dict[tuple[float, int], int] = {}

    def least(self, threshold: float, min_decisions: int) -> Callable[[int], int]:
        def at(n: int) -> int:
            key = (threshold, n, min_decisions)
            if key not in self._least:
                self._least[key] = least_passing(threshold, n, min_decisions, self._rules)
            return self._least[key]

        return at

    def most(self, threshold: float) -> Callable[[int], int]:
        def at(n: int) -> int:
            key = (threshold, n)
            if key not in self._most:
                self._most[key] = most_failing(threshold, n, self._rules)
            return self._most[key]

        return at


def operating_characteristics(
    rules: TrustRules,
    *,
    volumes: Sequence[int] = DEFAULT_VOLUMES,
    weeks: int = DEFAULT_WEEKS,
    gates: Sequence[Gate] = GATES,
    seed: int = DEFAULT_SEED,
    runs: int = DEFAULT_RUNS,
) -> Report:
    """The operating characteristics of ``rules``' promotion gates and demotion checks."""
    if weeks < 1 or runs < 1 or not volumes or min(volumes) < 1:
        raise ValueError("weeks, runs and every volume must be at least 1")
    window = span_weeks(rules.window)
    recent = None if rules.demote.recent is None else span_weeks(rules.demote.recent)
    counts = _Counts(rules)
    scenario = 0

    def rng() -> np.random.Generator:
        nonlocal scenario
        scenario += 1
        return np.random.default_rng([seed, scenario])

    promotions = []
    for rule, threshold, min_decisions in _promotion_gates(rules, gates):
        least = counts.least(threshold, min_decisions)
        for volume in volumes:
            for rate in rate_grid(threshold):
                exact = weeks <= window
                cumulative = (
                    exact_promotion(rate, volume, [least(volume * w) for w in range(1, weeks + 1)])
                    if exact
                    else simulated_promotion(rate, volume, weeks, window, least, rng(), runs)
                )
                promotions.append(
                    Promotion(
                        rule=rule,
                        threshold=threshold,
                        min_decisions=min_decisions,
                        volume=volume,
                        rate=rate,
                        promoted=cumulative[-1],
                        median_week=first_week(cumulative, 0.5),
                        exact=exact,
                    )
                )
    drifts, steady = [], []
    if "demote" in gates:
        spans = (window,) if recent is None else (window, recent)
        for rule, threshold, promote in _demotion_checks(rules):
            most = counts.most(threshold)
            before = round(promote + (1 - promote) / 2, 6)
            after = round(max(threshold - (promote - threshold), threshold / 2), 6)
            for volume in volumes:
                rates = np.array([before] * weeks + [after] * weeks)
                first = simulated_demotion(rates, volume, spans, most, rng(), runs)
                early = (first > 0) & (first <= weeks)
                # Weeks from the drop, for the classes still at the level when it happens.
                later = first[~early] - weeks if not early.all() else np.zeros(1, dtype=np.int64)
                cumulative = [
                    float(((later > 0) & (later <= w)).mean()) for w in range(1, weeks + 1)
                ]
                drifts.append(
                    Drift(
                        rule=rule,
                        threshold=threshold,
                        volume=volume,
                        before=before,
                        after=after,
                        weeks_before=weeks,
                        demoted=cumulative[-1],
                        median_week=first_week(cumulative, 0.5),
                        p90_week=first_week(cumulative, 0.9),
                        demoted_before_drop=float(early.mean()),
                    )
                )
                for step in (0.25, 0.5, 0.75, 1.0):
                    rate = round(threshold + step * (promote - threshold), 6)
                    first = simulated_demotion(
                        np.full(weeks, rate), volume, spans, most, rng(), runs
                    )
                    steady.append(
                        Steady(
                            rule=rule,
                            threshold=threshold,
                            volume=volume,
                            rate=rate,
                            demoted=float((first > 0).mean()),
                        )
                    )
    return Report(
        method=rules.bounds.method,
        demotion_method=rules.bounds.for_demotion,
        confidence=rules.bounds.confidence,
        weeks=weeks,
        window=rules.window,
        window_weeks=window,
        recent=rules.demote.recent,
        recent_weeks=recent,
        volumes=tuple(volumes),
        seed=seed,
        runs=runs,
        promotions=tuple(promotions),
        drifts=tuple(drifts),
        steady=tuple(steady),
    )
