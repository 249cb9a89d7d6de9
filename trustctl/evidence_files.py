"""Evidence files: the segments of some logs on disk, and many of them merged back.

``trustctl aggregate`` writes one Parquet file of segments (``trustctl.segments``)
with what was read in its metadata: the source files and their hashes, the ingest
counts, and the ``--as-of`` it was cut at. ``generate --evidence`` reads any number
of them (one per partition, say, computed anywhere) and merges them, which gives
the segments, and so the policy, that the logs read together give.

A Parquet file of segments without trustctl's metadata (a warehouse's output of the
``trustctl sql`` query) is accepted too; it is its own source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from trustctl import __version__, segments, times
from trustctl.arrays import from_numpy, scalar, strings
from trustctl.bands import NO_BANDS, Bands
from trustctl.errors import InputError, first_line
from trustctl.files import atomic_writer
from trustctl.ingest import IngestReport, SourceSummary, summed_report
from trustctl.ingest.find import is_directory, once, walk
from trustctl.schema import MODE_SPELLINGS
from trustctl.segments import Segments
from trustctl.times import at_micros, in_range

__all__ = ["FORMAT", "Aggregated", "find_evidence", "read", "write"]

FORMAT = "trustctl-evidence/v1"
_METADATA_KEY = b"trustctl.evidence"


@dataclass(frozen=True)
class Aggregated:
    """Segments merged from one or more evidence files, with what they were read from."""

    segments: Segments
    report: IngestReport
    until: dt.datetime | None
    """The ``--as-of`` the logs were cut at when aggregated (the same for every file)."""
    latest: dt.datetime | None
    """When the last thing the evidence knows of was recorded."""


def write(
    path: Path,
    segs: Segments,
    report: IngestReport,
    until: dt.datetime | None,
    bands: Bands = NO_BANDS,
) -> None:
    """Write segments and what they were read from as one Parquet file, atomically; split
    into confidence ``bands``, with a ``confidence`` column (else none, as before bands)."""
    import pyarrow.parquet as pq

    meta = {
        "format": FORMAT,
        "generator": f"trustctl {__version__}",
        "until": None if until is None else until.isoformat(),
        "report": {**asdict(report), "files": [asdict(f) for f in report.files]},
    }
    table = segments.to_arrow(segs, banded=bool(bands))
    table = table.replace_schema_metadata({_METADATA_KEY: json.dumps(meta, sort_keys=True)})
    with atomic_writer(path) as handle:
        # No timestamps or library versions in the file: the same logs give the same bytes.
        pq.write_table(table, handle, compression="zstd", write_statistics=True)


def read(paths: Sequence[Path], bands: Bands = NO_BANDS) -> Aggregated:
    """Read and merge evidence files (directories: every ``*.parquet`` in them).

    With confidence ``bands``, every file must be split into exactly those (its
    ``confidence`` column names them); without, a file's bands are added together.
    """
    files = find_evidence(paths)
    parts: list[Segments] = []
    reports: list[IngestReport] = []
    untils: set[str | None] = set()
    for path in files:
        table, meta = _read_one(path)
        parts.append(_segments_of(path, _banded(path, table, bands)))
        if meta is None:
            reports.append(_own_report(path, parts[-1]))
            untils.add(None)
        else:
            reports.append(_report(path, meta))
            untils.add(_until(path, meta))
    if len(untils) > 1:
        raise InputError(
            [
                "the evidence files were aggregated with different --as-of values "
                f"({', '.join(sorted(str(u) for u in untils))}); "
                "aggregate them all with the same one"
            ]
        )
    merged = segments.merge(parts)
    until_text = untils.pop()
    times = np.concatenate([merged["last_recorded_at"], merged["critical_at"]])
    latest = int(times.max()) if len(times) else segments.NO_TIME
    return Aggregated(
        segments=merged,
        report=_combine(reports),
        until=None if until_text is None else dt.datetime.fromisoformat(until_text),
        latest=None if latest == segments.NO_TIME else at_micros(latest),
    )


def find_evidence(paths: Sequence[Path]) -> list[Path]:
    """Evidence files given and in directories given (every ``*.parquet``), sorted, once each."""
    found: list[Path] = []
    for path in paths:
        if is_directory(path):
            inside = [p for p in walk(path) if p.name.lower().endswith(".parquet")]
            if not inside:
                raise InputError([f"{path}: no evidence files (*.parquet) in it"])
            found.extend(inside)
        else:
            found.append(path)
    if not found:
        raise InputError(["no evidence files given"])
    return once(sorted(found, key=str))


def _read_one(path: Path) -> tuple[pa.Table, dict[str, Any] | None]:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"]) from None
    twice = [name for name in segments.COLUMNS if schema.names.count(name) > 1]
    if twice:
        raise InputError([f"{path}: column '{name}' appears twice" for name in twice])
    missing = [
        name
        for name in segments.COLUMNS
        if name not in schema.names and name not in (*segments.SAMPLING, "confidence")
    ]
    if missing:
        raise InputError(
            [f"{path}: not an evidence file: no column '{name}'" for name in missing[:5]]
            + ["(evidence files come from `trustctl aggregate` or the `trustctl sql` query)"]
        )
    raw = (schema.metadata or {}).get(_METADATA_KEY)
    meta: dict[str, Any] | None = None
    if raw is not None:
        try:
            meta = json.loads(raw)
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise InputError([f"{path}: evidence metadata is not {FORMAT}; aggregate it again"])
    present = [name for name in segments.COLUMNS if name in schema.names]
    try:
        # Not pq.read_table: its datasets import pandas (trustctl.arrays).
        with pq.ParquetFile(path) as parquet:
            table = parquet.read(columns=present).select(present)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"]) from None
    return _with_sampling(table), meta


def _with_sampling(table: pa.Table) -> pa.Table:
    """A file written before ``review_sampled`` says nothing of sampling: every review in it
    is of unknown sampling, none is known to be outside the audit sample."""
    if all(name in table.column_names for name in segments.SAMPLING):
        return table
    reviewed = table.column("reviewed")
    for name in segments.SAMPLING:
        if name not in table.column_names:
            column = (
                reviewed
                if name == "sampling_unknown"
                else from_numpy(np.zeros(len(table), np.int64))
            )
            table = table.append_column(name, column.cast(pa.int64()))
    return table.select([name for name in segments.COLUMNS if name in table.column_names])


def _banded(path: Path, table: pa.Table, bands: Bands) -> pa.Table:
    """The file's table split into ``bands``: its ``confidence`` column checked against
    them, or dropped without them (its bands add up to the groups not split)."""
    import pyarrow.compute as pc

    has = "confidence" in table.column_names
    if not bands:
        return table.drop_columns(["confidence"]) if has else table
    wanted = f"the rules' confidence_bands {list(bands.cuts)} ({', '.join(bands.labels)})"
    if not has:
        raise InputError(
            [
                f"{path}: has no 'confidence' column: it was made without confidence bands, "
                f"and {wanted} split every group; make it again with these rules "
                "(trustctl aggregate --rules, or trustctl sql --rules)"
            ]
        )
    column = table.column("confidence")
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        raise InputError([f"{path}: column 'confidence': {column.type} values are not text"])
    if column.null_count:
        _refuse(path, "confidence", column, pc.is_null(column), "is not valid")
    foreign = bands.foreign(pc.unique(column).to_pylist())
    if foreign:
        raise InputError(
            [
                f"{path}: its confidence bands ({', '.join(foreign)}) are not {wanted}: it was "
                "made with other cuts; make it again with these rules"
            ]
        )
    return table.set_column(
        table.schema.get_field_index("confidence"), "confidence", column.cast(pa.string())
    )


def _segments_of(path: Path, table: pa.Table) -> Segments:
    """The file's segments, every column checked: a bad value names the file, row and column."""
    import pyarrow.compute as pc

    for field in segments.SCHEMA:
        column = table.column(field.name)
        try:
            column = column.cast(field.type)
        except (pa.ArrowException, ValueError):
            raise InputError(
                [
                    f"{path}: column '{field.name}': {column.type} values cannot be read as "
                    f"{field.type}"
                ]
            ) from None
        # The checks below, and the segments, read the column as its schema types it.
        table = table.set_column(table.schema.get_field_index(field.name), field.name, column)
        nullable = field.name.startswith(("first_", "last_", "critical_")) and field.name not in (
            "critical_failures",
        )
        bad = None if nullable else pc.is_null(column)
        if field.name in _RANGES:  # Kleene logic: a null is bad too, not unknown
            low, high = _scalars(np.array(_RANGES[field.name], np.int64), field.type)
            outside = pc.or_(pc.less(column, low), pc.greater(column, high))
            bad = pc.or_kleene(pc.is_null(column), outside)
        elif pa.types.is_timestamp(field.type) or field.name == "day":
            first, last = _when(field.type)
            outside = pc.or_(pc.less(column, first), pc.greater(column, last))  # null: not bad
            bad = outside if bad is None else pc.or_kleene(bad, outside)
        if field.name == "mode":
            bad = pc.is_null(pc.index_in(column, value_set=strings(list(MODE_SPELLINGS))))
        if bad is not None and pc.any(bad).as_py():
            _refuse(path, field.name, column, bad, "is not valid")
    # A segment with decisions has its first and last; one with critical failures, its latest.
    for count, names in (
        ("decisions", ("first_at", "first_id", "last_at", "last_id", "last_recorded_at")),
        ("critical_failures", ("critical_at", "critical_decided_at", "critical_id")),
    ):
        counted = pc.greater(table.column(count), scalar(0))
        for name in names:
            column = table.column(name)
            missing = pc.and_(counted, pc.is_null(column))
            if pc.any(missing).as_py():
                _refuse(path, name, column, missing, f"is missing where {count} > 0")
    _check_counts_add_up(path, table)
    return segments.from_arrow(table)


_RANGES = {
    "system_tier": (0, 4),
    "risk_tier": (0, 3),
    **{name: (0, 2**53) for name in (*segments.COUNTS, "critical_failures")},
}
"""Values a column may hold: tiers 1 to 4 and 1 to 3 (0: not given); counts no log exceeds."""


def _when(kind: pa.DataType) -> tuple[pa.Scalar, pa.Scalar]:
    """The first and last instant (or day, for ``date32``) evidence may hold
    (``times.RANGE_TEXT``), as scalars of ``kind``."""
    bounds = np.array([times.micros(times.EARLIEST), times.micros(times.LATEST)], np.int64)
    if pa.types.is_date32(kind):
        return _scalars((bounds // times.MICROS_PER_DAY).astype(np.int32), kind)
    return _scalars(bounds.view("datetime64[us]"), kind)


def _scalars(values: np.ndarray, kind: pa.DataType) -> tuple[pa.Scalar, pa.Scalar]:
    """Two numbers as scalars of ``kind`` (not ``pa.scalar``: ``trustctl.arrays``)."""
    both = from_numpy(values).cast(kind)
    return both[0], both[1]


_AT_MOST = (
    (("agreed",), "reviewed"),
    (("unsampled", "sampling_unknown"), "reviewed"),
    (("unsampled_agreed",), "unsampled"),
    (("succeeded",), "verified"),
    (("verified", "unverified"), "executed"),
)
"""Counts that are parts of another, decision by decision: more than the whole is no evidence
(and no bound can be computed on it)."""


def _check_counts_add_up(path: Path, table: pa.Table) -> None:
    import pyarrow.compute as pc

    for parts, whole in _AT_MOST:
        columns = [table.column(name).cast(pa.int64()) for name in parts]
        try:
            total = columns[0] if len(columns) == 1 else pc.add_checked(*columns)
        except pa.ArrowInvalid:  # an overflow: counts no log could give
            total = pa.array([2**63 - 1] * table.num_rows, pa.int64())
        bad = pc.greater(total, table.column(whole).cast(pa.int64()))
        if pc.any(bad).as_py():
            _refuse(path, parts[0], table.column(parts[0]), bad, f"is more than {whole} allows")


def _refuse(path: Path, name: str, column: Any, bad: Any, why: str) -> None:
    row = int(np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), bool))[0])
    raise InputError([f"{path}:row {row}: column '{name}': {_shown(column[row])} {why}"])


def _shown(scalar: Any) -> str:
    """A value as the message shows it; a time Python cannot hold as its raw number."""
    try:
        value = scalar.as_py()
    except (OverflowError, ValueError):
        return f"{scalar.cast(pa.int64()).as_py()} (microseconds since 1970)"
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else repr(value)


def _report(path: Path, meta: dict[str, Any]) -> IngestReport:
    try:
        data = dict(meta["report"])
        data["files"] = tuple(SourceSummary(**f) for f in data["files"])
        report = IngestReport(**data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError([f"{path}: evidence metadata is incomplete: {exc}"]) from None
    counts = [getattr(report, name) for name in _REPORT_COUNTS]
    counts += [n for f in report.files for n in (f.rows, f.decisions)]
    texts = [t for f in report.files for t in (f.path, f.sha256)]
    if not all(type(n) is int and n >= 0 for n in counts) or not all(
        isinstance(t, str) for t in texts
    ):
        raise InputError([f"{path}: evidence metadata is not valid; aggregate it again"])
    return report


_REPORT_COUNTS = (
    "rows",
    "decisions",
    "naive_timestamps",
    "skipped_decisions",
    "skipped_rows",
    "rows_after_until",
    "decisions_after_until",
)


def _until(path: Path, meta: dict[str, Any]) -> str | None:
    """The metadata's ``until``: ``None`` or an ISO-8601 time with a zone."""
    value = meta.get("until")
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or not in_range(moment):
        raise InputError([f"{path}: evidence metadata 'until' is not valid: {value!r}"])
    return str(value)


def _own_report(path: Path, segs: Segments) -> IngestReport:
    """A file without trustctl's metadata (a warehouse's output) is its own source."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    decisions = int(segs["decisions"].sum())
    return IngestReport(
        files=(SourceSummary(str(path), digest, len(segs), decisions),),
        rows=decisions,
        decisions=decisions,
        naive_timestamps=0,
        skipped_decisions=0,
        skipped_rows=0,
    )


def _combine(reports: Sequence[IngestReport]) -> IngestReport:
    """One report for logs read apart, as if read together (sources sorted by path)."""
    files = [f for r in reports for f in r.files]
    by_content: dict[str, list[str]] = {}
    for f in files:
        by_content.setdefault(f.sha256, []).append(f.path)
    twice = sorted(sorted(paths) for paths in by_content.values() if len(paths) > 1)
    if twice:
        raise InputError(
            [
                f"{' and '.join(paths)}: the same log (same sha256) is in more than one "
                "evidence file; its decisions would count twice"
                for paths in twice
            ]
        )
    return summed_report(sorted(files, key=lambda f: f.path), reports)
