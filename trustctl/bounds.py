"""Confidence bounds on a binomial rate: Clopper-Pearson, Beta posterior, anytime-valid mixture.

For ``k`` successes in ``n`` trials and one-sided confidence ``c`` (``α = 1 - c``):

* Clopper-Pearson lower = ``B⁻¹(1 - c; k, n - k + 1)`` (0 when k = 0),
  upper = ``B⁻¹(c; k + 1, n - k)`` (1 when k = n);
* Beta with prior ``(a, b)``: the quantiles ``1 - c`` and ``c`` of ``Beta(a + k, b + n - k)``;
* anytime (a one-sided mixture confidence sequence, valid however often it is looked at,
  by Ville's inequality): the lower bound is the largest ``t`` with ``M(t) >= 1/α``, where
  ``M(t) = t^(-k) (1-t)^(-(n-k)-1) B(k+1, n-k+1) (1 - I_t(k+1, n-k+1))`` is the likelihood
  ratio against ``t`` mixed over ``q ~ Uniform[t, 1]`` (0 when no ``t`` has it); the upper
  bound is the smallest ``t`` with ``M'(t) = t^(-k-1) (1-t)^(-(n-k)) B(k+1, n-k+1)
  I_t(k+1, n-k+1) >= 1/α`` (``q ~ Uniform[0, t]``), which by the symmetry ``q -> 1 - q`` is
  ``1 -`` the lower bound of ``n - k`` of ``n``.

``B⁻¹(q; a, b)`` is ``scipy.special.betaincinv(a, b, q)``, the same number as
``scipy.stats.beta.ppf(q, a, b)`` without importing ``scipy.stats``. ``scipy.special`` is
imported by the first bound computed, not with this module: reading a policy needs
``RateSummary`` and no bound. The anytime root is found by Brent's method in the steps of
``scipy.optimize.brentq`` (``_brent_root``), whose import costs more than the rest of
``generate`` on a small log.

>>> round(lower_bound(50, 50, 0.95, "clopper-pearson", (1.0, 1.0)), 6)
0.941845
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Method",
    "Prior",
    "RateSummary",
    "clean_needed",
    "first_passing",
    "lower_bound",
    "posterior_mean",
    "prob_at_least",
    "summarise",
    "upper_bound",
]

Method = Literal["clopper-pearson", "beta", "anytime"]
Prior = tuple[float, float]

#: Larger than any log trustctl will see; the search for clean decisions stops there.
_SEARCH_LIMIT = 1 << 40

#: ``scipy.optimize.brentq``'s default: Brent's method converges in far fewer steps.
_ROOT_STEPS = 100


def _check(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def _log_mixture(k: int, n: int, t: float) -> float:
    """``log M(t)``: the Uniform[t, 1] mixture of likelihood ratios against rate ``t``."""
    from scipy import special

    return (
        -k * math.log(t)
        - (n - k + 1) * math.log1p(-t)
        + float(special.betaln(k + 1, n - k + 1))
        + math.log(float(special.betaincc(k + 1, n - k + 1, t)))
    )


def _anytime_lower(k: int, n: int, confidence: float) -> float:
    """The largest ``t`` with ``M(t) >= 1/α``.

    ``log M`` falls on ``(0, k/n]`` (its integrand falls pointwise there, ``log q^k (1-q)^(n-k)``
    being concave) and ``M <= 1`` from the mode ``k/n`` on, so the root below the mode is it.
    """
    if k == 0:
        return 0.0  # M <= 1 < 1/α everywhere: no rate is excluded
    level = -math.log1p(-confidence)
    high = k / n if k < n else math.nextafter(1.0, 0.0)
    low = 1e-300
    if _log_mixture(k, n, high) >= level:
        return high
    return _brent_root(lambda t: _log_mixture(k, n, t) - level, low, high, tolerance=1e-15)


def _brent_root(f: Callable[[float], float], a: float, b: float, tolerance: float) -> float:
    """A root of ``f`` in ``[a, b]`` where ``f(a)`` and ``f(b)`` differ in sign.

    Brent's method (R. P. Brent, *Algorithms for Minimization Without Derivatives*, 1973,
    ch. 4) step for step as ``scipy.optimize.brentq(f, a, b, xtol=tolerance,
    rtol=tolerance)`` takes it (Charles Harris's ``brentq.c``, BSD licence), so the same
    floating-point operations give the same root to the last bit
    (``tests/test_bounds.py`` compares the two). Inverse quadratic or secant steps while
    they shrink the bracket fast enough, else bisection; done when the bracket's half is
    below ``(tolerance + tolerance * |x|) / 2``.
    """
    previous, current = a, b
    f_previous, f_current = f(previous), f(current)
    if f_previous * f_current > 0:
        raise ValueError("f(a) and f(b) must have different signs")
    if f_previous == 0:
        return previous
    if f_current == 0:
        return current
    # ``current`` is the best guess; the root lies between it and ``far``.
    far = f_far = step_before = step = 0.0
    for _ in range(_ROOT_STEPS):
        if f_previous * f_current < 0:
            far, f_far = previous, f_previous
            step_before = step = current - previous
        if abs(f_far) < abs(f_current):
            previous, current, far = current, far, current
            f_previous, f_current, f_far = f_current, f_far, f_current
        delta = (tolerance + tolerance * abs(current)) / 2
        half = (far - current) / 2
        if f_current == 0 or abs(half) < delta:
            return current
        if abs(step_before) > delta and abs(f_current) < abs(f_previous):
            if previous == far:  # secant
                trial = -f_current * (current - previous) / (f_current - f_previous)
            else:  # inverse quadratic
                slope_previous = (f_previous - f_current) / (previous - current)
                slope_far = (f_far - f_current) / (far - current)
                trial = (
                    -f_current
                    * (f_far * slope_far - f_previous * slope_previous)
                    / (slope_far * slope_previous * (f_far - f_previous))
                )
            if 2 * abs(trial) < min(abs(step_before), 3 * abs(half) - delta):
                step_before, step = step, trial
            else:
                step_before = step = half
        else:
            step_before = step = half
        previous, f_previous = current, f_current
        current += step if abs(step) > delta else (delta if half > 0 else -delta)
        f_current = f(current)
    raise RuntimeError(f"no root found in {_ROOT_STEPS} steps")


def lower_bound(k: int, n: int, confidence: float, method: Method, prior: Prior) -> float:
    """One-sided lower bound on the rate; 0 when there is no evidence."""
    from scipy import special

    _check(k, n)
    if n == 0:
        return 0.0
    if method == "anytime":
        return _anytime_lower(k, n, confidence)
    if method == "clopper-pearson":
        return 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, 1 - confidence))
    a, b = prior
    return float(special.betaincinv(a + k, b + n - k, 1 - confidence))


def upper_bound(k: int, n: int, confidence: float, method: Method, prior: Prior) -> float:
    """One-sided upper bound on the rate; 1 when there is no evidence."""
    from scipy import special

    _check(k, n)
    if n == 0:
        return 1.0
    if method == "anytime":
        return 1.0 - _anytime_lower(n - k, n, confidence)
    if method == "clopper-pearson":
        return 1.0 if k == n else float(special.betaincinv(k + 1, n - k, confidence))
    a, b = prior
    return float(special.betaincinv(a + k, b + n - k, confidence))


def posterior_mean(k: int, n: int, prior: Prior) -> float:
    """Mean of the posterior ``Beta(a + k, b + n - k)``."""
    _check(k, n)
    a, b = prior
    return (a + k) / (a + b + n)


def prob_at_least(k: int, n: int, threshold: float, prior: Prior) -> float:
    """``P(p >= threshold)`` under the posterior ``Beta(a + k, b + n - k)``."""
    from scipy import special

    _check(k, n)
    a, b = prior
    # The upper tail of Beta(α, β) at t equals the CDF of Beta(β, α) at 1 - t.
    return float(special.betainc(b + n - k, a + k, 1 - threshold))


@dataclass(frozen=True)
class RateSummary:
    """Everything the policy reports about one rate."""

    k: int
    """Decisions that count for the rate (agreed, succeeded)."""
    n: int
    """Decisions the rate is measured on (reviewed, verified)."""
    rate: float | None
    """``k / n``, or ``None`` when ``n == 0``."""
    mean: float
    """Posterior mean under the rules' prior."""
    lower: float
    """One-sided lower bound by the gate's method."""
    upper: float
    """One-sided upper bound by the gate's method."""


def summarise(k: int, n: int, confidence: float, method: Method, prior: Prior) -> RateSummary:
    """Rate, posterior mean and both bounds for ``k`` of ``n``."""
    return RateSummary(
        k=k,
        n=n,
        rate=k / n if n else None,
        mean=posterior_mean(k, n, prior),
        lower=lower_bound(k, n, confidence, method, prior),
        upper=upper_bound(k, n, confidence, method, prior),
    )


def clean_needed(
    k: int,
    n: int,
    threshold: float,
    min_decisions: int,
    confidence: float,
    method: Method,
    prior: Prior,
) -> int | None:
    """The fewest further all-good decisions ``m`` that make the gate pass.

    The gate passes when ``n + m >= min_decisions`` and the lower bound of
    ``(k + m) / (n + m)`` is at least ``threshold``. The lower bound only grows
    with ``m``, so the answer is found by doubling then bisection: O(log m)
    bound evaluations. ``None`` when no count below ``2**40`` suffices.
    """
    _check(k, n)

    def passes(m: int) -> bool:
        return (
            n + m >= min_decisions
            and lower_bound(k + m, n + m, confidence, method, prior) >= threshold
        )

    if passes(0):
        return 0
    high = max(1, min_decisions - n)
    while not passes(high):
        if high >= _SEARCH_LIMIT:
            return None
        high *= 2
    return first_passing(passes, high // 2, high)  # high // 2 is 0 or a bound that failed


def first_passing(passes: Callable[[int], bool], low: int, high: int) -> int:
    """The least ``k`` in ``(low, high]`` with ``passes(k)``, for a ``passes`` that is false at
    ``low``, true at ``high`` and never false again once true (neither end is evaluated)."""
    while high - low > 1:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle
    return high
