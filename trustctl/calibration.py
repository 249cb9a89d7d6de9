"""How well the agent's confidence predicts human approval: reliability bins, Brier, ECE, cuts.

On the decisions a human judged that carry ``ai_confidence`` (``p``), with ``y = 1`` for
approved and ``0`` for rejected, modified or overridden (a timeout is no judgement):

* Brier score ``= mean((p - y)²)``;
* reliability bins: ten equal bins ``[0, 0.1), [0.1, 0.2), …, [0.9, 1.0]``, each with its
  count, mean confidence and approval rate;
* expected calibration error ``ECE = Σ_b (n_b / N) · |mean p_b - approval rate_b|``;
* for each cut ``c`` in 0.50, 0.55, …, 0.95: the approval rate of the decisions with
  ``p ≥ c`` and its lower bound (the gates' method), the figure behind "auto-approve
  above 0.9".

>>> c = calibrate(np.array([0.95, 0.05]), np.array([True, False]), lambda k, n: 0.0)
>>> round(c.brier, 4), round(c.ece, 4)
(0.0025, 0.05)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustctl.schema import HUMAN_CODES, JUDGED

__all__ = [
    "BINS",
    "CUTS",
    "Calibration",
    "ConfidenceBin",
    "ConfidenceCut",
    "calibrate",
    "of_decisions",
]

BINS = 10
#: The bins' lower edges as the decimals they are (``0.3``, not ``0.30000000000000004``).
_EDGES = np.array([i / BINS for i in range(BINS)])
#: The cuts the approval rate is reported above.
CUTS: tuple[float, ...] = tuple(i / 100 for i in range(50, 100, 5))


@dataclass(frozen=True)
class ConfidenceBin:
    """One bin of the reliability diagram."""

    low: float
    high: float
    count: int
    mean_confidence: float | None
    """``None`` for an empty bin."""
    approval_rate: float | None
    """``None`` for an empty bin."""


@dataclass(frozen=True)
class ConfidenceCut:
    """The decisions at or above one confidence cut."""

    cut: float
    reviewed: int
    approved: int
    lower: float
    """Lower bound of the approval rate (0 when nothing was reviewed)."""

    @property
    def rate(self) -> float | None:
        """``approved / reviewed``, ``None`` when nothing was reviewed."""
        return self.approved / self.reviewed if self.reviewed else None


@dataclass(frozen=True)
class Calibration:
    """Calibration of ``ai_confidence`` against human approval."""

    decisions: int
    """Judged decisions with a confidence."""
    brier: float
    ece: float
    bins: tuple[ConfidenceBin, ...]
    cuts: tuple[ConfidenceCut, ...]


def calibrate(
    confidence: np.ndarray, approved: np.ndarray, lower: Callable[[int, int], float]
) -> Calibration | None:
    """The calibration of judged decisions; ``None`` when none carries a confidence.

    ``confidence`` is a float array (NaN = not given), ``approved`` a bool array of the
    same length, ``lower(k, n)`` the lower bound of ``k`` of ``n``.
    """
    given = ~np.isnan(confidence)
    p = confidence[given].astype(np.float64)
    y = approved[given].astype(np.float64)
    if not len(p):
        return None
    which = np.clip(np.searchsorted(_EDGES, p, side="right") - 1, 0, BINS - 1)
    counts = np.bincount(which, minlength=BINS)
    sum_p = np.bincount(which, weights=p, minlength=BINS)
    sum_y = np.bincount(which, weights=y, minlength=BINS)
    bins = []
    ece = 0.0
    for b in range(BINS):
        n = int(counts[b])
        mean_p = float(sum_p[b] / n) if n else None
        rate = float(sum_y[b] / n) if n else None
        if mean_p is not None and rate is not None:
            ece += n / len(p) * abs(mean_p - rate)
        bins.append(ConfidenceBin(_EDGES[b], (b + 1) / BINS, n, mean_p, rate))
    cuts = []
    for cut in CUTS:
        above = p >= cut
        n, k = int(above.sum()), int(y[above].sum())
        cuts.append(ConfidenceCut(cut, n, k, lower(k, n) if n else 0.0))
    return Calibration(
        decisions=len(p),
        brier=float(np.mean((p - y) ** 2)),
        ece=ece,
        bins=tuple(bins),
        cuts=tuple(cuts),
    )


_JUDGED_CODES = [HUMAN_CODES[h] for h in JUDGED]


def of_decisions(decisions: pd.DataFrame, lower: Callable[[int, int], float]) -> Calibration | None:
    """``calibrate`` on the judged decisions of a decisions frame (``Decisions.frame``)."""
    judged = decisions[decisions["human_decision"].isin(_JUDGED_CODES)]
    return calibrate(
        judged["ai_confidence"].to_numpy(dtype=np.float64),
        (judged["human_decision"] == HUMAN_CODES["approved"]).to_numpy(),
        lower,
    )
