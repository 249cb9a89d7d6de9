"""What each file held, the rows left out, and errors as ``FILE:LINE: message``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from trustctl.errors import InputError
from trustctl.ingest.columns import Rows
from trustctl.ingest.decisions import BadRow, SourceSummary
from trustctl.ingest.grouping import Grouping
from trustctl.ingest.lines import locate, original_rows
from trustctl.ingest.problems import MAX_REPORTED, Problems
from trustctl.ingest.read import RawLog
from trustctl.repeats import repeated_logs

__all__ = ["error_lines", "no_decisions", "repeats", "skipped_decisions", "summaries"]

_T = TypeVar("_T")


def summaries(rows: Rows, groups: Grouping) -> tuple[SourceSummary, ...]:
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
    rows: Rows, wanted: Sequence[int], read: Callable[[RawLog, list[int]], dict[int, _T]]
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


def error_lines(
    rows: Rows,
    problems: Problems,
    where: dict[int, str] | None = None,
    first: Sequence[str] = (),
) -> InputError:
    """The first problems as ``FILE:LINE: message``; ``where`` has the rows already located.

    The lines ``first`` (a summary) come before them.
    """
    shown, total = problems.first(MAX_REPORTED)
    if where is None:
        where = _read_back(rows, sorted({row for row, _ in shown}), locate)
    lines = [*first, *(f"{where[row]}: {message}" for row, message in shown)]
    return InputError(lines, total=total + len(first))


def repeats(rows: Rows, groups: Grouping) -> list[str]:
    """The files whose decision ids are mostly another file's (``repeats.repeated_logs``)."""
    if groups.unique or len(rows.logs) < 2:
        return []
    every_row = np.arange(rows.count)
    paths = [str(raw.path) for raw in rows.logs]
    return repeated_logs(paths, rows.file_of(every_row), groups.code)


def no_decisions(logs: Sequence[RawLog]) -> InputError:
    return InputError(
        [
            f"{raw.path}:{'row 0' if raw.format == 'parquet' else 1}: no decisions in this file"
            for raw in logs
        ]
    )


def skipped_decisions(
    rows: Rows, groups: Grouping, problems: Problems
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
