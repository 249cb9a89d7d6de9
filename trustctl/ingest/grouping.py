"""Grouping rows by decision: one sort of the ids, read as numbers where they can be."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.arrays import to_numpy
from trustctl.distinct import sorted_codes
from trustctl.ingest.columns import offsets

__all__ = ["Grouping", "blank_ids", "group_rows", "merged_codes"]

#: Rows of a decision that ``Grouping.reduce`` takes in whole-array steps; beyond, one by one.
_STEPS = 8


@dataclass(frozen=True)
class Grouping:
    """The rows of each decision, found once and reused by every merged field.

    Decisions are numbered in the order of their ids. Most have one row: a merged
    field is then that row's value, and only the decisions with several rows are reduced.
    """

    code: np.ndarray
    """Each row's decision."""
    first: np.ndarray
    """Each decision's first row."""
    several: np.ndarray
    """The decisions with more than one row."""
    rows: np.ndarray
    """Their rows, by decision, then in row order."""
    starts: np.ndarray
    """Where each of them starts in ``rows``."""

    @property
    def count(self) -> int:
        """How many decisions."""
        return len(self.first)

    @property
    def unique(self) -> bool:
        """One row per decision."""
        return not len(self.several)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """``ufunc`` (``np.minimum``, ``np.maximum``) over each decision's row values.

        The decisions with several rows take their second rows' values all at once, then
        their third rows' (those that have one), and so on: a few whole-array steps where
        ``ufunc.reduceat`` pays for each decision. The few with many rows are left to it.
        """
        merged: np.ndarray = values[self.first]
        if not len(self.several):
            return merged
        steps, many, many_rows, many_starts = self._steps
        folded = merged[self.several]
        for which, rows in steps:
            if which is None:
                folded = ufunc(folded, values[rows])
            else:
                folded[which] = ufunc(folded[which], values[rows])
        if len(many):
            folded[many] = ufunc.reduceat(values[many_rows], many_starts)
        merged[self.several] = folded
        return merged

    @functools.cached_property
    def _steps(
        self,
    ) -> tuple[list[tuple[np.ndarray | None, np.ndarray]], np.ndarray, np.ndarray, np.ndarray]:
        """For ``reduce``: per step ``k`` (from 1), the decisions (of ``several``) with a
        ``k``-th row (``None``: all of them) and those rows; then the decisions with more
        than ``_STEPS`` rows, their rows, and where each starts among them."""
        sizes = np.diff(self.starts, append=np.int32(len(self.rows)))
        few = sizes <= _STEPS
        steps: list[tuple[np.ndarray | None, np.ndarray]] = []
        for k in range(1, int(sizes[few].max(initial=1))):
            if k == 1 and few.all():
                steps.append((None, self.rows[self.starts + 1]))
            else:
                which = np.flatnonzero(few & (sizes > k))
                steps.append((which, self.rows[self.starts[which] + k]))
        many = np.flatnonzero(~few)
        many_rows = self.rows[np.repeat(~few, sizes)]
        counts = sizes[many]
        return steps, many, many_rows, (np.cumsum(counts) - counts).astype(np.int32)

    def any(self, given: np.ndarray) -> np.ndarray:
        """Whether ``given`` holds in some row of each decision."""
        return self.reduce(np.logical_or, given)

    def select(self, chosen: np.ndarray) -> Grouping:
        """The decisions ``chosen``, in that order: their merged fields come out so, with
        no gather afterwards. (``code`` still gives the rows' decisions as numbered here.)
        """
        position = np.full(self.count, -1, dtype=np.int32)
        position[chosen] = np.arange(len(chosen), dtype=np.int32)
        at = position[self.several]
        kept = at >= 0
        sizes = np.diff(self.starts, append=np.int32(len(self.rows)))
        counts = sizes[kept]
        starts = (np.cumsum(counts) - counts).astype(np.int32)
        return Grouping(
            self.code, self.first[chosen], at[kept], self.rows[np.repeat(kept, sizes)], starts
        )


def group_rows(ids: pa.Array) -> Grouping:
    """Group rows by their ``decision_id``: one stable sort of the ids' keys."""
    key = _id_keys(ids)
    order = np.argsort(key, kind="stable").astype(np.int32)
    key = key[order]
    new = np.empty(len(order), dtype=bool)
    new[:1] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    del key
    code = np.empty(len(order), dtype=np.int32)
    code[order] = np.cumsum(new, dtype=np.int32) - 1
    begins = np.flatnonzero(new).astype(np.int32)
    del new
    sizes = np.diff(begins, append=np.int32(len(order)))
    rows = order[np.repeat(sizes > 1, sizes)]
    several = np.flatnonzero(sizes > 1).astype(np.int32)
    counts = sizes[several]
    starts = (np.cumsum(counts) - counts).astype(np.int32)
    return Grouping(code, order[begins], several, rows, starts)


def blank_ids(ids: pa.Array) -> np.ndarray:
    """The rows without an id."""
    lengths = np.diff(offsets(ids))
    if lengths.min(initial=1) > 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(lengths == 0)


def _id_keys(ids: pa.Array) -> np.ndarray:
    """Each row's id as a number, in the order of the ids (equal ids, equal numbers).

    Ids of one length up to 16 bytes (most id schemes) are read as big-endian numbers,
    8 bytes at a time: numpy sorts those several times faster than Arrow encodes
    millions of distinct strings. Other ids are left to Arrow. A row without an id is
    a decision of its own, after all others: it is already an error, and merging such
    rows with each other would only add false conflicts.
    """
    lengths = np.diff(offsets(ids))
    width = int(lengths.max(initial=0))
    fixed = bool(len(lengths)) and int(lengths.min()) == width
    del lengths
    if fixed and 0 < width <= 16:
        key = _id_bytes(ids, width, 0, min(width, 8))
        if width <= 8:
            return key
        # The first 8 bytes and the rest fit one number when the first vary little (ids
        # that share a prefix), else when they are ranked and there are few distinct.
        bits = 8 * (width - 8)
        smallest = key.min()
        if int(key.max() - smallest) >> (64 - bits):
            ranks, distinct = sorted_codes(key)
            del key
            if len(distinct) >> (64 - bits):
                return _id_pairs(ranks, _id_bytes(ids, width, 8, width - 8))
            key = ranks.view(np.uint64)
        else:
            key -= smallest
        key <<= np.uint64(bits)
        key |= _id_bytes(ids, width, 8, width - 8)
        return key
    encoded = pc.dictionary_encode(ids)
    rank = np.empty(len(encoded.dictionary), dtype=np.int64)
    rank[to_numpy(pc.array_sort_indices(encoded.dictionary))] = np.arange(len(rank))
    ordered: np.ndarray = rank[to_numpy(encoded.indices)]
    blank = blank_ids(ids)
    ordered[blank] = len(rank) + np.arange(len(blank))
    return ordered


def _id_pairs(ranks: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Ranks of the first 8 bytes and the rest, as one number in the same order."""
    low_ranks, low_distinct = sorted_codes(low)
    ranks *= len(low_distinct)
    ranks += low_ranks
    return ranks


def _id_bytes(ids: pa.Array, width: int, start: int, size: int) -> np.ndarray:
    """Bytes ``start`` to ``start + size`` (at most 8) of every id (all of ``width`` bytes)
    as a big-endian number: the numbers compare as the bytes do."""
    at = int(offsets(ids)[0]) + start
    data = ids.buffers()[2]
    if start + size >= 8:  # one unaligned 8-byte read per id, ending where the bytes do
        words = np.ndarray((len(ids),), ">u8", data, at + size - 8, (width,))
        number: np.ndarray = words.astype(np.uint64)
        if size < 8:
            number &= np.uint64((1 << (8 * size)) - 1)
        return number
    number = np.zeros(len(ids), dtype=np.uint64)  # ids shorter than 8 bytes: byte by byte
    for index in range(size):
        number <<= np.uint64(8)
        number |= np.ndarray((len(ids),), np.uint8, data, at + index, (width,))
    return number


def merged_codes(
    groups: Grouping, codes: np.ndarray, among: np.ndarray | None = None
) -> np.ndarray:
    """Each decision's code from its rows (only those ``among``), -1 if none gives one.

    Without a conflict a decision has one non-empty code at most: the largest is it.
    """
    return groups.reduce(np.maximum, codes if among is None else np.where(among, codes, -1))
