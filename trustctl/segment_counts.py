"""Merged decisions counted into the columns of evidence segments: one combined key, bincounts.

Decisions come as plain arrays (``Merged``), in any order but one: among decisions of the
same time, a smaller index is a smaller id. The frame of ``load_decisions`` (sorted by
time, then id) is in that order, and so are the compact columns of ingest (numbered in id
order), so both are counted by the same code, with no sort by time: each segment's first,
last and latest critical decision is found with ``np.minimum.at``/``np.maximum.at``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from trustctl.schema import HUMAN_CODES, JUDGED, OUTCOME_CODES, SEVERITY_CODES
from trustctl.times import MICROS_PER_DAY

__all__ = ["NEVER", "NO_TIME", "Key", "Merged", "count", "key_codes"]

NO_TIME = np.iinfo(np.int64).min
"""A time that is not there (in int64 microseconds)."""
NEVER = np.iinfo(np.int64).max

_JUDGED = [HUMAN_CODES[h] for h in JUDGED]
_STEP = 1 << 20
_VERIFIED = [OUTCOME_CODES["success"], OUTCOME_CODES["failure"]]


@dataclass(frozen=True)
class Key:
    """One key column of the decisions: codes ordered like their values (``values[codes]``)."""

    codes: np.ndarray
    """Each decision's code, 0 or more."""
    values: np.ndarray
    """The values, in order."""


@dataclass(frozen=True)
class Merged:
    """Merged decisions as arrays, one entry per decision (see the module's order rule)."""

    keys: Sequence[Key]
    """The segment key without the day (``segments.KEY[:-1]``), in that order."""
    human: np.ndarray
    """``human_decision`` codes (``HUMAN_CODES``, -1 empty)."""
    executed: np.ndarray
    """Bools."""
    outcome: np.ndarray
    """``OUTCOME_CODES``, -1 empty."""
    severity: np.ndarray
    """``SEVERITY_CODES``, -1 empty."""
    sampled: np.ndarray
    """``review_sampled``: 1 true, 0 false, -1 empty."""
    times: np.ndarray
    """When each was proposed: int64 microseconds since the epoch (UTC)."""
    recorded: np.ndarray
    """When the last thing about each was recorded, the same way."""
    ids: Callable[[np.ndarray], np.ndarray]
    """The ids of some decisions (by index), as an object array of ``str``."""


def _dense(codes: np.ndarray, span: int) -> tuple[np.ndarray, int]:
    """Codes in ``[0, span)`` renumbered densely (int32), in the same order, and how many
    there are."""
    if span <= 1 << 26:  # a flag per possible code: no hashing, no sort
        present = np.zeros(span, dtype=bool)
        present[codes] = True
        rank = present.astype(np.int32)  # int32: half of the default int64
        np.cumsum(rank, out=rank)
        rank -= 1
        return rank[codes], int(rank[-1]) + 1
    uniques, dense = np.unique(codes, return_inverse=True)
    return dense.astype(np.int32), len(uniques)


def key_codes(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's key number (dense, in sorted key order) and one row per key.

    ``columns`` are codes (0 or more) ordered like their values; they are folded into one
    int64 in mixed radix, renumbered densely before the radix would grow large (the
    combinations present are few: the flags ``_dense`` counts stay small).
    """
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for codes in columns:
        size = int(codes.max()) + 1 if len(codes) else 1
        if span > 1 and span * size > 1 << 20:
            dense, span = _dense(combined, span)
            combined[:] = dense
            del dense
        combined *= size
        combined += codes
        span *= size
    of_row, span = _dense(combined, span)
    del combined
    first = np.full(span, len(of_row), dtype=np.int64)
    np.minimum.at(first, of_row, np.arange(len(of_row), dtype=np.int32))
    return of_row, first


def count(decisions: Merged, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Every column of the segments (``names`` are the key's without ``day``), in key order.

    Each decision counts on the UTC day it was proposed; a critical failure, also on the
    day its outcome was recorded. Those rows are stacked, then numbered by key once.
    """
    d = decisions
    n = len(d.times)
    verified = d.executed & np.isin(d.outcome, _VERIFIED)
    critical = np.flatnonzero(
        d.executed
        & (d.outcome == OUTCOME_CODES["failure"])
        & (d.severity == SEVERITY_CODES["critical"])
    )
    # Days since the epoch fit in int32: half the memory of the times they come from.
    day = np.empty(n + len(critical), dtype=np.int32)
    np.floor_divide(d.times, MICROS_PER_DAY, out=day[:n], casting="unsafe")
    np.floor_divide(d.recorded[critical], MICROS_PER_DAY, out=day[n:], casting="unsafe")
    stacked = [np.concatenate([key.codes, key.codes[critical]]) for key in d.keys]
    lowest = int(day.min()) if len(day) else 0
    day -= lowest
    of_row, first = key_codes([*stacked, day])
    segments = len(first)
    days = day[first].astype(np.int64) + lowest
    del day
    mine, crit_of = of_row[:n], of_row[n:]
    del of_row

    def total(flags: np.ndarray) -> np.ndarray:
        return np.bincount(mine[flags], minlength=segments).astype(np.int64)

    out: dict[str, np.ndarray] = {
        name: key.values[codes[first]]
        for name, key, codes in zip(names, d.keys, stacked, strict=True)
    }
    del stacked
    out["day"] = days
    out["decisions"] = np.bincount(mine, minlength=segments).astype(np.int64)
    judged = np.isin(d.human, _JUDGED)
    agreed = d.human == HUMAN_CODES["approved"]
    out["reviewed"] = total(judged)
    out["agreed"] = total(agreed)
    out["timeouts"] = total(d.human == HUMAN_CODES["timeout"])
    out["executed"] = total(d.executed)
    out["verified"] = total(verified)
    out["succeeded"] = total(verified & (d.outcome == OUTCOME_CODES["success"]))
    out["unverified"] = total(d.executed & ~verified)
    out["unsampled"] = total(judged & (d.sampled == 0))
    out["unsampled_agreed"] = total(agreed & (d.sampled == 0))
    out["sampling_unknown"] = total(judged & (d.sampled < 0))
    has = out["decisions"] > 0
    first_at, earliest = _extreme(np.minimum, mine, d.times, None, segments)
    last_at, latest = _extreme(np.maximum, mine, d.times, None, segments)
    out["first_at"] = np.where(has, first_at, NO_TIME)
    out["first_id"] = _ids(d, earliest, has)
    out["last_at"] = np.where(has, last_at, NO_TIME)
    out["last_id"] = _ids(d, latest, has)
    last_recorded = np.full(segments, NO_TIME, dtype=np.int64)
    np.maximum.at(last_recorded, mine, d.recorded)
    out["last_recorded_at"] = last_recorded
    # The latest critical failure by (recorded_at, timestamp, id).
    out["critical_failures"] = np.bincount(crit_of, minlength=segments).astype(np.int64)
    critical_at = np.full(segments, NO_TIME, dtype=np.int64)
    np.maximum.at(critical_at, crit_of, d.recorded[critical])
    at_latest = d.recorded[critical] == critical_at[crit_of]
    chosen = critical[at_latest]
    decided_at, which = _extreme(np.maximum, crit_of[at_latest], d.times[chosen], chosen, segments)
    found = out["critical_failures"] > 0
    out["critical_at"] = critical_at
    out["critical_decided_at"] = np.where(found, decided_at, NO_TIME)
    out["critical_id"] = _ids(d, which, found)
    return out


def _extreme(
    ufunc: np.ufunc, of: np.ndarray, times: np.ndarray, index: np.ndarray | None, segments: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per segment the earliest (``np.minimum``) or latest time of its entries, and the
    smallest or largest ``index`` (``None``: position) among the entries of that time: by
    (time, id)."""
    start = NEVER if ufunc is np.minimum else NO_TIME
    best = np.full(segments, start, dtype=np.int64)
    ufunc.at(best, of, times)
    tied = np.empty(len(times), dtype=bool)
    for at in range(0, len(times), _STEP):  # a step at a time: no whole int64 gather
        part = slice(at, at + _STEP)
        np.equal(times[part], best[of[part]], out=tied[part])
    at_best = np.flatnonzero(tied)
    which = np.full(segments, -1 if ufunc is np.maximum else NEVER, dtype=np.int64)
    ufunc.at(which, of[at_best], at_best if index is None else index[at_best])
    return best, which


def _ids(decisions: Merged, which: np.ndarray, where: np.ndarray) -> np.ndarray:
    """The ids of decisions ``which`` where ``where`` holds, else ``None``."""
    found = np.full(len(which), None, dtype=object)
    found[where] = decisions.ids(which[where])
    return found
