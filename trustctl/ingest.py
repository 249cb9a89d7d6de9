"""Decision logs in, one validated row per decision out: vocabularies, merging, bad rows.

Validation is vectorised: each column is factorised, the (few) distinct values
are checked once, and the verdict is broadcast back to the rows by code.
Errors are gathered as (row, message) pairs and turned into ``FILE:LINE`` only
on the error path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

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
    rows: int
    decisions: int
    naive_timestamps: int
    skipped_decisions: int
    skipped_rows: int


@dataclass(frozen=True)
class Decisions:
    """One row per decision, typed, with the ingest report.

    Columns of ``frame``: ``decision_id`` (str), ``timestamp`` (UTC datetime in
    microseconds, the earliest of the decision's rows), ``action_class`` (str),
    ``mode`` (ladder rank 0-3), ``human_decision``/``outcome``/``severity`` (codes
    above, -1 empty), ``executed`` (bool), ``system_tier``/``risk_tier`` (int,
    0 = not given), ``service``, ``agent_version``, ``reviewer``, ``rationale``,
    ``incident_id`` (str, ``""`` = not given), ``ai_confidence`` (float, NaN = not
    given). Rows are sorted by timestamp, then decision id.
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


def _parse_timestamps(text: pd.Series, problems: _Problems) -> tuple[np.ndarray, int]:
    """UTC instants as ``datetime64[us]`` (naive read as UTC, NaT if bad) and the naive count."""
    empty = (text == "").to_numpy()
    problems.add(np.flatnonzero(empty), "column 'timestamp': empty; a timestamp is required")
    parsed = pd.to_datetime(text.where(~empty, None), format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna().to_numpy() & ~empty
    bad_rows = np.flatnonzero(bad)
    for row in bad_rows[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'timestamp': {text.iat[row]!r} is not an ISO-8601 timestamp",
        )
    problems.add(bad_rows[_MAX_REPORTED:], "column 'timestamp': not an ISO-8601 timestamp")
    naive = ~text.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool) & ~empty & ~bad
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
    confidence = pd.to_numeric(confidence_text.where(confidence_text != "", None), errors="coerce")
    given = (confidence_text != "").to_numpy()
    out_of_range = np.flatnonzero(
        given & ~((confidence >= 0) & (confidence <= 1)).to_numpy(dtype=bool)
    )
    for row in out_of_range[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'ai_confidence': {confidence_text.iat[row]!r} is not a number in [0, 1]",
        )
    problems.add(out_of_range[_MAX_REPORTED:], "column 'ai_confidence': not a number in [0, 1]")
    typed["ai_confidence"] = confidence.to_numpy(dtype=float)
    return typed


def _decision_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Each row's decision code and the decision ids.

    A row without an id is a decision of its own: it is already an error, and
    merging such rows with each other would only add false conflicts.
    """
    codes, uniques = pd.factorize(ids.where(ids != ""))
    names = np.asarray(uniques, dtype=object)
    blank = np.flatnonzero(codes < 0)
    if len(blank):
        codes = codes.copy()
        codes[blank] = len(names) + np.arange(len(blank))
        names = np.concatenate([names, np.full(len(blank), "", dtype=object)])
    return codes, names


def _merge_columns(
    rows: pd.DataFrame, typed: dict[str, Any]
) -> dict[str, tuple[np.ndarray, np.ndarray | None, Any]]:
    """Per merged column: row codes (-1 = empty), the value of each code, the empty value.

    Coded columns have no value table: their code is their value.
    """
    columns: dict[str, tuple[np.ndarray, np.ndarray | None, Any]] = {}
    for name in _CODED:
        columns[name] = (np.asarray(typed[name]), None, 0 if name in _TIERS else -1)
    for name in _TEXT:
        codes, uniques = pd.factorize(rows[name].where(rows[name] != ""))
        columns[name] = (codes, np.asarray(uniques, dtype=object), "")
    codes, uniques = pd.factorize(typed["ai_confidence"])
    columns["ai_confidence"] = (codes, np.asarray(uniques, dtype=float), np.nan)
    return columns


def _merge(
    rows: pd.DataFrame, typed: dict[str, Any], problems: _Problems
) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge event rows field by field into one row per decision.

    Returns the merged frame (row ``i`` is decision code ``i``) and each row's decision code.
    """
    decision, ids = _decision_codes(rows["decision_id"])
    unique_ids = len(ids) == len(rows)
    merged: dict[str, Any] = {"decision_id": ids}
    for name, (codes, values, empty) in _merge_columns(rows, typed).items():
        if unique_ids:
            picked = codes
        else:
            _conflicts(name, decision, ids, codes, rows[name], problems)
            # Without a conflict a decision has one non-empty code at most: the max is it.
            picked = pd.Series(codes).groupby(decision).max().reindex(range(len(ids))).to_numpy()
        if values is None:
            merged[name] = np.where(picked < 0, empty, picked).astype(np.int8)
        else:
            lookup = np.append(values, np.array([empty], dtype=values.dtype))
            merged[name] = lookup[np.where(picked < 0, len(values), picked)]
    merged["_first_row"] = np.unique(decision, return_index=True)[1]
    return pd.DataFrame(merged), decision


def _conflicts(
    name: str,
    decision: np.ndarray,
    ids: np.ndarray,
    codes: np.ndarray,
    text: pd.Series,
    problems: _Problems,
) -> None:
    """Report each row that gives a decision a second, different non-empty value."""
    given = np.flatnonzero(codes >= 0)
    pairs = pd.DataFrame({"decision": decision[given], "value": codes[given], "row": given})
    distinct = pairs.drop_duplicates(["decision", "value"])  # each value's first row
    later = distinct["decision"].duplicated(keep="first").to_numpy()
    if not later.any():
        return
    first_row = distinct.drop_duplicates("decision").set_index("decision")["row"]
    conflicting = distinct[later].sort_values("row")
    # Only the first rows can be among the errors shown; the rest are counted.
    for decision_code, row in conflicting[["decision", "row"]].head(_MAX_REPORTED).to_numpy():
        earlier = int(first_row[decision_code])
        problems.add(
            np.array([row]),
            f"column '{name}': {text.iat[row]!r} conflicts with {text.iat[earlier]!r} given "
            f"earlier for decision {ids[decision_code]!r}",
        )
    problems.add(
        conflicting["row"].to_numpy()[_MAX_REPORTED:], f"column '{name}': conflicting values"
    )


def _check_decisions(
    rows: pd.DataFrame,
    merged: pd.DataFrame,
    decision: np.ndarray,
    typed: dict[str, Any],
    problems: _Problems,
) -> None:
    """Rules that hold per decision once its rows are merged."""
    first_row = merged["_first_row"].to_numpy()
    for name in _REQUIRED_PER_DECISION:
        # From the text, so a value that was given but invalid is not also reported as missing.
        given = (rows[name] != "").to_numpy(dtype=np.float64)
        missing = np.bincount(decision, weights=given, minlength=len(merged)) == 0
        problems.add(
            first_row[missing],
            f"column '{name}': empty in every row of the decision; it is required",
        )
    verified_codes = (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
    not_executed = (merged["executed"] == 0).to_numpy()
    verified = np.isin(merged["outcome"].to_numpy(), verified_codes)
    bad = np.flatnonzero(not_executed & verified)
    if len(bad):
        outcome_rows = np.isin(decision, bad) & np.isin(typed["outcome"], verified_codes)
        problems.add(
            np.flatnonzero(outcome_rows),
            "column 'outcome': an action that was not executed (executed=false) has no "
            "outcome; leave it empty or 'unknown'",
        )


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


def _locations(raws: Sequence[RawLog], rows: pd.DataFrame, wanted: Sequence[int]) -> dict[int, str]:
    files = rows["_file"].to_numpy()
    local = rows["_row"].to_numpy()
    found: dict[int, str] = {}
    for file_index in sorted({int(files[r]) for r in wanted}):
        mine = [r for r in wanted if files[r] == file_index]
        located = locate(raws[file_index], [int(local[r]) for r in mine])
        found.update({r: located[int(local[r])] for r in mine})
    return found


def _error_lines(raws: Sequence[RawLog], rows: pd.DataFrame, problems: _Problems) -> InputError:
    first, total = problems.first(_MAX_REPORTED)
    where = _locations(raws, rows, sorted({row for row, _ in first}))
    return InputError([f"{where[row]}: {message}" for row, message in first], total=total)


def _no_decisions(raws: Sequence[RawLog]) -> InputError:
    return InputError(
        [
            f"{raw.path}:{'row 0' if raw.format == 'parquet' else 1}: no decisions in this file"
            for raw in raws
        ]
    )


def load_decisions(paths: Sequence[Path], on_bad_rows: OnBadRows = "fail") -> Decisions:
    """Read, validate and merge decision logs.

    With ``on_bad_rows="fail"`` any bad row raises ``InputError`` listing ``FILE:LINE``
    and the field; with ``"skip"`` every decision touched by a bad row is left out,
    counted, and returned in ``bad_rows`` with its untouched source records.
    """
    raws = [read_log(p) for p in find_logs(paths)]
    rows = _concat(raws)
    if rows.empty:
        raise _no_decisions(raws)
    problems = _Problems()
    typed = _check_rows(rows, problems)
    timestamps, naive = _parse_timestamps(rows["timestamp"], problems)
    merged, decision = _merge(rows, typed, problems)
    _check_decisions(rows, merged, decision, typed, problems)
    merged["timestamp"] = (
        pd.Series(timestamps).groupby(decision).min().reindex(range(len(merged))).to_numpy()
    )
    summaries = _summaries(raws, rows["_file"].to_numpy(), decision)
    bad_rows: tuple[BadRow, ...] = ()
    skipped_decisions = skipped_rows = 0
    if problems:
        if on_bad_rows == "fail":
            raise _error_lines(raws, rows, problems)
        merged, bad_rows, skipped_decisions = _skip(raws, rows, decision, merged, problems)
        skipped_rows = len(bad_rows)
        if merged.empty:
            raise _error_lines(raws, rows, problems)
    frame = merged[list(SCHEMA_COLUMNS)].copy()
    frame["executed"] = frame["executed"].astype(bool)
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    frame = frame.sort_values(["timestamp", "decision_id"], kind="stable").reset_index(drop=True)
    report = IngestReport(
        files=summaries,
        rows=len(rows),
        decisions=len(frame),
        naive_timestamps=naive,
        skipped_decisions=skipped_decisions,
        skipped_rows=skipped_rows,
    )
    return Decisions(frame=frame, report=report, bad_rows=bad_rows)


def _skip(
    raws: Sequence[RawLog],
    rows: pd.DataFrame,
    decision: np.ndarray,
    merged: pd.DataFrame,
    problems: _Problems,
) -> tuple[pd.DataFrame, tuple[BadRow, ...], int]:
    """Drop every decision touched by a bad row; return the kept decisions and the bad rows."""
    by_row = problems.by_row()
    flagged = np.fromiter(by_row, dtype=np.int64)
    hit = np.zeros(len(merged), dtype=bool)
    hit[decision[flagged]] = True
    bad_indexes = np.flatnonzero(hit[decision]).tolist()
    where = _locations(raws, rows, bad_indexes)
    files = rows["_file"].to_numpy()
    local = rows["_row"].to_numpy()
    records: dict[int, dict[str, Any]] = {}
    for file_index in sorted({int(files[r]) for r in bad_indexes}):
        mine = [r for r in bad_indexes if files[r] == file_index]
        originals = original_rows(raws[file_index], [int(local[r]) for r in mine])
        records.update({r: originals[int(local[r])] for r in mine})
    bad_rows = tuple(
        BadRow(
            location=where[r],
            errors=tuple(by_row.get(r, ["another row of this decision is bad"])),
            record=records[r],
        )
        for r in bad_indexes
    )
    kept = merged[~hit].reset_index(drop=True)
    return kept, bad_rows, int(hit.sum())
