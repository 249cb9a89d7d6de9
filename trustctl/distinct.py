"""Values numbered by their distinct values, in sorted order (pandas' ``factorize(sort=True)``,
hashed by Arrow: no pandas import)."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc

from trustctl.arrays import from_numpy, scalar, strings, text_values, to_numpy

__all__ = ["filled", "sorted_codes"]


def sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code (int64), the rank of its value among the distinct ones, and those
    values in order; a missing value (``None``) is -1.

    Integers sort as numbers, text by code point (Arrow compares UTF-8 bytes: the same).
    """
    text = values.dtype == object
    encoded = pc.dictionary_encode(strings(values) if text else from_numpy(values))
    distinct = encoded.dictionary
    order = to_numpy(pc.array_sort_indices(distinct)).astype(np.int64)
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    rank[-1] = -1
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, scalar(-1, indices.type))
    codes: np.ndarray = rank[to_numpy(indices)]
    ordered = distinct.take(from_numpy(order))
    return codes, text_values(ordered) if text else to_numpy(ordered)


def filled(text: np.ndarray) -> np.ndarray:
    """Text (an object array) with ``""`` for a missing value (``None``)."""
    missing = np.equal(text, np.array(None, dtype=object))
    found: np.ndarray = np.where(missing, "", text).astype(object)
    return found
