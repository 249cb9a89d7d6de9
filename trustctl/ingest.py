"""Decision logs in, one validated row per decision out: vocabularies, merging, bad rows.

Files are read batch by batch into compact columns (``_Rows``), never into text per row:
each decision id as Arrow text, each time as microseconds, and every other column as a
small code per row into its distinct values. Validation is vectorised: the (few) distinct
values of a column are checked once, and only a bad one is looked up among the rows.
Rows are grouped by decision once (one sort of the ids, read as numbers where they can
be); a decision of one row (most) merges by a gather, the others by numpy reductions.
Errors are gathered as (row, message) pairs and turned into ``FILE:LINE`` only on the
error path.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.errors import InputError
from trustctl.levels import LEVEL_SPELLINGS
from trustctl.repeats import repeated_logs
from trustctl.sources import (
    PER_ROW_COLUMNS,
    SCHEMA_COLUMNS,
    RawLog,
    find_logs,
    locate,
    original_rows,
    read_log,
    timestamp_text,
)
from trustctl.times import EARLIEST, LATEST, RANGE_TEXT, as_utc

__all__ = [
    "HUMAN_CODES",
    "OUTCOME_CODES",
    "SEVERITY_CODES",
    "BadRow",
    "Decisions",
    "IngestReport",
    "OnBadRows",
    "SourceSummary",
    "load_decisions",
    "load_slice",
    "summed_report",
]

#: Codes of ``human_decision``; -1 is empty.
HUMAN_CODES: dict[str, int] = {
    "approved": 0,
    "rejected": 1,
    "modified": 2,
    "timeout": 3,
    "overridden": 4,
}
#: Codes of ``outcome``; -1 is empty.
OUTCOME_CODES: dict[str, int] = {"success": 0, "failure": 1, "unknown": 2}
#: Codes of ``severity``; -1 is empty.
SEVERITY_CODES: dict[str, int] = {"minor": 0, "major": 1, "critical": 2}

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_ACTION_CLASS = re.compile(r"^[A-Za-z0-9._:/-]{1,200}$")
#: A time of day followed by a zone; a date alone never has one.
_OFFSET = r"[Tt ].*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
#: What a time is made of before pandas reads it: ASCII, starting with the year's digits.
_DATED = r"^[0-9]{4}[\x00-\x7f]*$"
_MAX_REPORTED = 20

#: Merged columns that are codes (int8, -1 = empty; tiers 0 = empty) and those that are text.
_CODED = ("mode", "human_decision", "executed", "outcome", "severity", "system_tier", "risk_tier")
_TIERS = ("system_tier", "risk_tier")
_TEXT = ("action_class", "service", "agent_version", "reviewer", "rationale", "incident_id")
#: Required columns that may be empty in some event rows of a decision, but not in all.
_REQUIRED_PER_DECISION = ("action_class", "mode", "executed")
#: Columns of ``Decisions.frame``, in order.
_FRAME_COLUMNS = (*SCHEMA_COLUMNS[:2], "recorded_at", *SCHEMA_COLUMNS[2:])
#: Columns kept as codes into their distinct values.
_ENCODED = tuple(c for c in SCHEMA_COLUMNS if c not in PER_ROW_COLUMNS)

_T = TypeVar("_T")

OnBadRows = Literal["fail", "skip"]


@dataclass(frozen=True)
class SourceSummary:
    """What one input file contributed, for the policy's metadata."""

    path: str
    sha256: str
    rows: int
    decisions: int


@dataclass(frozen=True)
class BadRow:
    """A source row that was skipped, with why and where."""

    location: str
    errors: tuple[str, ...]
    record: dict[str, Any]


@dataclass(frozen=True)
class IngestReport:
    """Counts of what was read, merged, flagged and skipped."""

    files: tuple[SourceSummary, ...]
    """What each input file holds (all its rows and decisions, whatever ``until``)."""
    rows: int
    """Rows read, including those skipped or after ``until``."""
    decisions: int
    """Decisions in the frame."""
    naive_timestamps: int
    """Timestamps without a zone, read as UTC."""
    skipped_decisions: int
    """Decisions left out because one of their rows is bad (``on_bad_rows="skip"``)."""
    skipped_rows: int
    """Rows of the skipped decisions."""
    rows_after_until: int = 0
    """Rows recorded after ``until``, left out before merging (0 without ``until``)."""
    decisions_after_until: int = 0
    """Decisions not yet known at ``until``: all their rows are later, or a required field
    (action_class, mode, executed) is only given in a later row."""


def summed_report(files: Sequence[SourceSummary], reports: Sequence[IngestReport]) -> IngestReport:
    """One report for logs read in parts (slices, partitions): their counts added."""
    counts = (
        "rows",
        "decisions",
        "naive_timestamps",
        "skipped_decisions",
        "skipped_rows",
        "rows_after_until",
        "decisions_after_until",
    )
    totals = {name: sum(getattr(r, name) for r in reports) for name in counts}
    return IngestReport(files=tuple(files), **totals)


@dataclass(frozen=True)
class Decisions:
    """One row per decision, typed, with the ingest report.

    Columns of ``frame``, in this order: ``decision_id`` (str); ``timestamp`` (UTC
    datetime in microseconds, the earliest of the decision's rows: when the AI proposed
    or acted); ``recorded_at`` (the same type, the latest of its rows: when the last
    thing about it, such as its verified outcome, was recorded); ``action_class``
    (text); ``mode`` (ladder rank 0-3); ``human_decision``/``outcome``/``severity``
    (codes above, -1 empty); ``executed`` (bool); ``system_tier``/``risk_tier`` (int,
    0 = not given); ``service``, ``agent_version``, ``reviewer``, ``rationale``,
    ``incident_id`` (text, ``""`` = not given); ``ai_confidence`` (float, NaN = not
    given). The text columns are categoricals of str (categories: ``""`` and every value
    of the column in the logs, sorted; compare them with ``==``, read them with
    ``.iat``). Rows are sorted by timestamp, then decision id. With ``until``, only the
    rows recorded at or before it count, for every column.
    """

    frame: pd.DataFrame
    report: IngestReport
    bad_rows: tuple[BadRow, ...] = field(default=())


@dataclass(frozen=True)
class _Text:
    """One encoded column of every row: each row's code into ``values``, -1 when empty."""

    codes: np.ndarray
    values: pa.Array
    """The distinct non-empty texts (``string``)."""

    def given(self) -> np.ndarray:
        """Rows with a value (valid or not)."""
        given: np.ndarray = self.codes >= 0
        return given

    def text(self, row: int) -> str:
        code = int(self.codes[row])
        return "" if code < 0 else str(self.values[code].as_py())

    def rows_of(self, index: int) -> np.ndarray:
        """The rows holding value ``index``."""
        return np.flatnonzero(self.codes == index)


def _vocabulary(
    name: str, allowed: Callable[[str], int | None], describe: str
) -> Callable[[_Text, _Problems], np.ndarray]:
    """A column checker: the code of each distinct value, then -1 (for empty): index it
    with the column's codes. It reports the rows of unknown values (their code is -1)."""

    def check(column: _Text, problems: _Problems) -> np.ndarray:
        lookup = np.full(len(column.values) + 1, -1, dtype=np.int8)
        for index, text in enumerate(column.values.to_pylist()):
            code = allowed(text)
            if code is None:
                problems.add(column.rows_of(index), f"column '{name}': {text!r} is not {describe}")
            else:
                lookup[index] = code
        return lookup

    return check


def _tier(high: int) -> Callable[[str], int | None]:
    """A tier spelled as one ASCII digit, ``1`` to ``high``: no sign, zero or other script."""
    spellings = {str(tier): tier for tier in range(1, high + 1)}
    return spellings.get


def _boolean(text: str) -> int | None:
    lowered = text.lower()
    return 1 if lowered in _TRUE else 0 if lowered in _FALSE else None


_CHECKS = {
    "mode": _vocabulary(
        "mode",
        lambda t: LEVEL_SPELLINGS[t].rank if t in LEVEL_SPELLINGS else None,
        "one of observe, suggest, auto_notify, full",
    ),
    "human_decision": _vocabulary(
        "human_decision",
        HUMAN_CODES.get,
        "one of approved, rejected, modified, timeout, overridden or empty",
    ),
    "executed": _vocabulary("executed", _boolean, "true/false"),
    "outcome": _vocabulary(
        "outcome", OUTCOME_CODES.get, "one of success, failure, unknown or empty"
    ),
    "severity": _vocabulary(
        "severity", SEVERITY_CODES.get, "one of minor, major, critical or empty"
    ),
    "system_tier": _vocabulary("system_tier", _tier(4), "a system tier 1..4"),
    "risk_tier": _vocabulary("risk_tier", _tier(3), "a risk tier 1..3"),
}


class _Problems:
    """Errors found so far: each message with the (global) rows it applies to."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.messages: list[str] = []

    def add(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def first(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """The first ``limit`` (row, message) pairs in row order, and how many there are."""
        rows = np.concatenate(self.rows)
        which = np.repeat(np.arange(len(self.rows)), [len(r) for r in self.rows])
        order = np.lexsort((which, rows))[:limit]
        return [(int(rows[k]), self.messages[int(which[k])]) for k in order], len(rows)

    def by_row(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for rows, message in zip(self.rows, self.messages, strict=True):
            for row in rows.tolist():
                found.setdefault(row, []).append(message)
        return found


# --- reading: every file, batch by batch, into compact columns ---------------------------------

_EARLIEST = pd.Timestamp(EARLIEST)
_LATEST = pd.Timestamp(LATEST)
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


@dataclass(frozen=True)
class _Piece:
    """One batch of one file, compacted on a worker thread (see ``_compact``)."""

    rows: int
    ids: pa.Array
    instants: np.ndarray | None
    """Each row's time (``datetime64[us]``, UTC) if Arrow read them all, else ``None``."""
    naive: int
    """How many of the times Arrow read had no zone."""
    time_text: pa.Array | None
    """The times as text if Arrow did not read them all: for pandas, later."""
    texts: dict[str, tuple[pa.Array, np.ndarray]]
    """Per encoded column in the file: the batch's dictionary and each row's index into it."""


def _compact(path: Path, batch: pa.RecordBatch) -> _Piece:
    """What is kept of a batch (as ``read_log`` hands it over): about 30 bytes a row."""
    columns = dict(zip(batch.schema.names, batch.columns, strict=True))
    stamps = columns["timestamp"]
    read = _arrow_times(stamps)
    text = None
    if read is None:
        text = timestamp_text(stamps, path) if pa.types.is_timestamp(stamps.type) else stamps
    texts = {
        name: (columns[name].dictionary, _narrow(columns[name]))
        for name in _ENCODED
        if name in columns
    }
    instants, naive = read if read is not None else (None, 0)
    return _Piece(batch.num_rows, columns["decision_id"], instants, naive, text, texts)


def _narrow(column: pa.DictionaryArray) -> np.ndarray:
    """A dictionary column's indices in the smallest type that holds them: mostly a byte."""
    size = len(column.dictionary)
    dtype = np.uint8 if size <= 1 << 8 else np.uint16 if size <= 1 << 16 else np.uint32
    narrow: np.ndarray = np.asarray(column.indices).astype(dtype)
    return narrow


def _arrow_times(column: pa.Array) -> tuple[np.ndarray, int] | None:
    """A batch's times as Arrow reads them, where that is certainly what pandas reads, and
    how many have no zone.

    Arrow's ISO-8601 parser is stricter than pandas' (fixed digits, ``T`` or a space,
    ``Z`` or ``±hh[:mm]``, at most microseconds) and agrees with it wherever it succeeds
    (a test compares them), but it reads a whole array or nothing, and zoned and naive
    times only as separate types. A batch that has an empty or unusual time, one
    outside the years 1970 to 2200, or naive times among zones other than ``Z``, is
    left to ``_parse_timestamps``, for its exact rules and messages.
    """
    if pa.types.is_timestamp(column.type):
        if column.null_count:
            return None
        per_second = _PER_SECOND[column.type.unit]
        raw = np.asarray(column.cast(pa.int64()))
        # Bounds in the column's own unit: nothing is rounded before it is checked.
        if len(raw) and (raw.min() < 0 or raw.max() > _LATEST.value // 10**9 * per_second):
            return None
        # Nanoseconds are cut to microseconds, as pandas does with the text.
        micros = raw * (10**6 // per_second) if per_second <= 10**6 else raw // 1000
        return micros.view("datetime64[us]"), 0 if column.type.tz else len(micros)
    values = _arrow_instants(column, zoned=True)
    naive = 0
    if values is None:
        values, naive = _arrow_instants(column, zoned=False), len(column)
    if values is None:  # mixed: those that end in Z apart from the naive ones
        ends_in_z = np.asarray(pc.ends_with(column, "Z"), dtype=bool)
        zoned = _arrow_instants(column.filter(ends_in_z), zoned=True)
        naive_ones = _arrow_instants(column.filter(~ends_in_z), zoned=False)
        if zoned is None or naive_ones is None:
            return None
        values = np.empty(len(column), dtype=np.int64)
        values[ends_in_z], values[~ends_in_z] = zoned, naive_ones
        naive = len(naive_ones)
    if len(values) and (values.min() < 0 or values.max() > _LATEST.value // 1000):
        return None
    return values.view("datetime64[us]"), naive


def _arrow_instants(text: pa.Array, *, zoned: bool) -> np.ndarray | None:
    """Microseconds since the epoch (UTC) if Arrow reads every time, all zoned or all not."""
    try:
        instants = pc.cast(text, pa.timestamp("us", "UTC" if zoned else None))
    except pa.ArrowInvalid:
        return None
    found: np.ndarray = np.asarray(instants.view(pa.int64()))
    return found


@dataclass(frozen=True)
class _Times:
    """Each row's time as far as Arrow read them (see ``_arrow_times``)."""

    instants: np.ndarray
    """``datetime64[us]`` (UTC); NaT where Arrow did not read the time."""
    naive: int
    """How many of the times Arrow read had no zone."""
    unread: np.ndarray
    """The rows whose time Arrow did not read."""
    unread_text: pa.ChunkedArray
    """Their times as text."""


@dataclass
class _Rows:
    """Every row of every file, compacted; rows are numbered on across files, in order.

    The per-row columns are together about as large as the frame made of them: ``_merge``
    lets go of each after its last use (the reason this is not frozen).
    """

    logs: tuple[RawLog, ...]
    starts: np.ndarray
    """Each file's first row, then the number of rows."""
    ids: pa.Array
    """Each row's ``decision_id`` (``string``, or ``large_string`` if that is too small)."""
    times: _Times
    texts: dict[str, _Text]
    """Every encoded column (``_ENCODED``); a column a file lacks is empty in its rows."""

    @property
    def count(self) -> int:
        return int(self.starts[-1])

    def file_of(self, rows: np.ndarray) -> np.ndarray:
        """The index (into ``logs``) of each row's file."""
        found: np.ndarray = np.searchsorted(self.starts, rows, side="right") - 1
        return found


def _read(paths: Sequence[Path], part: tuple[int, int] | None = None) -> _Rows:
    built = _Built()
    logs = tuple(
        read_log(path, functools.partial(_compact, path), built.keep, part)
        for path in find_logs(paths)
    )
    return built.rows(logs)


class _Blocks:
    """A column built by appending pieces, held in blocks of a million rows.

    Few, large allocations, each given back whole: the many small pieces (and their
    memory) are let go of as soon as they are copied.
    """

    _SIZE = 1 << 20

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.blocks: list[np.ndarray] = []
        self.used = self._SIZE  # the last block is full: there is none yet

    def append(self, values: np.ndarray) -> None:
        if values.dtype.itemsize > self.dtype.itemsize:  # wider codes than so far: rare
            self.dtype = values.dtype
            self.blocks = [block.astype(self.dtype) for block in self.blocks]
        while len(values):
            if self.used == self._SIZE:
                self.blocks.append(np.empty(self._SIZE, dtype=self.dtype))
                self.used = 0
            part = values[: self._SIZE - self.used]
            self.blocks[-1][self.used : self.used + len(part)] = part
            self.used += len(part)
            values = values[len(part) :]

    def array(self) -> np.ndarray:
        """Every value appended, in one array; the blocks are let go of."""
        if self.blocks:
            self.blocks[-1] = self.blocks[-1][: self.used]
        whole = np.concatenate(self.blocks) if self.blocks else np.zeros(0, dtype=self.dtype)
        self.blocks = []
        return whole


class _Encoder:
    """One encoded column, gathered batch by batch: each batch's dictionary and indices."""

    def __init__(self) -> None:
        self.dictionaries: list[pa.Array] = []
        self.sizes: list[int] = []
        self.indices = _Blocks(np.dtype(np.uint8))

    def add(self, dictionary: pa.Array, indices: np.ndarray) -> None:
        self.dictionaries.append(dictionary)
        self.sizes.append(len(indices))
        self.indices.append(indices)

    def column(self) -> _Text:
        """Codes over all rows: the batches' dictionaries (a few values each) are encoded
        together, which gives each of their entries its code; the rows look theirs up."""
        encoded = pc.dictionary_encode(pa.chunked_array(self.dictionaries, type=pa.string()))
        if encoded.num_chunks:
            distinct = encoded.chunks[-1].dictionary
        else:
            distinct = pa.array([], pa.string())
        # "" becomes -1; the codes of the other values close up behind it.
        position = pc.index(distinct, "").as_py()
        numbers = np.arange(len(distinct), dtype=np.int64)
        if position >= 0:
            numbers -= numbers > position
            numbers[position] = -1
            distinct = distinct.filter(pc.not_equal(distinct, ""))
        size = len(distinct)
        dtype = np.int8 if size < 1 << 7 else np.int16 if size < 1 << 15 else np.int32
        indices = self.indices.array()
        codes = np.empty(len(indices), dtype=dtype)
        at = 0
        for chunk, rows in zip(encoded.chunks, self.sizes, strict=True):
            code_of = numbers[np.asarray(chunk.indices)].astype(dtype)
            codes[at : at + rows] = code_of[indices[at : at + rows]]
            at += rows
        return _Text(codes, distinct)


_EMPTY = pa.array([""], pa.string())


def _joined(texts: list[pa.Array]) -> pa.Array:
    """Text arrays as one (a take from many chunks would join them first, at every take):
    ``string`` while it fits in its 2 GiB, ``large_string`` beyond."""
    size = sum(int(_offsets(text)[-1] - _offsets(text)[0]) for text in texts)
    kind = pa.string() if size < 1 << 31 else pa.large_string()
    if not texts:
        return pa.array([], kind)
    return pa.concat_arrays([text.cast(kind) for text in texts])


class _Built:
    """The rows of every file, kept piece by piece in file order as compact columns."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: list[pa.Array] = []
        self.instants = _Blocks(np.dtype("datetime64[us]"))
        self.naive = 0
        self.unread: list[np.ndarray] = []
        self.unread_text: list[pa.Array] = []
        self.texts = {name: _Encoder() for name in _ENCODED}

    def keep(self, piece: _Piece) -> None:
        self.ids.append(piece.ids)
        if piece.instants is not None:
            self.instants.append(piece.instants)
            self.naive += piece.naive
        else:
            self.instants.append(np.full(piece.rows, np.datetime64("NaT"), "datetime64[us]"))
            self.unread.append(np.arange(self.count, self.count + piece.rows, dtype=np.int64))
            self.unread_text.append(piece.time_text)
        for name, encoder in self.texts.items():
            if name in piece.texts:
                encoder.add(*piece.texts[name])
            else:  # a column the file does not have is empty in every row
                encoder.add(_EMPTY, np.zeros(piece.rows, dtype=np.uint8))
        self.count += piece.rows

    def rows(self, logs: tuple[RawLog, ...]) -> _Rows:
        """Every row kept, as whole columns (the pieces are let go of)."""
        times = _Times(
            self.instants.array(),
            self.naive,
            np.concatenate(self.unread) if self.unread else np.zeros(0, dtype=np.int64),
            pa.chunked_array(self.unread_text, type=pa.string()),
        )
        starts = np.cumsum([0, *(raw.kept for raw in logs)], dtype=np.int64)
        ids, self.ids = _joined(self.ids), []
        texts = {name: encoder.column() for name, encoder in self.texts.items()}
        return _Rows(logs, starts, ids, times, texts)


# --- validating rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Typed:
    """What the values of the coded columns mean, per distinct value (not per row)."""

    lookups: dict[str, np.ndarray]
    """Per column of ``_CHECKS``, each distinct value's code, then -1 for empty (and for
    an invalid value): index it with the column's codes."""
    confidence: np.ndarray
    """Each distinct ``ai_confidence`` value's number (NaN if not one), then NaN for empty."""

    def codes(self, rows: _Rows, name: str, which: np.ndarray | None = None) -> np.ndarray:
        """A coded column's codes in every row (or the rows ``which``), -1 empty."""
        values = rows.texts[name].codes
        found: np.ndarray = self.lookups[name][values if which is None else values[which]]
        return found


def _check_rows(rows: _Rows, problems: _Problems) -> _Typed:
    """Validate every column of every row but the time; return what they mean."""
    problems.add(_blank_ids(rows.ids), "column 'decision_id': empty; an id is required")
    lookups = {name: check(rows.texts[name], problems) for name, check in _CHECKS.items()}
    action = rows.texts["action_class"]
    for index, value in enumerate(action.values.to_pylist()):
        if not _ACTION_CLASS.match(value):
            problems.add(
                action.rows_of(index),
                f"column 'action_class': {value!r} must match [A-Za-z0-9._:/-]{{1,200}}",
            )
    return _Typed(lookups, _check_confidence(rows.texts["ai_confidence"], problems))


def _check_confidence(column: _Text, problems: _Problems) -> np.ndarray:
    """Each distinct confidence's number (then NaN for empty), reporting those not in [0, 1]."""
    spelled = column.values.to_pandas()
    numbers = pd.to_numeric(spelled, errors="coerce").to_numpy(float)
    bad = ~((numbers >= 0) & (numbers <= 1))  # NaN fails both
    if bad.any():
        out_of_range = np.flatnonzero(np.isin(column.codes, np.flatnonzero(bad)))
        for row in out_of_range[:_MAX_REPORTED]:
            problems.add(
                np.array([row]),
                f"column 'ai_confidence': {column.text(int(row))!r} is not a number in [0, 1]",
            )
        problems.add(out_of_range[_MAX_REPORTED:], "column 'ai_confidence': not a number in [0, 1]")
    return np.append(numbers, np.nan)


def _parse_timestamps(times: _Times, problems: _Problems) -> int:
    """Read the times Arrow did not into ``times.instants`` (naive as UTC, NaT if bad);
    return how many times had no zone.

    Arrow read most times already; pandas reads the rest, with every accepted form and
    every message.
    """
    instants, naive, rows = times.instants, times.naive, times.unread
    if not len(rows):
        return naive
    text = times.unread_text.to_pandas()
    empty = (text == "").to_numpy()
    problems.add(rows[empty], "column 'timestamp': empty; a timestamp is required")
    # pandas also reads words ("now", "today": the wall clock) and digits of other scripts.
    dated = np.asarray(pc.match_substring_regex(times.unread_text, _DATED), dtype=bool)
    parsed = pd.to_datetime(
        text.where(dated & ~empty, None), format="ISO8601", utc=True, errors="coerce"
    )
    bad = parsed.isna().to_numpy() & ~empty
    # Times are nanoseconds downstream: outside these years a mistyped year, not data.
    out_of_range = ~bad & ~empty & ~((parsed >= _EARLIEST) & (parsed <= _LATEST)).to_numpy(bool)
    for local in np.flatnonzero(out_of_range)[:_MAX_REPORTED]:
        problems.add(
            rows[[local]],
            f"column 'timestamp': {text.iat[local]!r} is outside {RANGE_TEXT}",
        )
    problems.add(
        rows[np.flatnonzero(out_of_range)[_MAX_REPORTED:]],
        f"column 'timestamp': outside {RANGE_TEXT}",
    )
    bad_rows = np.flatnonzero(bad)
    for local in bad_rows[:_MAX_REPORTED]:
        problems.add(
            rows[[local]],
            f"column 'timestamp': {text.iat[local]!r} is not an ISO-8601 timestamp",
        )
    problems.add(rows[bad_rows[_MAX_REPORTED:]], "column 'timestamp': not an ISO-8601 timestamp")
    # Arrow's regex engine, not Python's: one pass in C over the times.
    zoned = np.asarray(pc.match_substring_regex(times.unread_text, _OFFSET), dtype=bool)
    naive += int((~zoned & ~empty & ~bad).sum())
    # Plain datetime64 from here on: an aware Series turns into Timestamp objects in numpy.
    instants[rows] = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    return naive


# --- grouping rows by decision -----------------------------------------------------------------


@dataclass(frozen=True)
class _Grouping:
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
        """``ufunc`` (``np.minimum``, ``np.maximum``) over each decision's row values."""
        merged: np.ndarray = values[self.first]
        if len(self.several):
            merged[self.several] = ufunc.reduceat(values[self.rows], self.starts)
        return merged

    def any(self, given: np.ndarray) -> np.ndarray:
        """Whether ``given`` holds in some row of each decision."""
        return self.reduce(np.logical_or, given)

    def select(self, chosen: np.ndarray) -> _Grouping:
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
        return _Grouping(
            self.code, self.first[chosen], at[kept], self.rows[np.repeat(kept, sizes)], starts
        )


def _group(ids: pa.Array) -> _Grouping:
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
    return _Grouping(code, order[begins], several, rows, starts)


def _offsets(text: pa.Array) -> np.ndarray:
    """Where each value of a ``string`` or ``large_string`` array starts, then its end."""
    if not len(text):
        return np.zeros(1, dtype=np.int64)
    dtype = np.dtype(np.int64 if pa.types.is_large_string(text.type) else np.int32)
    buffer = text.buffers()[1]
    return np.frombuffer(buffer, dtype, len(text) + 1, text.offset * dtype.itemsize)


def _blank_ids(ids: pa.Array) -> np.ndarray:
    """The rows without an id."""
    lengths = np.diff(_offsets(ids))
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
    lengths = np.diff(_offsets(ids))
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
            ranks, distinct = pd.factorize(key, sort=True)
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
    rank[np.asarray(pc.array_sort_indices(encoded.dictionary))] = np.arange(len(rank))
    ordered: np.ndarray = rank[np.asarray(encoded.indices)]
    blank = _blank_ids(ids)
    ordered[blank] = len(rank) + np.arange(len(blank))
    return ordered


def _id_pairs(ranks: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Ranks of the first 8 bytes and the rest, as one number in the same order."""
    low_ranks, low_distinct = pd.factorize(low, sort=True)
    ranks *= len(low_distinct)
    ranks += low_ranks
    return ranks


def _id_bytes(ids: pa.Array, width: int, start: int, size: int) -> np.ndarray:
    """Bytes ``start`` to ``start + size`` (at most 8) of every id (all of ``width`` bytes)
    as a big-endian number: the numbers compare as the bytes do."""
    at = int(_offsets(ids)[0]) + start
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


# --- validating decisions ----------------------------------------------------------------------


def _value_codes(rows: _Rows, typed: _Typed, which: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Each merged column's codes at some rows: -1 empty, equal codes for equal values.

    A column with fewer than two values cannot conflict and is left out.
    """
    for name in _CODED:
        if len(np.unique(typed.lookups[name][typed.lookups[name] >= 0])) > 1:
            yield name, typed.codes(rows, name, which)
    for name in _TEXT:
        if len(rows.texts[name].values) > 1:
            yield name, rows.texts[name].codes[which]
    # Equal numbers are one value however spelled (0.5, 0.50).
    numbers, distinct = pd.factorize(typed.confidence)  # NaN (empty, invalid) is -1
    if len(distinct) > 1:
        yield "ai_confidence", numbers[rows.texts["ai_confidence"].codes[which]]


def _conflicts(rows: _Rows, groups: _Grouping, typed: _Typed, problems: _Problems) -> None:
    """Report each row that gives a decision a second, different non-empty value.

    Only decisions with several rows can conflict, in a column with two values at
    least. Per column, one does when a non-empty code is not the largest; only the rows
    of such decisions are then looked at one by one.
    """
    if groups.unique:
        return
    which, starts = groups.rows, groups.starts
    sizes = np.diff(starts, append=np.int32(len(which)))
    for name, codes in _value_codes(rows, typed, which):
        # A row clashes when it gives a value, but not the decision's largest.
        clashes = (codes >= 0) & (codes != np.repeat(np.maximum.reduceat(codes, starts), sizes))
        if clashes.any():
            clash = np.repeat(np.logical_or.reduceat(clashes, starts), sizes)
            _report_conflicts(name, groups, which[clash], codes[clash], rows, problems)


def _report_conflicts(
    name: str,
    groups: _Grouping,
    which: np.ndarray,
    codes: np.ndarray,
    rows: _Rows,
    problems: _Problems,
) -> None:
    """Messages for the rows ``which`` (by decision, then row) of conflicting decisions."""
    given = codes >= 0
    pairs = pd.DataFrame(
        {"decision": groups.code[which[given]], "value": codes[given], "row": which[given]}
    )
    distinct = pairs.drop_duplicates(["decision", "value"])  # each value's first row
    later = distinct["decision"].duplicated(keep="first").to_numpy()
    first_row = distinct.drop_duplicates("decision").set_index("decision")["row"]
    conflicting = distinct[later].sort_values("row")
    text = rows.texts[name]
    # Only the first rows can be among the errors shown; the rest are counted.
    for decision_code, row in conflicting[["decision", "row"]].head(_MAX_REPORTED).to_numpy():
        earlier = int(first_row[decision_code])
        problems.add(
            np.array([row]),
            f"column '{name}': {text.text(int(row))!r} conflicts with {text.text(earlier)!r} "
            f"given earlier for decision {rows.ids[int(row)].as_py()!r}",
        )
    problems.add(
        conflicting["row"].to_numpy()[_MAX_REPORTED:], f"column '{name}': conflicting values"
    )


def _merged_codes(
    groups: _Grouping, codes: np.ndarray, among: np.ndarray | None = None
) -> np.ndarray:
    """Each decision's code from its rows (only those ``among``), -1 if none gives one.

    Without a conflict a decision has one non-empty code at most: the largest is it.
    """
    return groups.reduce(np.maximum, codes if among is None else np.where(among, codes, -1))


def _check_decisions(rows: _Rows, groups: _Grouping, typed: _Typed, problems: _Problems) -> None:
    """Rules that hold per decision once all its rows are merged."""
    first_row = groups.first
    for name in _REQUIRED_PER_DECISION:
        # From the text, so a value that was given but invalid is not also reported as missing.
        missing = ~groups.any(rows.texts[name].given())
        problems.add(
            first_row[missing],
            f"column '{name}': empty in every row of the decision; it is required",
        )
    verified_codes = (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
    outcome = typed.codes(rows, "outcome")
    not_executed = _merged_codes(groups, typed.codes(rows, "executed")) == 0
    merged_outcome = _merged_codes(groups, outcome)
    verified = (merged_outcome == verified_codes[0]) | (merged_outcome == verified_codes[1])
    bad = np.flatnonzero(not_executed & verified)
    if len(bad):
        outcome_rows = np.isin(groups.code, bad) & np.isin(outcome, verified_codes)
        problems.add(
            np.flatnonzero(outcome_rows),
            "column 'outcome': an action that was not executed (executed=false) has no "
            "outcome; leave it empty or 'unknown'",
        )


# --- merging -----------------------------------------------------------------------------------


def _after(timestamps: np.ndarray, until: dt.datetime | None) -> np.ndarray:
    """Rows recorded after ``until`` (naive read as UTC); a bad time (NaT) is never after."""
    if until is None:
        return np.zeros(len(timestamps), dtype=bool)
    limit = np.datetime64(as_utc(until).replace(tzinfo=None), "us")
    return timestamps > limit


def _known(rows: _Rows, groups: _Grouping, kept: np.ndarray) -> np.ndarray:
    """Decisions whose kept rows give every required field (so they have a kept row)."""
    known = np.ones(groups.count, dtype=bool)
    for name in _REQUIRED_PER_DECISION:
        known &= groups.any(rows.texts[name].given() & kept)
    return known


def _categorical(column: _Text, codes: np.ndarray) -> pd.Categorical:
    """Text of a column (codes into its values, -1 empty) as a pandas categorical.

    The categories are ``""`` and every value of the column in the logs, sorted: the
    same for every selection of decisions (``until``, skipped ones) and every row order.
    """
    order = np.asarray(pc.array_sort_indices(column.values), dtype=np.int64)
    categories = ["", *column.values.take(order).to_pylist()]
    position = np.zeros(len(order) + 1, dtype=codes.dtype)  # code -1 is "", the first
    position[order] = np.arange(1, len(order) + 1)
    dtype = pd.CategoricalDtype(pd.Index(categories))
    return pd.Categorical.from_codes(position[codes], dtype=dtype)


def _merge(
    rows: _Rows, groups: _Grouping, typed: _Typed, kept: np.ndarray, selected: np.ndarray
) -> pd.DataFrame:
    """The ``selected`` decisions, each merged from its ``kept`` rows field by field.

    Typed as ``Decisions.frame`` documents, sorted by timestamp, then decision id.
    Every selected decision has a kept row, only valid times and no conflict: the one
    value its rows give in a column is their largest code. This is the last use of the
    rows' columns: each is let go of once merged, so that the rows and the frame are
    never both whole in memory.
    """
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
    for name in _CODED:
        codes = typed.lookups[name][_merged_codes(picked, rows.texts.pop(name).codes, among)]
        columns[name] = np.where(codes < 0, 0 if name in _TIERS else -1, codes).astype(np.int8)
    columns["executed"] = columns["executed"].astype(bool)
    for name in _TEXT:
        column = rows.texts.pop(name)
        columns[name] = _categorical(column, _merged_codes(picked, column.codes, among))
    # Equal numbers may be spelled differently (0.5, 0.50): any of their codes will do.
    confidence = _merged_codes(picked, rows.texts.pop("ai_confidence").codes, among)
    columns["ai_confidence"] = typed.confidence[confidence]  # code -1: NaN, the last
    columns["timestamp"] = _utc(first_time[order])
    del first_time, order
    latest = stamps if among is None else np.where(among, stamps, np.iinfo(np.int64).min)
    columns["recorded_at"] = _utc(picked.reduce(np.maximum, latest))
    del stamps, latest
    rows.times = _Times(np.zeros(0, "datetime64[us]"), 0, rows.times.unread, rows.times.unread_text)
    columns["decision_id"] = _text_at(rows.ids, picked.first)
    rows.ids = pa.array([], rows.ids.type)
    # No copy: every column is the frame's own already.
    frame: pd.DataFrame = pd.DataFrame({name: columns[name] for name in _FRAME_COLUMNS}, copy=False)
    return frame


def _utc(micros: np.ndarray) -> pd.Series:
    """Microseconds since the epoch as a ``datetime64[us, UTC]`` column."""
    column: pd.Series = pd.Series(micros.view("datetime64[us]"), dtype="datetime64[us, UTC]")
    return column


def _text_at(texts: pa.Array, rows: np.ndarray) -> pd.Series:
    """Some rows' text as a pandas text column (``large_string`` in Arrow: no copy), taken
    a block at a time: the Arrow ``string`` copy is never whole next to the pandas one."""
    step = 1 << 20
    chunks = [
        texts.take(rows[start : start + step]).cast(pa.large_string())
        for start in range(0, len(rows), step)
    ]
    text: pd.Series = pa.chunked_array(chunks, type=pa.large_string()).to_pandas()
    return text


# --- reporting ---------------------------------------------------------------------------------


def _summaries(rows: _Rows, groups: _Grouping) -> tuple[SourceSummary, ...]:
    """What each file holds; a decision counts in every file that has one of its rows."""
    if len(rows.logs) == 1:
        raw = rows.logs[0]
        return (SourceSummary(str(raw.path), raw.sha256, raw.rows, groups.count),)
    single = np.ones(groups.count, dtype=bool)
    single[groups.several] = False
    decisions = np.bincount(rows.file_of(groups.first[single]), minlength=len(rows.logs))
    if len(groups.several):
        # A decision's rows are in row order, so the rows of each of its files follow each other.
        files = rows.file_of(groups.rows)
        new = np.ones(len(files), dtype=bool)
        new[1:] = files[1:] != files[:-1]
        new[groups.starts] = True
        decisions += np.bincount(files[new], minlength=len(rows.logs))
    return tuple(
        SourceSummary(path=str(raw.path), sha256=raw.sha256, rows=raw.rows, decisions=int(count))
        for raw, count in zip(rows.logs, decisions.tolist(), strict=True)
    )


def _read_back(
    rows: _Rows, wanted: Sequence[int], read: Callable[[RawLog, list[int]], dict[int, _T]]
) -> dict[int, _T]:
    """``read`` once per file for the ``wanted`` rows in it, keyed by row of ``rows``."""
    chosen = np.asarray(wanted, dtype=np.int64)
    files = rows.file_of(chosen)
    found: dict[int, _T] = {}
    for file_index in np.unique(files).tolist():
        mine = chosen[files == file_index].tolist()
        start = int(rows.starts[file_index])
        got = read(rows.logs[file_index], [r - start for r in mine])
        found.update({r: got[r - start] for r in mine})
    return found


def _error_lines(
    rows: _Rows,
    problems: _Problems,
    where: dict[int, str] | None = None,
    first: Sequence[str] = (),
) -> InputError:
    """The first problems as ``FILE:LINE: message``; ``where`` has the rows already located.

    The lines ``first`` (a summary) come before them.
    """
    shown, total = problems.first(_MAX_REPORTED)
    if where is None:
        where = _read_back(rows, sorted({row for row, _ in shown}), locate)
    lines = [*first, *(f"{where[row]}: {message}" for row, message in shown)]
    return InputError(lines, total=total + len(first))


def _repeats(rows: _Rows, groups: _Grouping) -> list[str]:
    """The files whose decision ids are mostly another file's (``repeats.repeated_logs``)."""
    if groups.unique or len(rows.logs) < 2:
        return []
    every_row = np.arange(rows.count)
    paths = [str(raw.path) for raw in rows.logs]
    return repeated_logs(paths, rows.file_of(every_row), groups.code)


def _no_decisions(logs: Sequence[RawLog]) -> InputError:
    return InputError(
        [
            f"{raw.path}:{'row 0' if raw.format == 'parquet' else 1}: no decisions in this file"
            for raw in logs
        ]
    )


def load_decisions(
    paths: Sequence[Path], on_bad_rows: OnBadRows = "fail", *, until: dt.datetime | None = None
) -> Decisions:
    """Read, validate and merge decision logs.

    With ``on_bad_rows="fail"`` any bad row raises ``InputError`` listing ``FILE:LINE``
    and the field; with ``"skip"`` every decision touched by a bad row is left out,
    counted, and returned in ``bad_rows`` with its untouched source records.

    With ``until`` (naive read as UTC), the decisions are as known at that moment: rows
    recorded later are left out before merging, so a later outcome is not known and a
    decision whose rows (or required fields) all come later is not there. Every row is
    still validated, and the whole log must be consistent.
    """
    rows = _read(paths)
    if not rows.count:
        raise _no_decisions(rows.logs)
    return _load(rows, on_bad_rows, until, whole=True)


def load_slice(
    paths: Sequence[Path],
    on_bad_rows: OnBadRows,
    *,
    until: dt.datetime | None,
    part: tuple[int, int],
) -> Decisions | None:
    """Like ``load_decisions``, for the decisions of one slice (``sources.in_part``) only.

    Every row of a decision is in its slice, so slices read one after another give the
    decisions of the whole logs. ``None`` when the slice has no row; a slice whose every
    decision is bad is not an error here (the others may be good).
    """
    rows = _read(paths, part)
    if not rows.count:
        return None
    return _load(rows, on_bad_rows, until, whole=False)


def _load(
    rows: _Rows, on_bad_rows: OnBadRows, until: dt.datetime | None, *, whole: bool
) -> Decisions:
    problems = _Problems()
    typed = _check_rows(rows, problems)
    naive = _parse_timestamps(rows.times, problems)
    groups = _group(rows.ids)
    _conflicts(rows, groups, typed, problems)
    _check_decisions(rows, groups, typed, problems)
    skipped = np.zeros(groups.count, dtype=bool)
    bad_rows: tuple[BadRow, ...] = ()
    if problems:
        if on_bad_rows == "fail":
            raise _error_lines(rows, problems, first=_repeats(rows, groups) if whole else [])
        skipped, bad_rows, where = _skip(rows, groups, problems)
        if whole and skipped.all():
            raise _error_lines(rows, problems, where)
    after = _after(rows.times.instants, until)
    known = _known(rows, groups, ~after)
    files = _summaries(rows, groups)
    frame = _merge(rows, groups, typed, ~after, known & ~skipped)
    report = IngestReport(
        files=files,
        rows=rows.count,
        decisions=len(frame),
        naive_timestamps=naive,
        skipped_decisions=int(skipped.sum()),
        skipped_rows=len(bad_rows),
        rows_after_until=int(after.sum()),
        decisions_after_until=int((~known & ~skipped).sum()),
    )
    return Decisions(frame=frame, report=report, bad_rows=bad_rows)


def _skip(
    rows: _Rows, groups: _Grouping, problems: _Problems
) -> tuple[np.ndarray, tuple[BadRow, ...], dict[int, str]]:
    """Every decision touched by a bad row, all its rows as ``BadRow``, and where they are."""
    by_row = problems.by_row()
    flagged = np.fromiter(by_row, dtype=np.int64)
    hit = np.zeros(groups.count, dtype=bool)
    hit[groups.code[flagged]] = True
    bad_indexes = np.flatnonzero(hit[groups.code]).tolist()
    originals = _read_back(rows, bad_indexes, original_rows)
    bad_rows = tuple(
        BadRow(
            location=originals[r][0],
            errors=tuple(by_row.get(r, ["another row of this decision is bad"])),
            record=originals[r][1],
        )
        for r in bad_indexes
    )
    return hit, bad_rows, {r: location for r, (location, _) in originals.items()}
