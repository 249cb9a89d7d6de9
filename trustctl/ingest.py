"""Decision logs in, one validated row per decision out: vocabularies, merging, bad rows.

Validation is vectorised: each column is factorised, the (few) distinct values
are checked once, and the verdict is broadcast back to the rows by code. Rows are
grouped by decision once (a stable sort by decision); every merged field is then
one numpy reduction over that order. Errors are gathered as (row, message) pairs
and turned into ``FILE:LINE`` only on the error path.
"""

from __future__ import annotations

import datetime as dt
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
from trustctl.sources import SCHEMA_COLUMNS, RawLog, find_logs, locate, original_rows, read_log

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
_MAX_REPORTED = 20

#: Merged columns that are codes (int8, -1 = empty; tiers 0 = empty) and those that are text.
_CODED = ("mode", "human_decision", "executed", "outcome", "severity", "system_tier", "risk_tier")
_TIERS = ("system_tier", "risk_tier")
_TEXT = ("action_class", "service", "agent_version", "reviewer", "rationale", "incident_id")
#: Required columns that may be empty in some event rows of a decision, but not in all.
_REQUIRED_PER_DECISION = ("action_class", "mode", "executed")
#: Columns of ``Decisions.frame``, in order.
_FRAME_COLUMNS = (*SCHEMA_COLUMNS[:2], "recorded_at", *SCHEMA_COLUMNS[2:])

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


@dataclass(frozen=True)
class Decisions:
    """One row per decision, typed, with the ingest report.

    Columns of ``frame``, in this order: ``decision_id`` (str); ``timestamp`` (UTC
    datetime in microseconds, the earliest of the decision's rows: when the AI proposed
    or acted); ``recorded_at`` (the same type, the latest of its rows: when the last
    thing about it, such as its verified outcome, was recorded); ``action_class`` (str);
    ``mode`` (ladder rank 0-3); ``human_decision``/``outcome``/``severity`` (codes
    above, -1 empty); ``executed`` (bool); ``system_tier``/``risk_tier`` (int,
    0 = not given); ``service``, ``agent_version``, ``reviewer``, ``rationale``,
    ``incident_id`` (str, ``""`` = not given); ``ai_confidence`` (float, NaN = not
    given). Rows are sorted by timestamp, then decision id. With ``until``, only the
    rows recorded at or before it count, for every column.
    """

    frame: pd.DataFrame
    report: IngestReport
    bad_rows: tuple[BadRow, ...] = field(default=())


def _vocabulary(
    name: str, allowed: Callable[[str], int | None], describe: str
) -> Callable[[pd.Series], tuple[np.ndarray, list[tuple[np.ndarray, str]]]]:
    """A column checker: codes for the rows, and (bad rows, message) pairs."""

    def check(column: pd.Series) -> tuple[np.ndarray, list[tuple[np.ndarray, str]]]:
        codes, uniques = pd.factorize(column)
        lookup = np.full(len(uniques) + 1, -1, dtype=np.int16)
        problems: list[tuple[np.ndarray, str]] = []
        for index, value in enumerate(uniques):
            text = str(value)
            if text == "":
                continue
            code = allowed(text)
            if code is None:
                rows = np.flatnonzero(codes == index)
                problems.append((rows, f"column '{name}': {text!r} is not {describe}"))
            else:
                lookup[index] = code
        return lookup[codes], problems

    return check


def _tier(high: int) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        return int(text) if text.isdigit() and 1 <= int(text) <= high else None

    return parse


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


def _concat(raws: Sequence[RawLog]) -> pd.DataFrame:
    frames: list[pd.DataFrame] = []
    for index, raw in enumerate(raws):
        frame = raw.table.to_pandas()
        for column in SCHEMA_COLUMNS:
            if column not in frame:
                frame[column] = ""
        frame = frame[list(SCHEMA_COLUMNS)]
        frame["_file"] = np.int32(index)
        frame["_row"] = np.arange(len(frame), dtype=np.int64)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


_EARLIEST = pd.Timestamp("1970-01-01", tz="UTC")
_LATEST = pd.Timestamp("2200-12-31T23:59:59", tz="UTC")


def _parse_timestamps(text: pd.Series, problems: _Problems) -> tuple[np.ndarray, int]:
    """UTC instants as ``datetime64[us]`` (naive read as UTC, NaT if bad) and the naive count."""
    empty = (text == "").to_numpy()
    problems.add(np.flatnonzero(empty), "column 'timestamp': empty; a timestamp is required")
    parsed = pd.to_datetime(text.where(~empty, None), format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna().to_numpy() & ~empty
    # Times are nanoseconds downstream: outside these years a mistyped year, not data.
    out_of_range = ~bad & ~empty & ~((parsed >= _EARLIEST) & (parsed <= _LATEST)).to_numpy(bool)
    for row in np.flatnonzero(out_of_range)[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'timestamp': {text.iat[row]!r} is outside the years 1970 to 2200",
        )
    problems.add(
        np.flatnonzero(out_of_range)[_MAX_REPORTED:],
        "column 'timestamp': outside the years 1970 to 2200",
    )
    bad_rows = np.flatnonzero(bad)
    for row in bad_rows[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'timestamp': {text.iat[row]!r} is not an ISO-8601 timestamp",
        )
    problems.add(bad_rows[_MAX_REPORTED:], "column 'timestamp': not an ISO-8601 timestamp")
    # Arrow's regex engine, not Python's: one pass in C over a million timestamps.
    zoned = np.asarray(pc.match_substring_regex(pa.array(text), _OFFSET), dtype=bool)
    naive = ~zoned & ~empty & ~bad
    # Plain datetime64 from here on: an aware Series turns into Timestamp objects in numpy.
    return parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]"), int(naive.sum())


def _check_rows(rows: pd.DataFrame, problems: _Problems) -> dict[str, Any]:
    """Validate every column of every row; return the typed columns."""
    typed: dict[str, Any] = {}
    empty_id = (rows["decision_id"] == "").to_numpy()
    problems.add(np.flatnonzero(empty_id), "column 'decision_id': empty; an id is required")
    for name, check in _CHECKS.items():
        codes, found = check(rows[name])
        typed[name] = codes
        for bad_rows, message in found:
            problems.add(bad_rows, message)
    action_codes, action_uniques = pd.factorize(rows["action_class"])
    for index, value in enumerate(action_uniques):
        if value != "" and not _ACTION_CLASS.match(str(value)):
            problems.add(
                np.flatnonzero(action_codes == index),
                f"column 'action_class': {value!r} must match [A-Za-z0-9._:/-]{{1,200}}",
            )
    confidence_text = rows["ai_confidence"]
    # Few distinct confidences (a few decimals each): parse each text once, not each row.
    codes, uniques = pd.factorize(confidence_text)
    spelled = pd.Series(uniques)
    numbers = pd.to_numeric(spelled.where(spelled != "", None), errors="coerce").to_numpy(float)
    bad = (spelled != "").to_numpy() & ~((numbers >= 0) & (numbers <= 1))  # NaN fails both
    out_of_range = np.flatnonzero(bad[codes])
    for row in out_of_range[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'ai_confidence': {confidence_text.iat[row]!r} is not a number in [0, 1]",
        )
    problems.add(out_of_range[_MAX_REPORTED:], "column 'ai_confidence': not a number in [0, 1]")
    typed["ai_confidence"] = numbers[codes]
    return typed


def _decision_codes(ids: pd.Series) -> tuple[np.ndarray, int]:
    """Each row's decision code (0 to count - 1, in order of first appearance) and the count.

    A row without an id is a decision of its own: it is already an error, and
    merging such rows with each other would only add false conflicts.
    """
    codes, uniques = pd.factorize(ids.where(ids != ""))
    count = len(uniques)
    blank = np.flatnonzero(codes < 0)
    if len(blank):
        codes = codes.copy()
        codes[blank] = count + np.arange(len(blank))
    return codes, count + len(blank)


@dataclass(frozen=True)
class _Grouping:
    """The rows of each decision, found once and reused by every merged field."""

    code: np.ndarray
    """Each row's decision code."""
    order: np.ndarray
    """Row indexes sorted by decision code, in row order within a decision."""
    starts: np.ndarray
    """Where each decision's rows start in ``order``; one entry per decision."""

    @property
    def count(self) -> int:
        """How many decisions."""
        return len(self.starts)

    @property
    def unique(self) -> bool:
        """One row per decision."""
        return len(self.starts) == len(self.order)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        """``ufunc`` (``np.minimum``, ``np.maximum``) over each decision's row values."""
        ordered = values[self.order]
        return ordered if self.unique else ufunc.reduceat(ordered, self.starts)

    def last(self, given: np.ndarray) -> np.ndarray:
        """Each decision's last row for which ``given`` holds, or -1."""
        return self.reduce(np.maximum, np.where(given, np.arange(len(given)), -1))

    def first_rows(self) -> np.ndarray:
        """Each decision's first row."""
        first: np.ndarray = self.order[self.starts]
        return first


def _group(ids: pd.Series) -> _Grouping:
    """Group rows by their ``decision_id``."""
    code, count = _decision_codes(ids)
    if count == len(code):  # no event streams: no sort, each decision is its row
        order = np.empty_like(code)
        order[code] = np.arange(len(code))
        return _Grouping(code, order, np.arange(count))
    sizes = np.bincount(code, minlength=count)
    return _Grouping(code, np.argsort(code, kind="stable"), np.cumsum(sizes) - sizes)


def _value_codes(
    rows: pd.DataFrame, typed: dict[str, Any], which: np.ndarray
) -> Iterator[tuple[str, np.ndarray]]:
    """Each merged column's codes at some rows: -1 empty, equal codes for equal values."""
    for name in _CODED:
        yield name, np.asarray(typed[name])[which]
    for name in _TEXT:
        # The whole column: factorising is cheaper than gathering the rows first.
        codes, uniques = pd.factorize(rows[name])
        empty = np.asarray(uniques == "", dtype=bool)
        yield name, np.where(empty[codes], -1, codes)[which]
    yield "ai_confidence", pd.factorize(typed["ai_confidence"][which])[0]


def _conflicts(
    rows: pd.DataFrame, groups: _Grouping, typed: dict[str, Any], problems: _Problems
) -> None:
    """Report each row that gives a decision a second, different non-empty value.

    Only decisions with several rows can conflict. Per column, one does when the
    smallest and the largest of its non-empty codes differ; only the rows of such
    decisions are then looked at one by one.
    """
    if groups.unique:
        return
    sizes = np.diff(np.append(groups.starts, len(groups.order)))
    several = sizes > 1
    which = groups.order[np.repeat(several, sizes)]
    sizes = sizes[several]
    starts = np.cumsum(sizes) - sizes
    for name, codes in _value_codes(rows, typed, which):
        largest = np.maximum.reduceat(codes, starts)
        # Empty (-1) must not be the smallest: make it larger than any code.
        empty_last = np.where(codes < 0, np.iinfo(codes.dtype).max, codes)
        smallest = np.minimum.reduceat(empty_last, starts)
        clash = np.repeat((largest >= 0) & (smallest != largest), sizes)
        if clash.any():
            _report_conflicts(name, groups, which[clash], codes[clash], rows, problems)


def _report_conflicts(
    name: str,
    groups: _Grouping,
    which: np.ndarray,
    codes: np.ndarray,
    rows: pd.DataFrame,
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
    text, ids = rows[name], rows["decision_id"]
    # Only the first rows can be among the errors shown; the rest are counted.
    for decision_code, row in conflicting[["decision", "row"]].head(_MAX_REPORTED).to_numpy():
        earlier = int(first_row[decision_code])
        problems.add(
            np.array([row]),
            f"column '{name}': {text.iat[row]!r} conflicts with {text.iat[earlier]!r} given "
            f"earlier for decision {ids.iat[row]!r}",
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


def _check_decisions(
    rows: pd.DataFrame, groups: _Grouping, typed: dict[str, Any], problems: _Problems
) -> None:
    """Rules that hold per decision once all its rows are merged."""
    first_row = groups.first_rows()
    for name in _REQUIRED_PER_DECISION:
        # From the text, so a value that was given but invalid is not also reported as missing.
        given = (rows[name] != "").to_numpy(dtype=np.float64)
        missing = np.bincount(groups.code, weights=given, minlength=groups.count) == 0
        problems.add(
            first_row[missing],
            f"column '{name}': empty in every row of the decision; it is required",
        )
    verified_codes = (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
    not_executed = _merged_codes(groups, typed["executed"]) == 0
    verified = np.isin(_merged_codes(groups, typed["outcome"]), verified_codes)
    bad = np.flatnonzero(not_executed & verified)
    if len(bad):
        outcome_rows = np.isin(groups.code, bad) & np.isin(typed["outcome"], verified_codes)
        problems.add(
            np.flatnonzero(outcome_rows),
            "column 'outcome': an action that was not executed (executed=false) has no "
            "outcome; leave it empty or 'unknown'",
        )


def _after(timestamps: np.ndarray, until: dt.datetime | None) -> np.ndarray:
    """Rows recorded after ``until`` (naive read as UTC); a bad time (NaT) is never after."""
    if until is None:
        return np.zeros(len(timestamps), dtype=bool)
    moment = until if until.tzinfo is not None else until.replace(tzinfo=dt.timezone.utc)
    limit = np.datetime64(moment.astimezone(dt.timezone.utc).replace(tzinfo=None), "us")
    return timestamps > limit


def _known(rows: pd.DataFrame, groups: _Grouping, kept: np.ndarray) -> np.ndarray:
    """Decisions whose kept rows give every required field (so they have a kept row)."""
    known = np.ones(groups.count, dtype=bool)
    for name in _REQUIRED_PER_DECISION:
        known &= groups.reduce(np.maximum, (rows[name] != "").to_numpy(dtype=bool) & kept)
    return known


def _by_time_then_id(stamps: np.ndarray, ids: pd.api.extensions.ExtensionArray) -> np.ndarray:
    """The order that sorts by time, then id: ids are only compared among equal times."""
    order = np.argsort(stamps, kind="stable")
    ordered = stamps[order]
    same = ordered[1:] == ordered[:-1]
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        # The tied positions hold whole runs of equal times, in time order: sort them in place.
        subset = order[tied]
        names = np.asarray(ids.take(subset), dtype=object)
        order[tied] = subset[np.lexsort((names, stamps[subset]))]
    return order


def _merge(
    rows: pd.DataFrame,
    groups: _Grouping,
    typed: dict[str, Any],
    timestamps: np.ndarray,
    kept: np.ndarray,
    selected: np.ndarray,
) -> pd.DataFrame:
    """The ``selected`` decisions, each merged from its ``kept`` rows field by field.

    Typed as ``Decisions.frame`` documents, sorted by timestamp, then decision id.
    Every selected decision has a kept row and only valid times.
    """
    stamps = timestamps.view(np.int64)
    # A row that is not kept is never a decision's first or last.
    never_first, never_last = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    first_time = groups.reduce(np.minimum, np.where(kept, stamps, never_first))[selected]
    last_time = groups.reduce(np.maximum, np.where(kept, stamps, never_last))[selected]
    ids = rows["decision_id"].array.take(groups.first_rows()[selected])
    order = _by_time_then_id(first_time, ids)
    chosen = selected[order]
    columns: dict[str, Any] = {
        "decision_id": ids.take(order),
        "timestamp": first_time[order].view("datetime64[us]"),
        "recorded_at": last_time[order].view("datetime64[us]"),
    }
    for name in _CODED:
        codes = _merged_codes(groups, np.asarray(typed[name]), kept)[chosen]
        columns[name] = np.where(codes < 0, 0 if name in _TIERS else -1, codes).astype(np.int8)
    columns["executed"] = columns["executed"].astype(bool)
    for name in _TEXT:
        text = rows[name]
        picked = groups.last((text != "").to_numpy(dtype=bool) & kept)[chosen]
        columns[name] = text.array.take(picked, allow_fill=True, fill_value="")
    confidence = typed["ai_confidence"]
    picked = groups.last(~np.isnan(confidence) & kept)[chosen]
    columns["ai_confidence"] = np.where(picked >= 0, confidence[picked], np.nan)
    frame: pd.DataFrame = pd.DataFrame({name: columns[name] for name in _FRAME_COLUMNS})
    for name in ("timestamp", "recorded_at"):
        frame[name] = frame[name].dt.tz_localize("UTC")
    return frame


def _summaries(
    raws: Sequence[RawLog], files: np.ndarray, decision: np.ndarray
) -> tuple[SourceSummary, ...]:
    counts = (
        pd.DataFrame({"file": files, "decision": decision}).groupby("file")["decision"].nunique()
    )
    return tuple(
        SourceSummary(
            path=str(raw.path),
            sha256=raw.sha256,
            rows=raw.table.num_rows,
            decisions=int(counts.get(index, 0)),
        )
        for index, raw in enumerate(raws)
    )


def _read_back(
    raws: Sequence[RawLog],
    rows: pd.DataFrame,
    wanted: Sequence[int],
    read: Callable[[RawLog, list[int]], dict[int, _T]],
) -> dict[int, _T]:
    """``read`` once per file for the ``wanted`` rows in it, keyed by row of ``rows``."""
    files = rows["_file"].to_numpy()
    local = rows["_row"].to_numpy()
    chosen = np.asarray(wanted, dtype=np.int64)
    found: dict[int, _T] = {}
    for file_index in np.unique(files[chosen]).tolist():
        mine = chosen[files[chosen] == file_index].tolist()
        got = read(raws[file_index], [int(local[r]) for r in mine])
        found.update({r: got[int(local[r])] for r in mine})
    return found


def _error_lines(
    raws: Sequence[RawLog],
    rows: pd.DataFrame,
    problems: _Problems,
    where: dict[int, str] | None = None,
) -> InputError:
    """The first problems as ``FILE:LINE: message``; ``where`` has the rows already located."""
    first, total = problems.first(_MAX_REPORTED)
    if where is None:
        where = _read_back(raws, rows, sorted({row for row, _ in first}), locate)
    return InputError([f"{where[row]}: {message}" for row, message in first], total=total)


def _no_decisions(raws: Sequence[RawLog]) -> InputError:
    return InputError(
        [
            f"{raw.path}:{'row 0' if raw.format == 'parquet' else 1}: no decisions in this file"
            for raw in raws
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
    raws = [read_log(p) for p in find_logs(paths)]
    rows = _concat(raws)
    if rows.empty:
        raise _no_decisions(raws)
    problems = _Problems()
    typed = _check_rows(rows, problems)
    timestamps, naive = _parse_timestamps(rows["timestamp"], problems)
    groups = _group(rows["decision_id"])
    _conflicts(rows, groups, typed, problems)
    _check_decisions(rows, groups, typed, problems)
    skipped = np.zeros(groups.count, dtype=bool)
    bad_rows: tuple[BadRow, ...] = ()
    if problems:
        if on_bad_rows == "fail":
            raise _error_lines(raws, rows, problems)
        skipped, bad_rows, where = _skip(raws, rows, groups, problems)
        if skipped.all():
            raise _error_lines(raws, rows, problems, where)
    after = _after(timestamps, until)
    known = _known(rows, groups, ~after)
    frame = _merge(rows, groups, typed, timestamps, ~after, np.flatnonzero(known & ~skipped))
    report = IngestReport(
        files=_summaries(raws, rows["_file"].to_numpy(), groups.code),
        rows=len(rows),
        decisions=len(frame),
        naive_timestamps=naive,
        skipped_decisions=int(skipped.sum()),
        skipped_rows=len(bad_rows),
        rows_after_until=int(after.sum()),
        decisions_after_until=int((~known & ~skipped).sum()),
    )
    return Decisions(frame=frame, report=report, bad_rows=bad_rows)


def _skip(
    raws: Sequence[RawLog], rows: pd.DataFrame, groups: _Grouping, problems: _Problems
) -> tuple[np.ndarray, tuple[BadRow, ...], dict[int, str]]:
    """Every decision touched by a bad row, all its rows as ``BadRow``, and where they are."""
    by_row = problems.by_row()
    flagged = np.fromiter(by_row, dtype=np.int64)
    hit = np.zeros(groups.count, dtype=bool)
    hit[groups.code[flagged]] = True
    bad_indexes = np.flatnonzero(hit[groups.code]).tolist()
    originals = _read_back(raws, rows, bad_indexes, original_rows)
    bad_rows = tuple(
        BadRow(
            location=originals[r][0],
            errors=tuple(by_row.get(r, ["another row of this decision is bad"])),
            record=originals[r][1],
        )
        for r in bad_indexes
    )
    return hit, bad_rows, {r: location for r, (location, _) in originals.items()}
