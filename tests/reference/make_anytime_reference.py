"""Regenerate ``tests/reference/anytime_reference.json`` by numerical integration, without trustctl.

Rerun from the repository root with::

    python tests/reference/make_anytime_reference.py

(needs ``scipy``, a test dependency). Nothing here uses the incomplete beta function that
``trustctl.bounds`` uses: each mixture is integrated numerically by ``scipy.integrate.quad``
and each bound is found by plain bisection.

Definitions (``α = 1 - confidence``, ``f(q) = q^k (1 - q)^(n - k)``):

* lower bound: the largest ``t`` with ``M(t) = ∫_t^1 f(q) dq / ((1 - t) f(t)) >= 1/α``
  (the likelihood ratio against ``t`` mixed over ``q ~ Uniform[t, 1]``), 0 when none. With
  ``q = t + (1 - t) u``: ``M(t) = ∫_0^1 (1 + (1 - t) u / t)^k (1 - u)^(n - k) du``;
* upper bound: the smallest ``t`` with ``∫_0^t f(q) dq / (t f(t)) >= 1/α`` (``q ~ Uniform[0, t]``),
  1 when none. With ``q = t u``: ``∫_0^1 u^k ((1 - t u) / (1 - t))^(n - k) du``;
* the sets ``{t : M(t) >= 1/α}`` are intervals ``[0, lower]`` and ``[upper, 1]``, so the gate
  "lower bound >= threshold" is "``M(threshold) >= 1/α``": "clean decisions needed" is found
  by brute force on that, stepping ``m = 0, 1, 2, ...``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import scipy
from scipy import integrate

OUTPUT = Path(__file__).with_name("anytime_reference.json")

CASES: list[tuple[int, int]] = [
    (0, 1),
    (1, 1),
    (0, 10),
    (10, 10),
    (3, 10),
    (7, 10),
    (45, 47),
    (48, 50),
    (50, 50),
    (87, 87),
    (88, 88),
    (190, 200),
    (448, 448),
    (449, 449),
    (500, 1000),
    (950, 1000),
    (990, 1000),
    (9900, 10000),
]
CONFIDENCES = [0.95, 0.99]

#: (k, n, threshold, min_decisions, confidence, known answer or None).
CLEAN_CASES: list[tuple[int, int, float, int, float, int | None]] = [
    (0, 0, 0.95, 50, 0.95, 88),
    (0, 0, 0.99, 200, 0.95, 449),
    (45, 47, 0.95, 50, 0.95, None),
    (95, 100, 0.9, 50, 0.95, None),
    (0, 0, 0.8, 30, 0.95, None),
    (10, 10, 0.95, 50, 0.99, None),
    (300, 300, 0.95, 50, 0.95, 0),
]


def _log_integral(log_integrand: Any, peak: float) -> float:
    """``log ∫_0^1 exp(log_integrand(u)) du``, scaled by and split at the integrand's peak."""
    peak = min(max(peak, 0.0), 1.0)
    top = log_integrand(peak)
    points = [peak] if 0.0 < peak < 1.0 else None
    value, _ = integrate.quad(
        lambda u: math.exp(log_integrand(u) - top),
        0.0,
        1.0,
        points=points,
        limit=500,
        epsabs=0.0,
        epsrel=1e-13,
    )
    return top + math.log(value)


def log_mixture_lower(k: int, n: int, t: float) -> float:
    """``log M(t)`` for the lower bound, by quadrature."""

    def log_integrand(u: float) -> float:
        rise = k * math.log1p((1 - t) * u / t) if k else 0.0
        fall = (n - k) * math.log1p(-u) if n - k else 0.0
        return rise + fall

    # The integrand peaks where q = t + (1 - t) u is the mode k / n.
    peak = (k / n - t) / (1 - t) if n else 0.0
    return _log_integral(log_integrand, peak)


def log_mixture_upper(k: int, n: int, t: float) -> float:
    """``log M(t)`` for the upper bound, by quadrature."""

    def log_integrand(u: float) -> float:
        if u == 0.0:
            return 0.0 if k == 0 else -math.inf
        rise = k * math.log(u)
        fall = (n - k) * (math.log1p(-t * u) - math.log1p(-t)) if n - k else 0.0
        return rise + fall

    peak = k / n / t if n else 1.0
    return _log_integral(log_integrand, peak)


def bisect(inside: Any, low: float, high: float) -> float:
    """The boundary between ``inside`` (true at ``low``) and not (at ``high``), to 1e-13."""
    while high - low > 1e-13:
        middle = (low + high) / 2
        if inside(middle):
            low = middle
        else:
            high = middle
    return (low + high) / 2


def bounds(k: int, n: int, confidence: float) -> tuple[float, float]:
    level = -math.log(1 - confidence)
    # The lower bound lies below the observed rate, the upper above it.
    lower, upper = 0.0, 1.0
    if k > 0:
        lower = bisect(lambda t: log_mixture_lower(k, n, t) >= level, 1e-12, k / n)
    if k < n:
        upper = 1 - bisect(lambda s: log_mixture_upper(k, n, 1 - s) >= level, 1e-12, 1 - k / n)
    return lower, upper


def clean_needed_brute_force(
    k: int, n: int, threshold: float, min_decisions: int, confidence: float
) -> int:
    level = -math.log(1 - confidence)
    m = 0
    while not (n + m >= min_decisions and log_mixture_lower(k + m, n + m, threshold) >= level):
        m += 1
    return m


def build() -> dict[str, Any]:
    issue = {(88, 88), (87, 87), (449, 449), (448, 448), (950, 1000), (0, 10)}
    rows: list[dict[str, Any]] = []
    for k, n in CASES:
        for confidence in CONFIDENCES:
            lower, upper = bounds(k, n, confidence)
            rows.append({"k": k, "n": n, "confidence": confidence, "lower": lower, "upper": upper})
            if confidence == 0.95 and (k, n) in issue:
                print(f"{k} of {n}: lower {lower:.6f}, upper {upper:.6f}")
    clean: list[dict[str, Any]] = []
    for k, n, threshold, min_decisions, confidence, known in CLEAN_CASES:
        needed = clean_needed_brute_force(k, n, threshold, min_decisions, confidence)
        if known is not None and needed != known:
            raise AssertionError(f"{(k, n, threshold, min_decisions)}: {needed} != {known}")
        clean.append(
            {
                "k": k,
                "n": n,
                "threshold": threshold,
                "min_decisions": min_decisions,
                "confidence": confidence,
                "needed": needed,
            }
        )
    return {
        "generated_by": "python tests/reference/make_anytime_reference.py",
        "versions": {"scipy": scipy.__version__},
        "bounds": rows,
        "clean_needed": clean,
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
