"""Rows grouped by decision, and each decision's rows reduced: checked against plain loops."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from trustctl.ingest.grouping import group_rows


def _ids(seed: int) -> list[str]:
    """Ids of decisions with 1 to 30 rows each (beyond the whole-array steps), shuffled."""
    rng = np.random.default_rng(seed)
    sizes = rng.choice([1, 1, 1, 2, 2, 3, 5, 9, 30], size=300)
    ids = [f"id-{decision:05d}" for decision, size in enumerate(sizes) for _ in range(size)]
    return [ids[i] for i in rng.permutation(len(ids))]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("ufunc", "reduce"), [(np.maximum, max), (np.minimum, min), (np.logical_or, any)]
)
def test_reduce_is_each_decisions_rows_reduced(seed: int, ufunc: np.ufunc, reduce: object) -> None:
    ids = _ids(seed)
    rng = np.random.default_rng(seed + 10)
    values = rng.integers(-1, 6, len(ids)).astype(np.int8)
    if ufunc is np.logical_or:
        values = values > 3
    groups = group_rows(pa.array(ids))
    by_id: dict[str, list[object]] = {}
    for decision_id, value in zip(ids, values.tolist(), strict=True):
        by_id.setdefault(decision_id, []).append(value)
    expected = [reduce(by_id[decision_id]) for decision_id in sorted(by_id)]  # type: ignore[operator]
    assert groups.reduce(ufunc, values).tolist() == expected
    chosen = np.arange(groups.count)[::-3]
    assert groups.select(chosen).reduce(ufunc, values).tolist() == [expected[i] for i in chosen]
