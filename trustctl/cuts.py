"""The logs as known at each of many moments, from one read: what ``history`` and replay step on.

A decision whose rows were all recorded by a moment is counted once, at the first moment
it is whole, and stays counted. One still arriving at a moment (a row at or before it,
one after) is merged again from its rows up to it (``ingest.Arriving``): at every moment
the segments are those of ``Logs(paths, where=where).read(moment)``, without a read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from trustctl import segments, times
from trustctl.bands import NO_BANDS, Bands
from trustctl.filters import Filter, keep
from trustctl.ingest import Decisions
from trustctl.inputs import Read, filtered

__all__ = ["reads_at"]


def reads_at(
    decisions: Decisions,
    moments: Sequence[dt.datetime],
    where: Sequence[Filter] = (),
    bands: Bands = NO_BANDS,
) -> Iterator[Read]:
    """What the logs held at each moment (ascending), as the segments of the decisions
    known by then that meet every filter, split into confidence ``bands``.

    ``decisions`` were read whole with ``load_timeline``.
    """
    arriving = decisions.arriving
    if arriving is None:
        raise ValueError("reads_at needs the decisions read by load_timeline")
    frame = filtered(decisions, where).frame
    cuts = np.array([times.micros(m) for m in moments], dtype=np.int64)
    recorded = pd.DatetimeIndex(frame["recorded_at"]).as_unit("us").asi8
    whole_at = np.searchsorted(cuts, recorded, side="left")  # the first moment it is whole at
    counted = segments.empty()
    done = 0
    for index, moment in enumerate(moments):
        rows = np.flatnonzero(whole_at == index)
        if len(rows):
            counted = segments.merge([counted, segments.from_decisions(frame.iloc[rows], bands)])
            done += len(rows)
        still = arriving.at(moment)
        if where and len(still):
            still = still[keep(still, where)]
        found = counted
        if len(still):
            found = segments.merge([counted, segments.from_decisions(still, bands)])
        yield Read(
            segments=found,
            report=decisions.report,
            after_as_of=len(frame) - done - len(still),
            latest=moment,
            until=moment,
            filters=tuple(f.text for f in where),
            bands=bands,
        )
