"""The chance a gate fires by each weekly run: exactly, by dynamic programming over the count
of good decisions, or by a seeded simulation of many classes when the window slides."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy import special

__all__ = ["exact_promotion", "first_week", "simulated_demotion", "simulated_promotion"]


def _binomial_pmf(volume: int, rate: float) -> np.ndarray:
    k = np.arange(volume + 1)
    log_choose = (
        special.gammaln(volume + 1) - special.gammaln(k + 1) - special.gammaln(volume - k + 1)
    )
    pmf: np.ndarray = np.exp(log_choose + k * math.log(rate) + (volume - k) * math.log1p(-rate))
    return pmf


def first_week(cumulative: Sequence[float], share: float) -> int | None:
    """The first week (1-based) by which ``share`` of the classes have moved."""
    for week, value in enumerate(cumulative, start=1):
        if value >= share - 1e-12:
            return week
    return None


def exact_promotion(rate: float, volume: int, needed: Sequence[int]) -> list[float]:
    """P(promoted by week w), w = 1.., by dynamic programming over the good count."""
    pmf = _binomial_pmf(volume, rate)
    waiting = np.ones(1)
    promoted = 0.0
    cumulative = []
    for least in needed:
        waiting = np.convolve(waiting, pmf)
        if least < len(waiting):
            promoted += float(waiting[least:].sum())
            waiting[least:] = 0.0
        cumulative.append(promoted)
    return cumulative


def _first_firing(fires: np.ndarray) -> np.ndarray:
    """Per run: the first week (1-based) a check fired, 0 when it never did."""
    first = fires.argmax(axis=1) + 1
    return np.where(fires.any(axis=1), first, 0)


def _window_sums(batches: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run and week: the good count of the last ``span`` weeks, and the weeks counted."""
    runs, weeks = batches.shape
    totals = np.concatenate([np.zeros((runs, 1), dtype=np.int64), batches.cumsum(axis=1)], axis=1)
    week = np.arange(1, weeks + 1)
    start = np.maximum(week - span, 0)
    return totals[:, week] - totals[:, start], week - start


def simulated_promotion(
    rate: float,
    volume: int,
    weeks: int,
    window: int,
    least: Callable[[int], int],
    rng: np.random.Generator,
    runs: int,
) -> list[float]:
    good, counted = _window_sums(rng.binomial(volume, rate, size=(runs, weeks)), window)
    needed = np.array([least(volume * c) for c in counted.tolist()])
    first = _first_firing(good >= needed)
    return [float(((first > 0) & (first <= w)).mean()) for w in range(1, weeks + 1)]


def simulated_demotion(
    rates: np.ndarray,
    volume: int,
    spans: Sequence[int],
    most: Callable[[int], int],
    rng: np.random.Generator,
    runs: int,
) -> np.ndarray:
    """Per run: the first week a demotion check fires on weekly batches at ``rates`` (0: never)."""
    batches = rng.binomial(volume, rates, size=(runs, len(rates)))
    fires = np.zeros(batches.shape, dtype=bool)
    for span in spans:
        good, counted = _window_sums(batches, span)
        allowed = np.array([most(volume * c) for c in counted.tolist()])
        fires |= good <= allowed
    return _first_firing(fires)
