"""The rows of decisions recorded over time, kept to merge them again as known at a later cut."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from trustctl.ingest.checks import Typed
from trustctl.ingest.columns import Rows, Text
from trustctl.ingest.grouping import Grouping, group_rows
from trustctl.ingest.merge import known_decisions, merged_frame, rows_after
from trustctl.ingest.timestamps import Times
from trustctl.times import as_utc

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Arriving", "arriving_rows"]


@dataclass(frozen=True)
class Arriving:
    """The rows of the decisions whose rows were recorded at different times (event
    streams): a few percent of the rows, kept as compact as ``Rows`` keeps them.

    A decision is still arriving at a cut when it has a row at or before it and one
    after; ``at`` merges such decisions from their rows up to the cut, exactly as
    ``load_decisions(..., until=cut)`` would, without reading the logs again.
    """

    rows: Rows
    """Their rows, by decision (in id order), then in row order."""
    typed: Typed
    first: np.ndarray
    """Each decision's earliest row time (microseconds since the epoch)."""
    last: np.ndarray
    """Each decision's latest row time."""
    sizes: np.ndarray
    """How many rows each decision has."""

    def at(self, cut: dt.datetime) -> pd.DataFrame:
        """The decisions still arriving at ``cut`` and known by then (every required
        field given), merged from their rows up to it, as ``Decisions.frame`` types them."""
        moment = np.datetime64(as_utc(cut).replace(tzinfo=None), "us").astype(np.int64)
        arriving = (self.first <= moment) & (moment < self.last)
        rows = _subset(self.rows, np.flatnonzero(np.repeat(arriving, self.sizes)))
        groups = group_rows(rows.ids)
        kept = ~rows_after(rows.times.instants, cut)
        return merged_frame(rows, groups, self.typed, kept, known_decisions(rows, groups, kept))


def _subset(rows: Rows, which: np.ndarray) -> Rows:
    """The rows ``which`` (their times all read) as rows of their own."""
    times = Times(
        rows.times.instants[which], 0, np.zeros(0, np.int64), pa.chunked_array([], pa.string())
    )
    return Rows(
        rows.logs,
        np.array([0, len(which)], dtype=np.int64),
        rows.ids.take(pa.array(which)),
        times,
        {name: Text(text.codes[which], text.values) for name, text in rows.texts.items()},
    )


def arriving_rows(
    rows: Rows, groups: Grouping, typed: Typed, kept: np.ndarray, skipped: np.ndarray
) -> Arriving:
    """The ``kept`` rows of the decisions (not ``skipped``) whose kept rows have different
    times; taken before ``merged_frame`` lets go of the rows."""
    mine = kept[groups.rows]
    stamps = rows.times.instants.view(np.int64)[groups.rows]
    first = np.minimum.reduceat(np.where(mine, stamps, np.iinfo(np.int64).max), groups.starts)
    last = np.maximum.reduceat(np.where(mine, stamps, np.iinfo(np.int64).min), groups.starts)
    spread = (first < last) & ~skipped[groups.several]
    sizes = np.diff(groups.starts, append=np.int32(len(groups.rows)))
    owner = np.repeat(np.arange(len(sizes)), sizes)  # each row's decision among ``several``
    mine &= spread[owner]
    return Arriving(
        _subset(rows, groups.rows[mine]),
        typed,
        first[spread],
        last[spread],
        np.bincount(owner[mine], minlength=len(sizes))[spread],
    )
