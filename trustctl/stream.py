"""``--low-memory``: the logs read once, then counted one slice of their decisions at a time.

A decision belongs to one slice, by a hash of its id, so all its event rows are spilled
to the same file (``trustctl.ingest.spill``); each slice is read back, validated, merged
and counted as the whole logs would be, and let go of. Segments add
(``trustctl.segments``), so the merged slices give exactly the policy of the logs read
at once. Memory is that of one slice, whatever the size of the logs; the price is
writing the compact rows to a temporary directory and reading them back once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from trustctl import segments
from trustctl.bands import NO_BANDS, Bands
from trustctl.errors import InputError
from trustctl.filters import Filter, keep
from trustctl.ingest import (
    BadRow,
    Counted,
    Decisions,
    IngestReport,
    OnBadRows,
    count_part,
    find_logs,
    load_part,
    parts_report,
    spilled,
)
from trustctl.segments import Segments

__all__ = ["SLICE_BYTES", "Streamed", "slices_for", "stream_segments"]

#: Bytes of log read per slice. A CSV row is about 130 bytes, so about 600,000 rows:
#: the working set of one slice stays below that of reading (``read_log``).
SLICE_BYTES = 80 << 20
#: Slices whose segments are merged into one as soon as there are that many.
_FOLDED = 4
#: What a Parquet row counts for: as much as a CSV row, whatever its compression.
_ROW_BYTES = 128


@dataclass(frozen=True)
class Streamed:
    """The segments of every slice merged, with what was read."""

    segments: Segments
    report: IngestReport
    bad_rows: tuple[BadRow, ...]


def slices_for(paths: Sequence[Path]) -> int:
    """How many slices keep each one near ``SLICE_BYTES`` of CSV (Parquet counts its rows,
    gzip 5× its bytes)."""
    size = 0
    for path in paths:
        name = path.name.lower()
        rows = _parquet_rows(path) if name.endswith(".parquet") else None
        if rows is not None:
            size += rows * _ROW_BYTES
        else:
            size += path.stat().st_size * (5 if name.endswith((".gz", ".parquet")) else 1)
    return max(1, -(-size // SLICE_BYTES))


def _parquet_rows(path: Path) -> int | None:
    """The rows a Parquet file's footer says it has (``None`` if it cannot be read: reading
    it will say why)."""
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as file:
            return int(file.metadata.num_rows)
    except (OSError, ValueError, pa.ArrowException):
        return None


def stream_segments(
    paths: Sequence[Path],
    on_bad_rows: OnBadRows = "fail",
    *,
    until: dt.datetime | None = None,
    slices: int | None = None,
    where: Sequence[Filter] = (),
    bands: Bands = NO_BANDS,
) -> Streamed:
    """Read the logs slice by slice into merged segments (split into ``bands``).

    Only the decisions that meet every filter in ``where`` count.
    With ``on_bad_rows="fail"`` the first slice with a bad row raises, listing that
    slice's problems (in the order of the files and lines).
    """
    files = find_logs(paths)
    parts: list[Segments] = []
    reports: list[IngestReport] = []
    bad_rows: list[BadRow] = []
    with _returning_memory(), spilled(files, slices or slices_for(files)) as spill:
        for index in range(spill.count):
            rows = spill.rows(index)
            if not rows.count:
                continue
            read: Decisions | Counted
            if where:  # filters are judged on each merged decision
                read = load_part(rows, on_bad_rows, until)
                parts.append(segments.from_decisions(read.frame[keep(read.frame, where)], bands))
            else:
                read = count_part(rows, on_bad_rows, until, bands)
                parts.append(read.segments)
            reports.append(read.report)
            bad_rows.extend(read.bad_rows)
            del rows, read  # one slice in memory at a time
            if len(parts) == _FOLDED:  # segments add: a few at a time, not one per slice
                parts = [segments.merge(parts)]
        naive = spill.naive
    if not reports:
        raise InputError([f"{path}: no decisions in this file" for path in files])
    combined = parts_report(reports)
    report = replace(combined, naive_timestamps=combined.naive_timestamps + naive)
    if report.skipped_decisions and not report.decisions and not report.decisions_after_until:
        raise InputError(
            [f"every decision has a bad row ({report.skipped_decisions} skipped); nothing to read"]
        )
    bad_rows.sort(key=_where)
    return Streamed(segments.merge(parts), report, tuple(bad_rows))


@contextlib.contextmanager
def _returning_memory() -> Iterator[None]:
    """Arrow's jemalloc pool while streaming, where Arrow has one (and none was asked for):
    it gives freed blocks back sooner than mimalloc, the default, so the blocks parsed
    ahead take less room (10M Parquet rows: about 80 MB less at the peak of reading)."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:
        pool = None
    if pool is None or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        yield
        return
    before = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _where(bad: BadRow) -> tuple[str, int]:
    """A bad row's file and line (or Parquet row), for the order of the files."""
    path, _, line = bad.location.rpartition(":")
    number = line.removeprefix("row ")
    return (path, int(number) if number.isdigit() else 0)
