"""Merging each decision's rows field by field into the decisions frame."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.arrays import from_numpy, strings, text_values, to_numpy
from trustctl.bands import NO_BANDS, Bands
from trustctl.ingest.checks import Typed
from trustctl.ingest.columns import CODED, TEXT, TIERS, Rows, Text
from trustctl.ingest.grouping import Grouping, merged_codes
from trustctl.ingest.timestamps import Times
from trustctl.schema import COLUMNS, REQUIRED_PER_DECISION
from trustctl.segment_counts import Key, Merged
from trustctl.segments import KEY
from trustctl.times import as_utc

if TYPE_CHECKING:  # pandas is imported by the frame's functions: counting needs none
    import pandas as pd

__all__ = ["FRAME_COLUMNS", "known_decisions", "merged_columns", "merged_frame", "rows_after"]

#: Columns of ``Decisions.frame``, in order.
FRAME_COLUMNS = (*COLUMNS[:2], "recorded_at", *COLUMNS[2:])


def rows_after(timestamps: np.ndarray, until: dt.datetime | None) -> np.ndarray:
    """Rows recorded after ``until`` (naive read as UTC); a bad time (NaT) is never after."""
    if until is None:
        return np.zeros(len(timestamps), dtype=bool)
    limit = np.datetime64(as_utc(until).replace(tzinfo=None), "us")
    return timestamps > limit


def known_decisions(rows: Rows, groups: Grouping, kept: np.ndarray) -> np.ndarray:
    """Decisions whose kept rows give every required field (so they have a kept row)."""
    known = np.ones(groups.count, dtype=bool)
    for name in REQUIRED_PER_DECISION:
        known &= groups.any(rows.texts[name].given() & kept)
    return known


def _sorted(column: Text, dtype: np.dtype[Any]) -> tuple[np.ndarray, list[str]]:
    """``""`` and every value of the column in the logs, sorted, and each code's position
    among them (code -1, empty, is ``""``, the first): the same for every selection of
    decisions (``until``, skipped ones) and every row order."""
    order = to_numpy(pc.array_sort_indices(column.values)).astype(np.int64)
    position = np.zeros(len(order) + 1, dtype=dtype)
    position[order] = np.arange(1, len(order) + 1)
    return position, ["", *column.values.take(from_numpy(order)).to_pylist()]


def _categorical(column: Text, codes: np.ndarray) -> pd.Categorical:
    """Text of a column (codes into its values, -1 empty) as a pandas categorical."""
    import pandas as pd

    position, categories = _sorted(column, codes.dtype)
    dtype = pd.CategoricalDtype(pd.Index(categories))
    return pd.Categorical.from_codes(position[codes], dtype=dtype)


def merged_columns(
    rows: Rows,
    groups: Grouping,
    typed: Typed,
    kept: np.ndarray,
    selected: np.ndarray,
    bands: Bands = NO_BANDS,
) -> Merged:
    """The ``selected`` decisions, each merged from its ``kept`` rows, as the arrays that
    ``segment_counts`` counts: in id order, the codes as they are (no frame, no sort), each
    in its confidence band.

    The same conditions hold as for ``merged_frame``, and this too is the last use of the
    rows' columns: they are let go of as they are merged (the ids stay, for the segments').
    """
    among = None if kept.all() else kept
    picked = groups if selected.all() else groups.select(np.flatnonzero(selected))
    stamps = rows.times.instants.view(np.int64)
    earliest = stamps if among is None else np.where(among, stamps, np.iinfo(np.int64).max)
    first_time = picked.reduce(np.minimum, earliest)  # a row not kept is never the first
    del earliest
    latest = stamps if among is None else np.where(among, stamps, np.iinfo(np.int64).min)
    recorded = picked.reduce(np.maximum, latest)
    del latest, stamps
    rows.times = Times(np.zeros(0, "datetime64[us]"), 0, rows.times.unread, rows.times.unread_text)

    def coded(name: str) -> np.ndarray:
        codes: np.ndarray = typed.lookups[name][merged_codes(picked, rows.texts[name].codes, among)]
        return codes

    keys = []
    for name in KEY[:-1]:
        if name == "confidence" and bands:
            spelt = merged_codes(picked, rows.texts["ai_confidence"].codes, among)
            keys.append(bands.key(typed.confidence[spelt]))
        elif name == "confidence":  # one band: no confidence read
            keys.append(Key(np.zeros(picked.count, dtype=np.int8), np.array([""], dtype=object)))
        elif name in TEXT:
            codes = merged_codes(picked, rows.texts[name].codes, among)
            position, values = _sorted(rows.texts[name], codes.dtype)
            keys.append(Key(position[codes], np.array(values, dtype=object)))
        else:  # a tier not given is 0; a mode is always given
            codes = np.maximum(coded(name), 0)
            keys.append(Key(codes, np.arange(int(codes.max(initial=0)) + 1)))
    first_rows, ids = picked.first, rows.ids
    merged = Merged(
        keys=keys,
        human=coded("human_decision"),
        executed=coded("executed") == 1,
        outcome=coded("outcome"),
        severity=coded("severity"),
        sampled=coded("review_sampled"),
        times=first_time,
        recorded=recorded,
        ids=lambda which: text_values(ids.take(from_numpy(first_rows[which]))),
    )
    rows.texts.clear()
    return merged


def merged_frame(
    rows: Rows, groups: Grouping, typed: Typed, kept: np.ndarray, selected: np.ndarray
) -> pd.DataFrame:
    """The ``selected`` decisions, each merged from its ``kept`` rows field by field.

    Typed as ``Decisions.frame`` documents, sorted by timestamp, then decision id.
    Every selected decision has a kept row, only valid times and no conflict: the one
    value its rows give in a column is their largest code. This is the last use of the
    rows' columns: each is let go of once merged, so that the rows and the frame are
    never both whole in memory.
    """
    import pandas as pd

    among = None if kept.all() else kept
    stamps = rows.times.instants.view(np.int64)
    earliest = stamps if among is None else np.where(among, stamps, np.iinfo(np.int64).max)
    first_time = groups.reduce(np.minimum, earliest)  # a row not kept is never the first
    del earliest
    whole = bool(selected.all())
    if not whole:
        which = np.flatnonzero(selected).astype(np.int32)
        first_time = first_time[which]
    # Decisions are numbered in id order: a stable sort by time sorts by time, then id.
    order = np.argsort(first_time, kind="stable").astype(np.int32)
    picked = groups.select(order if whole else which[order])  # merged fields in frame order
    # The encoded columns first: letting go of them makes room for the larger ones.
    columns: dict[str, Any] = {}
    for name in CODED:
        codes = typed.lookups[name][merged_codes(picked, rows.texts.pop(name).codes, among)]
        columns[name] = np.where(codes < 0, 0 if name in TIERS else -1, codes).astype(np.int8)
    columns["executed"] = columns["executed"].astype(bool)
    for name in TEXT:
        column = rows.texts.pop(name)
        columns[name] = _categorical(column, merged_codes(picked, column.codes, among))
    # Equal numbers may be spelled differently (0.5, 0.50): any of their codes will do.
    confidence = merged_codes(picked, rows.texts.pop("ai_confidence").codes, among)
    columns["ai_confidence"] = typed.confidence[confidence]  # code -1: NaN, the last
    columns["timestamp"] = _utc(first_time[order])
    del first_time, order
    latest = stamps if among is None else np.where(among, stamps, np.iinfo(np.int64).min)
    columns["recorded_at"] = _utc(picked.reduce(np.maximum, latest))
    del stamps, latest
    rows.times = Times(np.zeros(0, "datetime64[us]"), 0, rows.times.unread, rows.times.unread_text)
    columns["decision_id"] = _text_at(rows.ids, picked.first)
    rows.ids = strings([]).cast(rows.ids.type)
    # No copy: every column is the frame's own already.
    frame: pd.DataFrame = pd.DataFrame({name: columns[name] for name in FRAME_COLUMNS}, copy=False)
    return frame


def _utc(micros: np.ndarray) -> pd.Series:
    """Microseconds since the epoch as a ``datetime64[us, UTC]`` column."""
    import pandas as pd

    column: pd.Series = pd.Series(micros.view("datetime64[us]"), dtype="datetime64[us, UTC]")
    return column


def _text_at(texts: pa.Array, rows: np.ndarray) -> pd.Series:
    """Some rows' text as a pandas text column (``large_string`` in Arrow: no copy), taken
    a block at a time: the Arrow ``string`` copy is never whole next to the pandas one."""

    step = 1 << 20
    chunks = [
        texts.take(from_numpy(rows[start : start + step])).cast(pa.large_string())
        for start in range(0, len(rows), step)
    ]
    text: pd.Series = pa.chunked_array(chunks, type=pa.large_string()).to_pandas()
    return text
