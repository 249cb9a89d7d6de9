"""Confidences read without pandas give pandas' numbers exactly, and the same sorted codes.

``ingest.checks`` reads plain decimals with ``float`` and leaves other spellings to
``pandas.to_numeric``; ``trustctl.distinct.sorted_codes`` numbers values as
``pandas.factorize(sort=True)`` does. Both are compared here with pandas itself.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa

from trustctl.distinct import sorted_codes
from trustctl.ingest.checks import confidence_numbers


def _pandas(texts: list[str]) -> np.ndarray:
    return np.asarray(pd.to_numeric(pa.array(texts).to_pandas(), errors="coerce"), dtype=float)


def _same_bits(texts: list[str]) -> None:
    mine = confidence_numbers(pa.array(texts, pa.string()))
    assert mine.view(np.int64).tolist() == _pandas(texts).view(np.int64).tolist()


def test_every_six_digit_confidence_reads_as_pandas_reads_it() -> None:
    _same_bits([f"{i / 10**6:.6f}" for i in range(10**6 + 1)])


def test_random_plain_decimals_read_as_pandas_reads_them() -> None:
    rng = random.Random(14)
    digits = "0123456789"
    texts = [
        "".join(rng.choices(digits, k=rng.randint(0, 3)))
        + "."
        + "".join(rng.choices(digits, k=rng.randint(1, 12)))
        for _ in range(100_000)
    ]
    _same_bits([*texts, "0", "1", "1.", ".5", "00.50", "0.123456789012345"])


def test_other_spellings_are_left_to_pandas() -> None:
    _same_bits(["0.5", "1e-1", " 0.5", "+0.5", "-0", "nan", "inf", "0x1", "٠.٥", "half", ""])
    _same_bits(["0.1234567890123456"])  # 16 digits: not read by float


def test_sorted_codes_are_pandas_factorize_sorted() -> None:
    rng = np.random.default_rng(14)
    cases = [
        rng.integers(0, 2**63, 50_000).astype(np.uint64),
        rng.integers(0, 40, 1_000).astype(np.int8),
        np.array(["b", "a", "", "é", "Z", "a", None, "zz", "ä"], dtype=object),
        np.array([str(v) for v in rng.integers(0, 500, 5_000)], dtype=object),
        np.zeros(0, dtype=object),
    ]
    for values in cases:
        codes, distinct = sorted_codes(values)
        expected, uniques = pd.factorize(values, sort=True)
        assert codes.tolist() == expected.tolist()
        assert list(distinct) == list(np.asarray(uniques))


def test_confidence_codes_are_pandas_factorize() -> None:
    from trustctl.ingest.checks import _first_seen_codes

    numbers = np.array([0.5, np.nan, 0.25, 0.5, -0.0, 1.0, 0.0, 0.25, np.nan])
    codes, count = _first_seen_codes(numbers)
    expected, uniques = pd.factorize(numbers)
    assert codes.tolist() == expected.tolist()
    assert count == len(uniques)
