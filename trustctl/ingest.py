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
_OFFSET = r"(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"
_MAX_REPORTED = 20

#: Merged columns that are codes (int8, -1 = empty) and those that are text.
_CODED = ("mode", "human_decision", "executed", "outcome", "severity", "system_tier", "risk_tier")
_TEXT = ("action_class", "service", "agent_version", "reviewer", "rationale", "incident_id")

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

    Columns of ``frame``: ``decision_id`` (str), ``timestamp`` (UTC datetime, the
    earliest of the decision's rows), ``action_class`` (str), ``mode`` (ladder rank
    0-3), ``human_decision``/``outcome``/``severity`` (codes above, -1 empty),
    ``executed`` (bool), ``system_tier``/``risk_tier`` (int, 0 = not given),
    ``service``, ``agent_version``, ``reviewer``, ``rationale``, ``incident_id``
    (str, ``""`` = not given), ``ai_confidence`` (float, NaN = not given).
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
    """Errors found so far, keyed by global row index."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.messages: list[str] = []

    def add(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def by_row(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for rows, message in zip(self.rows, self.messages):
            for row in rows.tolist():
                found.setdefault(row, []).append(message)
        return found


def _concat(raws: Sequence[RawLog]) -> pd.DataFrame:
    frames = []
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


def _parse_timestamps(text: pd.Series, problems: _Problems) -> tuple[pd.Series, int]:
    """UTC datetimes (naive read as UTC) and the number of naive values."""
    empty = (text == "").to_numpy()
    problems.add(np.flatnonzero(empty), "column 'timestamp': empty; a timestamp is required")
    parsed = pd.to_datetime(text.where(~empty, None), format="ISO8601", utc=True, errors="coerce")
    bad = parsed.isna().to_numpy() & ~empty
    for row in np.flatnonzero(bad)[: _MAX_REPORTED + 1]:
        problems.add(
            np.array([row]),
            f"column 'timestamp': {text.iat[row]!r} is not an ISO-8601 timestamp",
        )
    if bad.sum() > _MAX_REPORTED + 1:
        rest = np.flatnonzero(bad)[_MAX_REPORTED + 1 :]
        problems.add(rest, "column 'timestamp': not an ISO-8601 timestamp")
    naive = ~text.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool) & ~empty & ~bad
    return parsed, int(naive.sum())


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
    out_of_range = given & ~((confidence >= 0) & (confidence <= 1)).to_numpy(dtype=bool)
    for row in np.flatnonzero(out_of_range)[:_MAX_REPORTED]:
        problems.add(
            np.array([row]),
            f"column 'ai_confidence': {confidence_text.iat[row]!r} is not a number in [0, 1]",
        )
    problems.add(
        np.flatnonzero(out_of_range)[_MAX_REPORTED:],
        "column 'ai_confidence': not a number in [0, 1]",
    )
    typed["ai_confidence"] = confidence.to_numpy(dtype=float)
    return typed


def _merge(
    rows: pd.DataFrame, typed: dict[str, Any], problems: _Problems
) -> tuple[pd.DataFrame, np.ndarray]:
    """Merge event rows field by field into one row per decision.

    Returns the merged frame (one row per decision code) and each row's decision code.
    """
    decision, ids = pd.factorize(rows["decision_id"])
    order = np.arange(len(rows), dtype=np.int64)
    keys = pd.DataFrame({"decision": decision, "row": order})
    columns: dict[str, tuple[np.ndarray, Any]] = {
        name: (np.asarray(typed[name]), None) for name in _CODED
    }
    for name in _TEXT:
        codes, uniques = pd.factorize(rows[name])
        columns[name] = (codes, uniques)
    unique_ids = len(ids) == len(rows)
    merged: dict[str, Any] = {"decision_id": np.asarray(ids, dtype=object)}
    for name, (codes, uniques) in columns.items():
        empty_code = -1
        if uniques is not None:
            blank = np.flatnonzero(np.asarray(uniques, dtype=object) == "")
            empty_code = int(blank[0]) if len(blank) else -2
            codes = np.where(codes == empty_code, -1, codes)
        if unique_ids:
            values = codes
        else:
            _conflicts(name, keys, codes, uniques, rows, problems)
            values = (
                pd.Series(codes).groupby(decision, sort=False).max().reindex(range(len(ids)))
            ).to_numpy()
        if uniques is not None:
            lookup = np.append(np.asarray(uniques, dtype=object), "")
            merged[name] = lookup[np.where(values < 0, len(lookup) - 1, values)]
        else:
            merged[name] = values.astype(np.int8)
    if unique_ids:
        merged["ai_confidence"] = typed["ai_confidence"]
        first_row = order
    else:
        confidence = pd.Series(typed["ai_confidence"])
        by_decision = confidence.groupby(decision, sort=False)
        spread = (by_decision.max() - by_decision.min()).reindex(range(len(ids))).to_numpy()
        conflicted = np.flatnonzero(spread > 0)
        if len(conflicted):
            rows_hit = np.flatnonzero(np.isin(decision, conflicted))
            problems.add(rows_hit, "column 'ai_confidence': rows of one decision disagree")
        merged["ai_confidence"] = by_decision.max().reindex(range(len(ids))).to_numpy()
        first_row = keys.groupby("decision", sort=False)["row"].min().to_numpy()
    merged["_first_row"] = first_row
    return pd.DataFrame(merged), decision


def _conflicts(
    name: str,
    keys: pd.DataFrame,
    codes: np.ndarray,
    uniques: Any,
    rows: pd.DataFrame,
    problems: _Problems,
) -> None:
    """Report rows that give a decision a second, different non-empty value."""
    given = codes >= 0
    pairs = keys[given].assign(value=codes[given])
    distinct = pairs.drop_duplicates(["decision", "value"])
    repeated = distinct["decision"].duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    first_value = distinct.drop_duplicates("decision").set_index("decision")["value"]
    for decision_code, row, value in distinct[repeated].itertuples(index=False):
        if len(problems.messages) > 10 * _MAX_REPORTED:
            problems.add(np.array([row]), f"column '{name}': conflicting values")
            continue
        first = first_value[decision_code]
        shown = (
            (lambda c: repr(str(uniques[c])))
            if uniques is not None
            else (lambda c: repr(str(rows[name].iat[int(np.flatnonzero(codes == c)[0])])))
        )
        problems.add(
            np.array([row]),
            f"column '{name}': {shown(value)} conflicts with {shown(first)} given earlier "
            f"for decision {rows['decision_id'].iat[row]!r}",
        )


def _check_decisions(
    merged: pd.DataFrame, decision: np.ndarray, typed: dict[str, Any], problems: _Problems
) -> None:
    """Rules that hold per decision once its rows are merged."""
    for name in ("action_class", "mode", "executed"):
        value = merged[name]
        missing = (value == "") if name in _TEXT else (value < 0)
        hit = np.flatnonzero(missing.to_numpy())
        problems.add(
            merged["_first_row"].to_numpy()[hit],
            f"column '{name}': empty in every row of the decision; it is required",
        )
    not_executed = (merged["executed"] == 0).to_numpy()
    verified = np.isin(
        merged["outcome"].to_numpy(), (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
    )
    bad = np.flatnonzero(not_executed & verified)
    if len(bad):
        outcome_rows = np.isin(decision, bad) & np.isin(
            typed["outcome"], (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
        )
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
    by_row = problems.by_row()
    ordered = sorted(by_row)
    shown = ordered[:_MAX_REPORTED]
    where = _locations(raws, rows, shown)
    messages = [f"{where[r]}: {m}" for r in shown for m in by_row[r]]
    total = sum(len(v) for v in by_row.values())
    return InputError(messages, total=total)


def load_decisions(paths: Sequence[Path], on_bad_rows: OnBadRows = "fail") -> Decisions:
    """Read, validate and merge decision logs.

    With ``on_bad_rows="fail"`` any bad row raises ``InputError`` listing ``FILE:LINE``
    and the field; with ``"skip"`` every decision touched by a bad row is left out,
    counted, and returned in ``bad_rows`` with its untouched source records.
    """
    raws = [read_log(p) for p in find_logs(paths)]
    rows = _concat(raws)
    if rows.empty:
        raise InputError([f"{', '.join(str(r.path) for r in raws)}: no decisions in the input"])
    problems = _Problems()
    typed = _check_rows(rows, problems)
    timestamps, naive = _parse_timestamps(rows["timestamp"], problems)
    merged, decision = _merge(rows, typed, problems)
    _check_decisions(merged, decision, typed, problems)
    merged["timestamp"] = (
        pd.Series(timestamps.to_numpy())
        .groupby(decision, sort=False)
        .min()
        .reindex(range(len(merged)))
    ).to_numpy()
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
    frame = merged.drop(columns=["_first_row"]).rename(columns={})
    frame["executed"] = frame["executed"].astype(bool)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
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
    hit_decisions = np.unique(decision[flagged][decision[flagged] >= 0])
    bad_mask = np.isin(decision, hit_decisions)
    bad_mask[flagged] = True
    bad_indexes = np.flatnonzero(bad_mask).tolist()
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
    kept = merged.drop(index=hit_decisions).reset_index(drop=True)
    return kept, bad_rows, len(hit_decisions)
