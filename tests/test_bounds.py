"""Tests for ``trustctl.bounds``: published values, an independent reference file, a live
cross-check against statsmodels and hypothesis properties.

The reference file ``tests/reference/bounds_reference.json`` is produced without trustctl by
``python tests/reference/make_bounds_reference.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta

from trustctl.bounds import (
    Method,
    clean_needed,
    lower_bound,
    posterior_mean,
    prob_at_least,
    summarise,
    upper_bound,
)

REFERENCE = json.loads((Path(__file__).parent / "reference" / "bounds_reference.json").read_text())
CP: Method = "clopper-pearson"
BETA: Method = "beta"
UNIFORM = (1.0, 1.0)
JEFFREYS = (0.5, 0.5)
METHODS: list[Method] = [CP, BETA, "anytime"]

FAST = settings(max_examples=60, deadline=None)


@st.composite
def counts(draw: st.DrawFn, max_n: int = 5000, min_n: int = 0) -> tuple[int, int]:
    """A valid ``(k, n)`` pair with ``0 <= k <= n <= max_n``."""
    n = draw(st.integers(min_value=min_n, max_value=max_n))
    k = draw(st.integers(min_value=0, max_value=n))
    return k, n


confidences = st.floats(min_value=0.5, max_value=0.999)
priors = st.sampled_from([UNIFORM, JEFFREYS])
methods = st.sampled_from(METHODS)


# --- values given by the product owner in the issue -------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(50, 50, 0.941845), (200, 200, 0.985133), (990, 1000, 0.983097)],
)
def test_clopper_pearson_95_lower_matches_issue(k: int, n: int, expected: float) -> None:
    assert lower_bound(k, n, 0.95, CP, UNIFORM) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(50, 50, 0.942952), (48, 50, 0.881651), (199, 200, 0.976617)],
)
def test_beta_uniform_95_lower_matches_issue(k: int, n: int, expected: float) -> None:
    assert lower_bound(k, n, 0.95, BETA, UNIFORM) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("k", "n", "expected"), [(48, 50, 0.983777), (190, 200, 0.969010)])
def test_beta_uniform_95_upper_matches_issue(k: int, n: int, expected: float) -> None:
    assert upper_bound(k, n, 0.95, BETA, UNIFORM) == pytest.approx(expected, abs=1e-6)


# --- the independent reference file -----------------------------------------------------


def _prior(row: dict[str, Any]) -> tuple[float, float]:
    a, b = row["prior"]
    return float(a), float(b)


def _bound_id(row: dict[str, Any]) -> str:
    prior = "" if row["method"] == CP else "-prior{}_{}".format(*row["prior"])
    return f"{row['method']}{prior}-c{row['confidence']}-k{row['k']}_n{row['n']}"


def _posterior_id(row: dict[str, Any]) -> str:
    return "prior{}_{}-k{}_n{}".format(*row["prior"], row["k"], row["n"])


def _clean_id(row: dict[str, Any]) -> str:
    prior = "" if row["method"] == CP else "-prior{}_{}".format(*row["prior"])
    return (
        f"{row['method']}{prior}-c{row['confidence']}-k{row['k']}_n{row['n']}"
        f"-t{row['threshold']}-min{row['min_decisions']}"
    )


def test_reference_file_covers_the_edge_cases() -> None:
    pairs = {(row["k"], row["n"]) for row in REFERENCE["bounds"]}
    assert {(0, 0), (0, 1), (1, 1), (0, 5), (5, 5), (990, 1000), (99990, 100000)} <= pairs
    needed = {
        (row["k"], row["n"], row["threshold"], row["min_decisions"], row["method"]): row["needed"]
        for row in REFERENCE["clean_needed"]
        if row["confidence"] == 0.95
    }
    assert needed[(45, 47, 0.95, 50, CP)] == 77
    assert needed[(0, 0, 0.95, 50, CP)] == 59


@pytest.mark.parametrize("row", REFERENCE["bounds"], ids=_bound_id)
def test_bounds_match_reference(row: dict[str, Any]) -> None:
    args = (row["k"], row["n"], row["confidence"], row["method"], _prior(row))
    assert lower_bound(*args) == pytest.approx(row["lower"], abs=1e-9, rel=0)
    assert upper_bound(*args) == pytest.approx(row["upper"], abs=1e-9, rel=0)
    summary = summarise(*args)
    assert summary.lower == lower_bound(*args)
    assert summary.upper == upper_bound(*args)


@pytest.mark.parametrize("row", REFERENCE["posterior"], ids=_posterior_id)
def test_posterior_matches_reference(row: dict[str, Any]) -> None:
    k, n, prior = row["k"], row["n"], _prior(row)
    assert posterior_mean(k, n, prior) == pytest.approx(row["mean"], abs=1e-9, rel=0)
    assert summarise(k, n, 0.95, BETA, prior).mean == posterior_mean(k, n, prior)
    for threshold, expected in row["prob_at_least"].items():
        got = prob_at_least(k, n, float(threshold), prior)
        assert got == pytest.approx(expected, abs=1e-9, rel=0), threshold


@pytest.mark.parametrize("row", REFERENCE["clean_needed"], ids=_clean_id)
def test_clean_needed_matches_brute_force_reference(row: dict[str, Any]) -> None:
    got = clean_needed(
        row["k"],
        row["n"],
        row["threshold"],
        row["min_decisions"],
        row["confidence"],
        row["method"],
        _prior(row),
    )
    assert got == row["needed"]


# --- live cross-check against statsmodels -----------------------------------------------


@FAST
@given(kn=counts(min_n=1), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.975, 0.99, 0.999]))
def test_clopper_pearson_matches_statsmodels(kn: tuple[int, int], confidence: float) -> None:
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    k, n = kn
    low, high = proportion.proportion_confint(k, n, alpha=2 * (1 - confidence), method="beta")
    assert lower_bound(k, n, confidence, CP, UNIFORM) == pytest.approx(low, abs=1e-9, rel=0)
    assert upper_bound(k, n, confidence, CP, UNIFORM) == pytest.approx(high, abs=1e-9, rel=0)


# --- properties ---------------------------------------------------------------------------


@FAST
@given(kn=counts(min_n=1), confidence=confidences)
def test_clopper_pearson_brackets_observed_rate(kn: tuple[int, int], confidence: float) -> None:
    k, n = kn
    lower = lower_bound(k, n, confidence, CP, UNIFORM)
    upper = upper_bound(k, n, confidence, CP, UNIFORM)
    assert 0.0 <= lower <= k / n <= upper <= 1.0
    assert (lower == 0.0) == (k == 0)
    assert (upper == 1.0) == (k == n)


@FAST
# Confidence well above 0.5: at 0.5 the lower quantile *is* the median, up to an ulp.
@given(kn=counts(), confidence=st.floats(min_value=0.6, max_value=0.999), prior=priors)
def test_beta_bounds_bracket_posterior_median(
    kn: tuple[int, int], confidence: float, prior: tuple[float, float]
) -> None:
    # A Beta posterior need not bracket k / n (the prior pulls it inwards: 50/50 has an upper
    # bound below 1), so the property is about the posterior itself.
    k, n = kn
    lower = lower_bound(k, n, confidence, BETA, prior)
    upper = upper_bound(k, n, confidence, BETA, prior)
    if n == 0:
        assert (lower, upper) == (0.0, 1.0)
        return
    a, b = prior
    median = beta.median(a + k, b + n - k)
    assert 0.0 <= lower <= median <= upper <= 1.0
    # The lower bound is the point above which the posterior puts mass `confidence`.
    assert prob_at_least(k, n, lower, prior) == pytest.approx(confidence, abs=1e-9)


@FAST
@given(
    kn=counts(max_n=2000),
    extra=st.integers(min_value=1, max_value=500),
    confidence=confidences,
    method=methods,
    prior=priors,
)
def test_lower_bound_grows_with_clean_decisions(
    kn: tuple[int, int],
    extra: int,
    confidence: float,
    method: Method,
    prior: tuple[float, float],
) -> None:
    k, n = kn
    before = lower_bound(k, n, confidence, method, prior)
    one_more = lower_bound(k + 1, n + 1, confidence, method, prior)
    many_more = lower_bound(k + extra, n + extra, confidence, method, prior)
    assert before <= one_more <= many_more
    if n > 0:  # with evidence, a clean decision strictly raises the bound
        assert before < one_more


@FAST
@given(
    kn=counts(max_n=1000),
    threshold=st.floats(min_value=0.5, max_value=0.995),
    min_decisions=st.integers(min_value=1, max_value=300),
    confidence=st.sampled_from([0.9, 0.95, 0.99]),
    method=methods,
    prior=priors,
)
def test_clean_needed_is_minimal(
    kn: tuple[int, int],
    threshold: float,
    min_decisions: int,
    confidence: float,
    method: Method,
    prior: tuple[float, float],
) -> None:
    k, n = kn

    def passes(m: int) -> bool:
        lower = lower_bound(k + m, n + m, confidence, method, prior)
        return n + m >= min_decisions and lower >= threshold

    needed = clean_needed(k, n, threshold, min_decisions, confidence, method, prior)
    assert needed is not None
    assert needed >= max(0, min_decisions - n)
    assert passes(needed)
    if needed > 0:
        assert not passes(needed - 1)


def test_clean_needed_when_min_decisions_dominates() -> None:
    # 100 of 100 already clears 0.9 by the bound; only the count is missing.
    assert lower_bound(100, 100, 0.95, CP, UNIFORM) >= 0.9
    assert clean_needed(100, 100, 0.9, 300, 0.95, CP, UNIFORM) == 200


def test_clean_needed_is_none_when_threshold_unreachable() -> None:
    assert clean_needed(0, 0, 1.0, 1, 0.95, CP, UNIFORM) is None


# --- P(agreement >= threshold) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "n", "prior"),
    [(48, 50, UNIFORM), (45, 47, UNIFORM), (190, 200, JEFFREYS), (0, 0, UNIFORM)],
)
def test_prob_agreement_at_least_95_matches_scipy(
    k: int, n: int, prior: tuple[float, float]
) -> None:
    a, b = prior
    expected = beta.sf(0.95, a + k, b + n - k)
    assert prob_at_least(k, n, 0.95, prior) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_prob_agreement_known_value() -> None:
    # 48 of 50 under a uniform prior: Beta(49, 3). Closed form of the upper tail at t:
    # 1 - I_t(49, 3) = (1 - t)^3 * sum_{j<49} C(j + 2, 2) t^j  (negative binomial sum).
    t = 0.95
    closed_form = (1 - t) ** 3 * math.fsum(math.comb(j + 2, 2) * t**j for j in range(49))
    assert prob_at_least(48, 50, t, UNIFORM) == pytest.approx(closed_form, rel=1e-12)
    assert prob_at_least(48, 50, t, UNIFORM) == pytest.approx(beta.sf(t, 49, 3), rel=1e-12)


# --- invalid input --------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(6, 5), (1, 0), (-1, 5), (0, -1), (-2, -1)])
def test_invalid_counts_raise(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        lower_bound(k, n, 0.95, CP, UNIFORM)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        upper_bound(k, n, 0.95, BETA, UNIFORM)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        posterior_mean(k, n, UNIFORM)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        prob_at_least(k, n, 0.95, UNIFORM)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        summarise(k, n, 0.95, CP, UNIFORM)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clean_needed(k, n, 0.95, 50, 0.95, CP, UNIFORM)
