"""Regenerate ``tests/reference/bounds_reference.json`` independently of trustctl.

Rerun from the repository root with::

    python tests/reference/make_bounds_reference.py

(needs ``scipy`` and ``statsmodels``, both test dependencies). The script never imports
``trustctl``: every number comes from ``scipy.stats.beta`` or from
``statsmodels.stats.proportion.proportion_confint(method="beta")``, so that
``tests/test_bounds.py`` checks ``trustctl.bounds`` against an independent computation.

Conventions encoded here (they are trustctl's documented definitions):

* a one-sided Clopper-Pearson bound at confidence ``c`` is the matching end of the
  two-sided ``1 - 2 (1 - c)`` interval, i.e. ``proportion_confint(k, n, alpha=2 * (1 - c),
  method="beta")`` (a one-sided 95% bound is an end of the two-sided 90% interval). It is
  computed both with statsmodels and with ``scipy.stats.beta.ppf``; the two must agree;
* with no evidence (``n == 0``) the lower bound is 0 and the upper bound is 1 by
  definition, for both methods (statsmodels cannot be asked about ``n == 0``, and trustctl
  does not report the prior's quantiles as bounds). The posterior mean and ``P(p >= t)``
  at ``n == 0`` are those of the prior;
* the Beta posterior for prior ``(a, b)`` is ``Beta(a + k, b + n - k)``; its lower and
  upper bounds are its ``1 - c`` and ``c`` quantiles and ``P(p >= t)`` is
  ``beta.sf(t, a + k, b + n - k)``;
* "clean decisions needed" is the smallest ``m >= 0`` with ``n + m >= min_decisions`` and
  lower bound of ``(k + m, n + m)`` at least ``threshold``, found here by brute force,
  stepping ``m = 0, 1, 2, ...``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import scipy
import statsmodels
from scipy.stats import beta
from statsmodels.stats.proportion import proportion_confint

OUTPUT = Path(__file__).with_name("bounds_reference.json")

Prior = tuple[float, float]

#: (k, n) grid, edge cases included: n = 0, n = 1, k = 0, k = n, large n.
CASES: list[tuple[int, int]] = [
    (0, 0),
    (0, 1),
    (1, 1),
    (0, 5),
    (5, 5),
    (3, 10),
    (7, 10),
    (0, 50),
    (25, 50),
    (45, 47),
    (48, 50),
    (50, 50),
    (190, 200),
    (199, 200),
    (200, 200),
    (0, 1000),
    (500, 1000),
    (990, 1000),
    (1000, 1000),
    (99990, 100000),
]
CONFIDENCES = [0.95, 0.99]
PRIORS: list[Prior] = [(1.0, 1.0), (0.5, 0.5)]
THRESHOLDS = [0.5, 0.9, 0.95, 0.99]

#: (k, n, threshold, min_decisions, confidence, method, prior, known answer or None).
CLEAN_CASES: list[tuple[int, int, float, int, float, str, Prior, int | None]] = [
    (45, 47, 0.95, 50, 0.95, "clopper-pearson", (1.0, 1.0), 77),
    (0, 0, 0.95, 50, 0.95, "clopper-pearson", (1.0, 1.0), 59),
    # min_decisions dominates: the bound clears 0.9 long before 300 decisions.
    (100, 100, 0.9, 300, 0.95, "clopper-pearson", (1.0, 1.0), 200),
    (0, 0, 0.5, 120, 0.95, "beta", (1.0, 1.0), 120),
    # Already passing.
    (200, 200, 0.95, 50, 0.95, "clopper-pearson", (1.0, 1.0), 0),
    (0, 1, 0.5, 1, 0.95, "clopper-pearson", (1.0, 1.0), None),
    (45, 47, 0.95, 50, 0.99, "clopper-pearson", (1.0, 1.0), None),
    (45, 47, 0.95, 50, 0.95, "beta", (1.0, 1.0), None),
    (0, 0, 0.95, 50, 0.95, "beta", (1.0, 1.0), None),
    (0, 0, 0.95, 50, 0.95, "beta", (0.5, 0.5), None),
    (90, 100, 0.95, 50, 0.95, "clopper-pearson", (1.0, 1.0), None),
    (190, 200, 0.99, 100, 0.95, "beta", (1.0, 1.0), None),
    (3, 10, 0.8, 20, 0.99, "beta", (0.5, 0.5), None),
]


def cp_scipy(k: int, n: int, confidence: float) -> tuple[float, float]:
    """One-sided Clopper-Pearson bounds straight from ``scipy.stats.beta.ppf``."""
    if n == 0:
        return 0.0, 1.0  # no evidence: trustctl's convention
    lower = 0.0 if k == 0 else float(beta.ppf(1 - confidence, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(confidence, k + 1, n - k))
    return lower, upper


def cp_statsmodels(k: int, n: int, confidence: float) -> tuple[float, float]:
    """The same bounds as the ends of the two-sided ``1 - 2 (1 - c)`` statsmodels interval."""
    if n == 0:
        return 0.0, 1.0  # no evidence: trustctl's convention
    low, high = proportion_confint(k, n, alpha=2 * (1 - confidence), method="beta")
    return float(low), float(high)


def clopper_pearson(k: int, n: int, confidence: float) -> tuple[float, float]:
    """Statsmodels' bounds, after checking that scipy gives the same numbers."""
    from_scipy = cp_scipy(k, n, confidence)
    from_statsmodels = cp_statsmodels(k, n, confidence)
    for ours, theirs in zip(from_scipy, from_statsmodels, strict=True):
        if abs(ours - theirs) > 1e-12:
            raise AssertionError(f"scipy {from_scipy} != statsmodels {from_statsmodels}")
    return from_statsmodels


def beta_posterior(k: int, n: int, confidence: float, prior: Prior) -> tuple[float, float]:
    """Quantiles ``1 - c`` and ``c`` of the posterior ``Beta(a + k, b + n - k)``."""
    if n == 0:
        return 0.0, 1.0  # no evidence: trustctl's convention, for this method too
    a, b = prior
    return (
        float(beta.ppf(1 - confidence, a + k, b + n - k)),
        float(beta.ppf(confidence, a + k, b + n - k)),
    )


def bounds(k: int, n: int, confidence: float, method: str, prior: Prior) -> tuple[float, float]:
    if method == "clopper-pearson":
        return clopper_pearson(k, n, confidence)
    return beta_posterior(k, n, confidence, prior)


def clean_needed_brute_force(
    k: int,
    n: int,
    threshold: float,
    min_decisions: int,
    confidence: float,
    method: str,
    prior: Prior,
) -> int:
    """Step ``m = 0, 1, 2, ...`` until the gate passes."""
    m = 0
    while not (
        n + m >= min_decisions and bounds(k + m, n + m, confidence, method, prior)[0] >= threshold
    ):
        m += 1
    return m


def build() -> dict[str, Any]:
    bound_rows: list[dict[str, Any]] = []
    for k, n in CASES:
        for confidence in CONFIDENCES:
            lower, upper = clopper_pearson(k, n, confidence)
            bound_rows.append(
                {
                    "k": k,
                    "n": n,
                    "confidence": confidence,
                    "method": "clopper-pearson",
                    "prior": [1.0, 1.0],
                    "lower": lower,
                    "upper": upper,
                }
            )
            for prior in PRIORS:
                lower, upper = beta_posterior(k, n, confidence, prior)
                bound_rows.append(
                    {
                        "k": k,
                        "n": n,
                        "confidence": confidence,
                        "method": "beta",
                        "prior": list(prior),
                        "lower": lower,
                        "upper": upper,
                    }
                )

    posterior_rows: list[dict[str, Any]] = []
    for k, n in CASES:
        for a, b in PRIORS:
            posterior_rows.append(
                {
                    "k": k,
                    "n": n,
                    "prior": [a, b],
                    "mean": float(beta.mean(a + k, b + n - k)),
                    "prob_at_least": {
                        str(t): float(beta.sf(t, a + k, b + n - k)) for t in THRESHOLDS
                    },
                }
            )

    clean_rows: list[dict[str, Any]] = []
    for k, n, threshold, min_decisions, confidence, method, prior, known in CLEAN_CASES:
        needed = clean_needed_brute_force(k, n, threshold, min_decisions, confidence, method, prior)
        if known is not None and needed != known:
            raise AssertionError(f"{(k, n, threshold, min_decisions)}: {needed} != {known}")
        clean_rows.append(
            {
                "k": k,
                "n": n,
                "threshold": threshold,
                "min_decisions": min_decisions,
                "confidence": confidence,
                "method": method,
                "prior": list(prior),
                "needed": needed,
            }
        )

    return {
        "generated_by": "python tests/reference/make_bounds_reference.py",
        "versions": {"scipy": scipy.__version__, "statsmodels": statsmodels.__version__},
        "bounds": bound_rows,
        "posterior": posterior_rows,
        "clean_needed": clean_rows,
    }


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
