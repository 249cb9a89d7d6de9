"""Read, validate and merge decision logs: the whole logs, or one slice of their decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from trustctl.ingest.arriving import arriving_rows
from trustctl.ingest.checks import Typed, check_decisions, check_rows, find_conflicts
from trustctl.ingest.columns import Rows, read_rows
from trustctl.ingest.decisions import BadRow, Decisions, IngestReport, OnBadRows
from trustctl.ingest.grouping import Grouping, group_rows
from trustctl.ingest.merge import known_decisions, merged_frame, rows_after
from trustctl.ingest.problems import Problems
from trustctl.ingest.report import (
    error_lines,
    no_decisions,
    repeats,
    skipped_decisions,
    summaries,
)
from trustctl.ingest.timestamps import parse_timestamps

__all__ = ["load_decisions", "load_slice", "load_timeline"]


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
    return _merged(*_whole(paths, on_bad_rows), until)


def load_timeline(
    paths: Sequence[Path], on_bad_rows: OnBadRows = "fail", *, until: dt.datetime | None = None
) -> Decisions:
    """Like ``load_decisions``, keeping also the rows of every decision recorded over time
    (``Decisions.arriving``): the decisions as known at any earlier cut, without a read."""
    checked, skipped = _whole(paths, on_bad_rows)
    kept = ~rows_after(checked.rows.times.instants, until)
    arriving = arriving_rows(checked.rows, checked.groups, checked.typed, kept, skipped.decisions)
    return replace(_merged(checked, skipped, until), arriving=arriving)


def _whole(paths: Sequence[Path], on_bad_rows: OnBadRows) -> tuple[_Checked, _Skipped]:
    """Every row of the logs checked, and the decisions left out (or the error)."""
    rows = read_rows(paths)
    if not rows.count:
        raise no_decisions(rows.logs)
    checked = _checked(rows)
    if checked.problems and on_bad_rows == "fail":
        raise error_lines(rows, checked.problems, first=repeats(rows, checked.groups))
    skipped = _skipped(checked)
    if checked.problems and skipped.decisions.all():
        raise error_lines(rows, checked.problems, skipped.where)
    return checked, skipped


def load_slice(
    paths: Sequence[Path],
    on_bad_rows: OnBadRows,
    *,
    until: dt.datetime | None,
    part: tuple[int, int],
) -> Decisions | None:
    """Like ``load_decisions``, for the decisions of one slice (``read.in_part``) only.

    Every row of a decision is in its slice, so slices read one after another give the
    decisions of the whole logs. ``None`` when the slice has no row; a slice whose every
    decision is bad is not an error here (the others may be good).
    """
    rows = read_rows(paths, part)
    if not rows.count:
        return None
    checked = _checked(rows)
    if checked.problems and on_bad_rows == "fail":
        raise error_lines(rows, checked.problems)
    return _merged(checked, _skipped(checked), until)


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


def _merged(checked: _Checked, skipped: _Skipped, until: dt.datetime | None) -> Decisions:
    rows, groups = checked.rows, checked.groups
    after = rows_after(rows.times.instants, until)
    known = known_decisions(rows, groups, ~after)
    files = summaries(rows, groups)
    frame = merged_frame(rows, groups, checked.typed, ~after, known & ~skipped.decisions)
    report = IngestReport(
        files=files,
        rows=rows.count,
        decisions=len(frame),
        naive_timestamps=checked.naive,
        skipped_decisions=int(skipped.decisions.sum()),
        skipped_rows=len(skipped.bad_rows),
        rows_after_until=int(after.sum()),
        decisions_after_until=int((~known & ~skipped.decisions).sum()),
    )
    return Decisions(frame=frame, report=report, bad_rows=skipped.bad_rows)
