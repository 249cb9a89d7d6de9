"""``--low-memory``: the logs read one slice of their decisions at a time, in bounded memory.

A decision belongs to one slice, by a hash of its id, so all its event rows are read
together; each slice is read, validated and merged as the whole logs would be, turned
into evidence segments, and let go of. Segments add (``trustctl.segments``), so the
merged slices give exactly the policy of the logs read at once. Memory is that of one
slice, whatever the size of the logs; the price is one more pass over the files per slice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trustctl import segments
from trustctl.errors import InputError
from trustctl.filters import Filter, keep
from trustctl.ingest import (
    BadRow,
    IngestReport,
    OnBadRows,
    SourceSummary,
    find_logs,
    load_slice,
    summed_report,
)

__all__ = ["SLICE_BYTES", "Streamed", "slices_for", "stream_segments"]

#: Bytes of log read per slice. A CSV row is about 130 bytes, so about 600,000 rows:
#: the working set of one slice stays near 200 MB on top of the interpreter's 150 MB.
SLICE_BYTES = 80 << 20


@dataclass(frozen=True)
class Streamed:
    """The segments of every slice merged, with what was read."""

    segments: pd.DataFrame
    report: IngestReport
    bad_rows: tuple[BadRow, ...]


def slices_for(paths: Sequence[Path]) -> int:
    """How many slices keep each one near ``SLICE_BYTES`` (compressed files count 5×)."""
    size = 0
    for path in paths:
        weight = 5 if path.name.lower().endswith((".gz", ".parquet")) else 1
        size += path.stat().st_size * weight
    return max(1, -(-size // SLICE_BYTES))


def stream_segments(
    paths: Sequence[Path],
    on_bad_rows: OnBadRows = "fail",
    *,
    until: dt.datetime | None = None,
    slices: int | None = None,
    where: Sequence[Filter] = (),
) -> Streamed:
    """Read the logs slice by slice into merged segments.

    Only the decisions that meet every filter in ``where`` count.
    With ``on_bad_rows="fail"`` the first slice with a bad row raises, listing that
    slice's problems (in the order of the files and lines).
    """
    files = find_logs(paths)
    count = slices or slices_for(files)
    parts: list[pd.DataFrame] = []
    reports: list[IngestReport] = []
    bad_rows: list[BadRow] = []
    for index in range(count):
        decisions = load_slice(files, on_bad_rows, until=until, part=(index, count))
        if decisions is None:
            continue
        frame = decisions.frame
        parts.append(segments.from_decisions(frame[keep(frame, where)] if where else frame))
        reports.append(decisions.report)
        bad_rows.extend(decisions.bad_rows)
        del decisions  # one slice in memory at a time
    if not reports:
        raise InputError([f"{path}: no decisions in this file" for path in files])
    report = _combine(reports)
    if report.skipped_decisions and not report.decisions and not report.decisions_after_until:
        raise InputError(
            [f"every decision has a bad row ({report.skipped_decisions} skipped); nothing to read"]
        )
    bad_rows.sort(key=_where)
    return Streamed(segments.merge(parts), report, tuple(bad_rows))


def _where(bad: BadRow) -> tuple[str, int]:
    """A bad row's file and line (or Parquet row), for the order of the files."""
    path, _, line = bad.location.rpartition(":")
    number = line.removeprefix("row ")
    return (path, int(number) if number.isdigit() else 0)


def _combine(reports: Sequence[IngestReport]) -> IngestReport:
    """The slices' reports as one: every file is in each slice, with part of its decisions."""
    first = reports[0]
    files = tuple(
        SourceSummary(
            path=f.path,
            sha256=f.sha256,
            rows=f.rows,
            decisions=sum(r.files[i].decisions for r in reports),
        )
        for i, f in enumerate(first.files)
    )
    return summed_report(files, reports)
