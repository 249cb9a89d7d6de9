"""One log file read batch by batch on worker threads into compact pieces, with its SHA-256."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.arrays import scalar, strings, to_numpy
from trustctl.errors import InputError
from trustctl.ingest.csv_log import csv_source
from trustctl.ingest.find import format_of
from trustctl.ingest.jsonl_log import jsonl_source
from trustctl.ingest.log_source import NotText, Unit
from trustctl.ingest.parquet_log import parquet_source
from trustctl.ingest.timestamps import arrow_times
from trustctl.schema import COLUMNS, PER_ROW_COLUMNS

__all__ = [
    "ENCODED",
    "WORKERS",
    "Piece",
    "RawLog",
    "narrow",
    "partition_of",
    "read_log",
    "read_shaped",
    "timestamp_text",
]

#: Columns kept as codes into their distinct values.
ENCODED = tuple(c for c in COLUMNS if c not in PER_ROW_COLUMNS)

#: Worker threads that encode batches while the next one is parsed (Arrow and numpy
#: release the GIL).
WORKERS = max(1, min(4, os.cpu_count() or 1))

_T = TypeVar("_T")
_U = TypeVar("_U")


@dataclass(frozen=True)
class RawLog:
    """One file that was read: where it is, what it holds, and how to find its rows again."""

    path: Path
    format: str
    sha256: str
    rows: int
    """Rows (records) in the file."""
    jsonl_lines: np.ndarray | None = None
    """JSON Lines only: the line number of each row."""
    origin: np.ndarray | None = None
    """With one partition of the decisions (``spill``): each row kept, as its row in the file."""

    @property
    def kept(self) -> int:
        """Rows read from the file: all of them, or those of the partition."""
        return self.rows if self.origin is None else len(self.origin)

    def in_file(self, rows: Sequence[int]) -> list[int]:
        """Rows kept, as rows of the file."""
        return list(rows) if self.origin is None else [int(self.origin[r]) for r in rows]


def _encoded(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch of any format in one shape: the schema columns present in the file, in
    ``COLUMNS`` order, with no nulls (missing values are ``""``): ``decision_id`` as
    ``string``; ``timestamp`` as ``string``, or as Parquet stored it if that is a
    timestamp type (nulls are missing times; ``timestamp_text`` spells it); every other
    column as a dictionary of ``string``."""
    arrays: list[pa.Array] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        if name == "timestamp" and pa.types.is_timestamp(kind):
            arrays.append(column)  # instants already: text is made only if needed
            continue
        try:
            if name in PER_ROW_COLUMNS:
                column = column.cast(pa.string())
                arrays.append(pc.fill_null(column, scalar("")) if column.null_count else column)
            else:
                arrays.append(_dictionary_of(column))
        except pa.ArrowException:
            raise NotText(name, kind) from None
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _dictionary_of(column: pa.Array) -> pa.DictionaryArray:
    """A column as a dictionary of strings, nulls as ``""``; typed values are spelled as
    Arrow casts them. Only the (few) values are converted, never a value per row."""
    if pa.types.is_null(column.type):
        column = pa.nulls(len(column), pa.string())
    if not pa.types.is_dictionary(column.type):
        try:
            column = pc.dictionary_encode(column)
        except pa.ArrowNotImplementedError:  # a type Arrow does not hash: as text first
            column = pc.dictionary_encode(column.cast(pa.string()))
    values = column.dictionary.cast(pa.string())
    if values.null_count:
        values = pc.fill_null(values, scalar(""))
    indices = column.indices
    if indices.null_count:  # a null row is one more value, ""
        indices = pc.fill_null(indices, scalar(len(values), indices.type))
        values = pa.concat_arrays([values, strings([""])])
    return pa.DictionaryArray.from_arrays(indices, values)


def timestamp_text(column: pa.Array, path: Path) -> pa.Array:
    """A timestamp-typed column as ISO-8601 text: ``Z`` when it has a zone, ``""`` if null.

    The stored values are UTC: a zone only says that they are, so it is dropped to format them.
    """
    try:
        aware = column.type.tz is not None
        if aware:
            column = column.cast(pa.timestamp(column.type.unit))
        text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
        text = pc.binary_join_element_wise(text, scalar("Z" if aware else ""), scalar("")).cast(
            pa.string()
        )
    except pa.ArrowException:
        raise InputError(
            [f"{path}: column 'timestamp': values of type {column.type} cannot be read as text"]
        ) from None
    return pc.fill_null(text, scalar(""))


def partition_of(ids: pa.Array, count: int) -> np.ndarray:
    """Each id's partition, ``0`` to ``count - 1``: equal ids, same partition.

    A hash of each id's last 8 bytes (where ids differ most), read straight from Arrow's
    buffers: no Python string is made.
    """
    ids = ids.cast(pa.large_string())
    offsets = np.frombuffer(ids.buffers()[1], np.int64, len(ids) + 1, ids.offset * 8)
    data_buffer = ids.buffers()[2]
    data = (
        np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(1, np.uint8)
    )
    starts, ends = offsets[:-1], offsets[1:]
    key = np.zeros(len(ids), dtype=np.uint64)
    for back in range(1, 9):
        at = ends - back
        inside = at >= starts
        byte = np.where(inside, data[np.where(inside, at, 0)], 0).astype(np.uint64)
        key = key * np.uint64(257) + byte
    key ^= key >> np.uint64(31)
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(29)
    found: np.ndarray = (key % np.uint64(count)).astype(np.int32)
    return found


@dataclass(frozen=True)
class Piece:
    """One batch of one file, compacted on a worker thread (see ``compact``)."""

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


def compact(path: Path, batch: pa.RecordBatch) -> Piece:
    """What is kept of an encoded batch (``_encoded``): about 30 bytes a row."""
    columns = dict(zip(batch.schema.names, batch.columns, strict=True))
    stamps = columns["timestamp"]
    read = arrow_times(stamps)
    text = None
    if read is None:
        text = timestamp_text(stamps, path) if pa.types.is_timestamp(stamps.type) else stamps
    texts = {
        name: (columns[name].dictionary, narrow(columns[name]))
        for name in ENCODED
        if name in columns
    }
    instants, naive = read if read is not None else (None, 0)
    return Piece(batch.num_rows, columns["decision_id"], instants, naive, text, texts)


def narrow(column: pa.DictionaryArray) -> np.ndarray:
    """A dictionary column's indices in the smallest type that holds them: mostly a byte."""
    size = len(column.dictionary)
    dtype = np.uint8 if size <= 1 << 8 else np.uint16 if size <= 1 << 16 else np.uint32
    narrow: np.ndarray = to_numpy(column.indices).astype(dtype)
    return narrow


def read_log(path: Path, keep: Callable[[Piece], None]) -> RawLog:
    """Read one decision-log file batch by batch into compact pieces, each given to ``keep``
    (see ``read_shaped``)."""
    return read_shaped(path, _same, keep)


def _same(piece: Piece) -> Piece:
    return piece


def read_shaped(path: Path, shape: Callable[[Piece], _T], keep: Callable[[_T], None]) -> RawLog:
    """Read one decision-log file batch by batch into compact pieces, each given to
    ``shape`` on the worker thread and what it gives to ``keep``.

    Each batch is parsed (CSV: blocks of records), encoded (``_encoded``) and compacted
    (``compact``) on worker threads while the next is read (Arrow and numpy release the
    GIL); the file's
    SHA-256 is its format's (``Source.sha256``). ``keep`` gets the shaped pieces on this
    thread, in file order, as soon as it can: the file is never held whole.
    """
    fmt = str(format_of(path))
    if fmt == "csv":
        source = csv_source(path)
    elif fmt == "jsonl":
        source = jsonl_source(path)
    else:
        source = parquet_source(path)
    rows = 0

    def pieces(unit: Unit) -> list[tuple[int, _T]]:
        parsed = unit() if callable(unit) else [unit]
        return [(batch.num_rows, shape(compact(path, _encoded(batch)))) for batch in parsed]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        try:
            for found in _in_order(pool, pieces, source.batches):
                for size, piece in found:
                    rows += size
                    keep(piece)
        except NotText as exc:
            raise InputError([source.not_text(exc)]) from None
        raw = RawLog(path, fmt, source.sha256(), rows, source.lines())
    # Arrow's allocator keeps what the parsed batches used for more batches to come;
    # there are none, and what comes next (numpy) does not use that memory.
    pa.default_memory_pool().release_unused()
    return raw


def _in_order(pool: Executor, function: Callable[[_T], _U], items: Iterable[_T]) -> Iterator[_U]:
    """``map(function, items)`` on the pool's threads, in order, a few items ahead at most.

    The items are produced on this thread (the next batch is parsed) while earlier ones are
    worked on; ``Executor.map`` would first produce them all, holding the whole file.
    """
    pending: deque[Future[_U]] = deque()
    for item in items:
        pending.append(pool.submit(function, item))
        if len(pending) > 2 * WORKERS:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
