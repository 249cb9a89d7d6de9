"""Values numbered by their distinct values, in sorted order (pandas' ``factorize(sort=True)``,
hashed by Arrow: no pandas import)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["filled", "sorted_codes"]


def sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's code (int64), the rank of its value among the distinct ones, and those
    values in order; a missing value (``None``) is -1.

    Integers sort as numbers, text by code point (Arrow compares UTF-8 bytes: the same).
    """
    encoded = pc.dictionary_encode(pa.array(values))
    distinct = encoded.dictionary
    order = np.asarray(pc.array_sort_indices(distinct), dtype=np.int64)
    rank = np.empty(len(order) + 1, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    rank[-1] = -1
    indices = encoded.indices
    at = np.asarray(pc.fill_null(indices, -1) if indices.null_count else indices, dtype=np.int64)
    codes: np.ndarray = rank[at]
    return codes, distinct.take(pa.array(order)).to_numpy(zero_copy_only=False)


def filled(text: np.ndarray) -> np.ndarray:
    """Text (an object array) with ``""`` for a missing value (``None``)."""
    missing = np.equal(text, np.array(None, dtype=object))
    found: np.ndarray = np.where(missing, "", text).astype(object)
    return found
