"""Each row's time: read by Arrow where it certainly agrees, else by pandas with every message."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.arrays import from_numpy, to_numpy
from trustctl.ingest.problems import MAX_REPORTED, Problems
from trustctl.schema import DATED_PATTERN, EARLIEST, LATEST, RANGE_TEXT, ZONED_PATTERN
from trustctl.times import micros

__all__ = ["Times", "arrow_times", "parse_timestamps"]


_LATEST_MICROS = micros(LATEST)
_LATEST_SECONDS = _LATEST_MICROS // 10**6
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def arrow_times(column: pa.Array) -> tuple[np.ndarray, int] | None:
    """A batch's times as Arrow reads them, where that is certainly what pandas reads, and
    how many have no zone.

    Arrow's ISO-8601 parser is stricter than pandas' (fixed digits, ``T`` or a space,
    ``Z`` or ``±hh[:mm]``, at most microseconds) and agrees with it wherever it succeeds
    (a test compares them), but it reads a whole array or nothing, and zoned and naive
    times only as separate types. A batch that has an empty or unusual time, one
    outside the years 1970 to 2200, or naive times among zones other than ``Z``, is
    left to ``parse_timestamps``, for its exact rules and messages.
    """
    if pa.types.is_timestamp(column.type):
        if column.null_count:
            return None
        per_second = _PER_SECOND[column.type.unit]
        raw = to_numpy(column.cast(pa.int64()))
        # Bounds in the column's own unit: nothing is rounded before it is checked.
        if len(raw) and (raw.min() < 0 or raw.max() > _LATEST_SECONDS * per_second):
            return None
        # Nanoseconds are cut to microseconds, as pandas does with the text.
        micros = raw * (10**6 // per_second) if per_second <= 10**6 else raw // 1000
        return micros.view("datetime64[us]"), 0 if column.type.tz else len(micros)
    values = _arrow_instants(column, zoned=True)
    naive = 0
    if values is None:
        values, naive = _arrow_instants(column, zoned=False), len(column)
    if values is None:  # mixed: those that end in Z apart from the naive ones
        ends_in_z = to_numpy(pc.ends_with(column, "Z"))
        zoned = _arrow_instants(column.filter(from_numpy(ends_in_z)), zoned=True)
        naive_ones = _arrow_instants(column.filter(from_numpy(~ends_in_z)), zoned=False)
        if zoned is None or naive_ones is None:
            return None
        values = np.empty(len(column), dtype=np.int64)
        values[ends_in_z], values[~ends_in_z] = zoned, naive_ones
        naive = len(naive_ones)
    if len(values) and (values.min() < 0 or values.max() > _LATEST_MICROS):
        return None
    return values.view("datetime64[us]"), naive


def _arrow_instants(text: pa.Array, *, zoned: bool) -> np.ndarray | None:
    """Microseconds since the epoch (UTC) if Arrow reads every time, all zoned or all not."""
    try:
        instants = pc.cast(text, pa.timestamp("us", "UTC" if zoned else None))
    except pa.ArrowInvalid:
        return None
    found: np.ndarray = to_numpy(instants.view(pa.int64()))
    return found


@dataclass(frozen=True)
class Times:
    """Each row's time as far as Arrow read them (see ``arrow_times``)."""

    instants: np.ndarray
    """``datetime64[us]`` (UTC); NaT where Arrow did not read the time."""
    naive: int
    """How many of the times Arrow read had no zone."""
    unread: np.ndarray
    """The rows whose time Arrow did not read."""
    unread_text: pa.ChunkedArray
    """Their times as text."""


def parse_timestamps(times: Times, problems: Problems) -> int:
    """Read the times Arrow did not into ``times.instants`` (naive as UTC, NaT if bad);
    return how many times had no zone.

    Arrow read most times already; pandas reads the rest, with every accepted form and
    every message.
    """
    instants, naive, rows = times.instants, times.naive, times.unread
    if not len(rows):
        return naive
    import pandas as pd  # only for times Arrow did not read: not on every run's path

    text = times.unread_text.to_pandas()
    empty = (text == "").to_numpy()
    problems.add(rows[empty], "column 'timestamp': empty; a timestamp is required")
    # pandas also reads words ("now", "today": the wall clock) and digits of other scripts.
    dated = np.asarray(pc.match_substring_regex(times.unread_text, DATED_PATTERN), dtype=bool)
    parsed = pd.to_datetime(
        text.where(dated & ~empty, None), format="ISO8601", utc=True, errors="coerce"
    )
    bad = parsed.isna().to_numpy() & ~empty
    # Times are nanoseconds downstream: outside these years a mistyped year, not data.
    out_of_range = (
        ~bad
        & ~empty
        & ~((parsed >= pd.Timestamp(EARLIEST)) & (parsed <= pd.Timestamp(LATEST))).to_numpy(bool)
    )
    for local in np.flatnonzero(out_of_range)[:MAX_REPORTED]:
        problems.add(
            rows[[local]],
            f"column 'timestamp': {text.iat[local]!r} is outside {RANGE_TEXT}",
        )
    problems.add(
        rows[np.flatnonzero(out_of_range)[MAX_REPORTED:]],
        f"column 'timestamp': outside {RANGE_TEXT}",
    )
    bad_rows = np.flatnonzero(bad)
    for local in bad_rows[:MAX_REPORTED]:
        problems.add(
            rows[[local]],
            f"column 'timestamp': {text.iat[local]!r} is not an ISO-8601 timestamp",
        )
    problems.add(rows[bad_rows[MAX_REPORTED:]], "column 'timestamp': not an ISO-8601 timestamp")
    # Arrow's regex engine, not Python's: one pass in C over the times.
    zoned = np.asarray(pc.match_substring_regex(times.unread_text, ZONED_PATTERN), dtype=bool)
    naive += int((~zoned & ~empty & ~bad).sum())
    # Plain datetime64 from here on: an aware Series turns into Timestamp objects in numpy.
    instants[rows] = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return naive
