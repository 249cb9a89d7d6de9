"""Read, validate and merge or count decision logs: whole, one partition, or over time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from trustctl import segments, times
from trustctl.bands import NO_BANDS, Bands
from trustctl.ingest.arriving import arriving_rows
from trustctl.ingest.checks import Typed, check_decisions, check_rows, find_conflicts
from trustctl.ingest.columns import Rows, read_rows
from trustctl.ingest.decisions import BadRow, Counted, Decisions, IngestReport, OnBadRows
from trustctl.ingest.find import find_logs
from trustctl.ingest.grouping import Grouping, group_rows
from trustctl.ingest.merge import known_decisions, merged_columns, merged_frame, rows_after
from trustctl.ingest.parts import count_parts, parts_for, read_parts
from trustctl.ingest.problems import Problems
from trustctl.ingest.report import (
    error_lines,
    no_decisions,
    repeats,
    skipped_decisions,
    summaries,
)
from trustctl.ingest.timestamps import parse_timestamps
from trustctl.segment_counts import Merged

__all__ = ["count_decisions", "count_part", "load_decisions", "load_part", "load_timeline"]


def load_decisions(
    paths: Sequence[Path], on_bad_rows: OnBadRows = "fail", *, until: dt.datetime | None = None
) -> Decisions:
    """Read, validate and merge decision logs.

    With ``on_bad_rows="fail"`` any bad row raises ``InputError`` listing ``FILE:LINE``
    and the field (after a line naming the files that repeat another's decisions); with
    ``"skip"`` every decision touched by a bad row is left out, counted, and returned in
    ``bad_rows`` with its untouched source records. When every decision is bad, that is
    an error too.

    With ``until`` (naive read as UTC), the decisions are as known at that moment: rows
    recorded later are left out before merging, so a later outcome is not known and a
    decision whose rows (or required fields) all come later is not there. Every row is
    still validated, and the whole log must be consistent.
    """
    return _merged(*_whole(read_rows(paths), on_bad_rows), until)


def load_timeline(
    paths: Sequence[Path], on_bad_rows: OnBadRows = "fail", *, until: dt.datetime | None = None
) -> Decisions:
    """Like ``load_decisions``, keeping also the rows of every decision recorded over time
    (``Decisions.arriving``): the decisions as known at any earlier cut, without a read."""
    checked, skipped = _whole(read_rows(paths), on_bad_rows)
    kept = ~rows_after(checked.rows.times.instants, until)
    arriving = arriving_rows(checked.rows, checked.groups, checked.typed, kept, skipped.decisions)
    return replace(_merged(checked, skipped, until), arriving=arriving)


def count_decisions(
    paths: Sequence[Path],
    on_bad_rows: OnBadRows = "fail",
    *,
    until: dt.datetime | None = None,
    bands: Bands = NO_BANDS,
) -> Counted:
    """``load_decisions`` counted into evidence segments (split into ``bands``): the same
    decisions, checks and errors, merged and counted straight from the compact columns (no
    frame is made).

    Large logs are read in partitions of their decisions, counted on a pool of threads
    (``parts``); if a row has a problem they are read again at once, for its errors."""
    files = find_logs(paths)
    count = parts_for(files)
    if count > 1:
        counted = count_parts(read_parts(files, count), lambda rows: _clean(rows, until, bands))
        if counted is not None:
            return counted
    return _counted(*_to_count(*_whole(read_rows(files), on_bad_rows), until, bands))


def _clean(rows: Rows, until: dt.datetime | None, bands: Bands) -> Counted | None:
    """One partition's rows counted as ``count_part`` counts them, or ``None`` if any of
    them has a problem."""
    checked = _checked(rows)
    if checked.problems:
        return None
    merged = _to_count(checked, _skipped(checked), until, bands)
    del checked, rows  # let go of the rows before they are counted
    return _counted(*merged)


def load_part(rows: Rows, on_bad_rows: OnBadRows, until: dt.datetime | None) -> Decisions:
    """Like ``load_decisions``, for the rows of one partition of the decisions (``spill``).

    Every row of a decision is in its partition, so partitions read one after another give
    the decisions of the whole logs. A partition whose every decision is bad is not an
    error here (the others may be good).
    """
    checked, skipped = _part(rows, on_bad_rows)
    return _merged(checked, skipped, until)


def count_part(
    rows: Rows, on_bad_rows: OnBadRows, until: dt.datetime | None, bands: Bands = NO_BANDS
) -> Counted:
    """``load_part`` counted into evidence segments, as ``count_decisions`` counts."""
    return _counted(*_to_count(*_part(rows, on_bad_rows), until, bands))


@dataclass(frozen=True)
class _Checked:
    """Rows validated and grouped by decision, with every problem found."""

    rows: Rows
    typed: Typed
    groups: Grouping
    problems: Problems
    naive: int
    """Timestamps without a zone."""


@dataclass(frozen=True)
class _Skipped:
    """The decisions left out for a bad row, their rows, and where those rows are."""

    decisions: np.ndarray
    bad_rows: tuple[BadRow, ...]
    where: dict[int, str]


def _whole(rows: Rows, on_bad_rows: OnBadRows) -> tuple[_Checked, _Skipped]:
    """Whole logs checked: with ``"fail"`` any problem raises (after a line naming the files
    that repeat another's decisions); with ``"skip"``, only when every decision is bad."""
    if not rows.count:
        raise no_decisions(rows.logs)
    checked = _checked(rows)
    if checked.problems and on_bad_rows == "fail":
        raise error_lines(rows, checked.problems, first=repeats(rows, checked.groups))
    skipped = _skipped(checked)
    if checked.problems and skipped.decisions.all():
        raise error_lines(rows, checked.problems, skipped.where)
    return checked, skipped


def _part(rows: Rows, on_bad_rows: OnBadRows) -> tuple[_Checked, _Skipped]:
    """One partition checked: with ``"fail"`` any problem raises (listing this partition's)."""
    checked = _checked(rows)
    if checked.problems and on_bad_rows == "fail":
        raise error_lines(rows, checked.problems)
    return checked, _skipped(checked)


def _checked(rows: Rows) -> _Checked:
    problems = Problems()
    typed = check_rows(rows, problems)
    naive = parse_timestamps(rows.times, problems)
    groups = group_rows(rows.ids)
    find_conflicts(rows, groups, typed, problems)
    check_decisions(rows, groups, typed, problems)
    return _Checked(rows, typed, groups, problems, naive)


def _skipped(checked: _Checked) -> _Skipped:
    if not checked.problems:
        return _Skipped(np.zeros(checked.groups.count, dtype=bool), (), {})
    return _Skipped(*skipped_decisions(checked.rows, checked.groups, checked.problems))


def _cut(checked: _Checked, until: dt.datetime | None) -> tuple[np.ndarray, np.ndarray]:
    """The rows recorded after ``until``, and the decisions known before it."""
    after = rows_after(checked.rows.times.instants, until)
    return after, known_decisions(checked.rows, checked.groups, ~after)


def _merged(checked: _Checked, skipped: _Skipped, until: dt.datetime | None) -> Decisions:
    after, known = _cut(checked, until)
    frame = merged_frame(
        checked.rows, checked.groups, checked.typed, ~after, known & ~skipped.decisions
    )
    report = _report(checked, skipped, after, known, len(frame))
    return Decisions(frame=frame, report=report, bad_rows=skipped.bad_rows)


def _report(
    checked: _Checked, skipped: _Skipped, after: np.ndarray, known: np.ndarray, decisions: int
) -> IngestReport:
    return IngestReport(
        files=summaries(checked.rows, checked.groups),
        rows=checked.rows.count,
        decisions=decisions,
        naive_timestamps=checked.naive,
        skipped_decisions=int(skipped.decisions.sum()),
        skipped_rows=len(skipped.bad_rows),
        rows_after_until=int(after.sum()),
        decisions_after_until=int((~known & ~skipped.decisions).sum()),
    )


def _to_count(
    checked: _Checked, skipped: _Skipped, until: dt.datetime | None, bands: Bands
) -> tuple[Merged, IngestReport, tuple[BadRow, ...]]:
    """The decisions merged for ``_counted`` (each in its confidence band), with the report:
    the checked rows and their grouping are let go of when this returns, before the
    decisions are counted."""
    after, known = _cut(checked, until)
    merged = merged_columns(
        checked.rows, checked.groups, checked.typed, ~after, known & ~skipped.decisions, bands
    )
    report = _report(checked, skipped, after, known, len(merged.recorded))
    return merged, report, skipped.bad_rows


def _counted(merged: Merged, report: IngestReport, bad_rows: tuple[BadRow, ...]) -> Counted:
    recorded = merged.recorded
    return Counted(
        segments=segments.from_merged(merged),
        report=report,
        bad_rows=bad_rows,
        latest=times.at_micros(int(recorded.max())) if len(recorded) else None,
    )
