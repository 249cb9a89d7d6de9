"""Rows spilled to disk by a hash of their decision id, then read back one partition at a time.

``--low-memory`` reads every file once: each compact piece is cut by partition and
appended to that partition's Arrow IPC stream in a temporary directory. A decision's rows
all land in one partition, so each partition is checked, merged and counted as a log of
its own, and partitions add up (segments do). The directory is removed on success,
failure and Ctrl-C.

Only what the checks and the counting read is spilled, as plain integers: each row's id,
its row in its file, its time (microseconds; the text only where Arrow did not read it)
and, per encoded column, a number into the values that column has over all the files.
Those values stay in memory (a piece's dictionary is numbered, never a row), so no
dictionary is written per batch and a partition reads back in one go, as whole columns.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from trustctl.ingest.columns import Rows, Text
from trustctl.ingest.read import ENCODED, Piece, RawLog, partition_of, read_shaped
from trustctl.ingest.timestamps import Times

__all__ = ["Spilled", "spilled"]

#: A time Arrow did not read (NaT, as ``Times`` has it): its text is spilled instead.
_NOT_READ = np.iinfo(np.int64).min
#: Bytes buffered per partition before a write: few system calls for many small batches.
_BUFFER = 1 << 18


class _Values:
    """The values of one encoded column seen so far, numbered as first seen; 0 is ``""``."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {"": 0}

    def numbered(self, dictionary: pa.Array) -> np.ndarray:
        """The number of each value of a piece's dictionary (new ones get the next)."""
        numbers = self.numbers
        found = (numbers.setdefault(value, len(numbers)) for value in dictionary.to_pylist())
        return np.fromiter(found, np.int64, len(dictionary))

    def width(self) -> np.dtype[Any]:
        """The smallest unsigned integer that holds every number."""
        size = len(self.numbers)
        return np.dtype(np.uint8 if size <= 1 << 8 else np.uint16 if size <= 1 << 16 else np.uint32)

    def text(self) -> Text:
        """The column over no rows: its values but ``""``, in number order."""
        return Text(np.zeros(0, np.int8), pa.array(list(self.numbers)[1:], pa.string()))


class _Stream:
    """One partition's Arrow IPC stream, written through a buffer."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.sink = pa.BufferedOutputStream(pa.OSFile(str(path), "wb"), _BUFFER)
        self.writer = ipc.new_stream(self.sink, schema)

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            self.sink.close()


class Spilled:
    """The partitions of logs read once; ``rows(index)`` reads one back."""

    def __init__(self, directory: Path, count: int) -> None:
        self.directory = directory
        self.count = count
        self.logs: list[RawLog] = []
        self.naive = 0
        """Times without a zone among those Arrow read while spilling (the rest are
        counted when each partition parses its own)."""
        self._values = {name: _Values() for name in ENCODED}
        self._texts: dict[str, Text] = {}
        self._kept: list[np.ndarray] = []
        """Per file, the rows each partition holds."""
        self._widths: dict[str, np.dtype[Any]] = {}
        self._files: list[list[Path]] = [[] for _ in range(count)]
        """Per partition, its streams in order (a new one each time codes need more bits)."""
        self._streams: list[_Stream] = []
        self._row = 0

    def read(self, path: Path) -> None:
        """Spill every row of one more file."""
        self._row = 0
        self._kept.append(np.zeros(self.count, np.int64))
        count = self.count
        self.logs.append(read_shaped(path, lambda piece: _cut(piece, count), self._keep))

    def close(self) -> None:
        """Close every stream; the values are then all known."""
        try:
            self._close_streams()
        finally:
            self._texts = {name: values.text() for name, values in self._values.items()}

    def _close_streams(self) -> None:
        streams, self._streams = self._streams, []
        for stream in streams:
            stream.close()

    def _keep(self, cut: _Cut) -> None:
        """Write a piece cut by partition (``_cut``): each partition's rows to its stream."""
        self.naive += cut.naive
        self._kept[-1] += cut.sizes
        codes = {}
        for name in ENCODED:
            if name in cut.texts:
                dictionary, indices = cut.texts[name]
                numbers = self._values[name].numbered(dictionary)
                codes[name] = numbers.astype(self._values[name].width())[indices]
            else:  # a column the file does not have is empty in every row
                codes[name] = np.zeros(len(cut.rows), np.uint8)
        self._widen()
        columns = [cut.ids, self._row + cut.rows, cut.instants, cut.time_text]
        columns += [codes[name].astype(self._widths[name], copy=False) for name in ENCODED]
        batch = pa.record_batch(columns, schema=self._schema())
        start = 0
        for stream, size in zip(self._streams, cut.sizes.tolist(), strict=True):
            if size:
                stream.writer.write_batch(batch.slice(start, size))
                start += size
        self._row += len(cut.rows)

    def _widen(self) -> None:
        """New streams if a column's numbers no longer fit the ones being written."""
        widths = {name: values.width() for name, values in self._values.items()}
        if self._streams and all(widths[n].itemsize <= self._widths[n].itemsize for n in widths):
            return
        self._close_streams()
        self._widths = widths
        for index, files in enumerate(self._files):
            files.append(self.directory / f"part-{index:05d}-{len(files)}.arrows")
            self._streams.append(_Stream(files[-1], self._schema()))

    def _schema(self) -> pa.Schema:
        return pa.schema(
            [
                ("decision_id", pa.string()),  # as ``read._encoded`` gives them
                ("row", pa.int64()),
                ("instant", pa.int64()),
                ("time_text", pa.string()),
                *[(name, pa.from_numpy_dtype(self._widths[name])) for name in ENCODED],
            ]
        )

    def rows(self, index: int) -> Rows:
        """The rows of partition ``index``, in file order, as ``read_rows`` gives a log's."""
        tables = []
        for path in self._files[index]:  # mapped: no allocator keeps what they held
            with pa.memory_map(str(path)) as source:
                tables.append(ipc.open_stream(source).read_all())
        if not sum(table.num_rows for table in tables):
            return _no_rows(self.logs, self._texts)

        def numbers(name: str) -> np.ndarray:
            """A column of integers whole (the widest of its streams' types)."""
            found = [table.column(name).to_numpy() for table in tables]
            return found[0] if len(found) == 1 else np.concatenate(found)

        instants = numbers("instant").view("datetime64[us]")
        unread = np.flatnonzero(instants.view(np.int64) == _NOT_READ)
        text = pa.chunked_array(
            [chunk for table in tables for chunk in table.column("time_text").chunks], pa.string()
        ).drop_null()
        ends = np.cumsum([int(rows[index]) for rows in self._kept])
        origins = np.split(numbers("row"), ends[:-1])
        logs = tuple(
            replace(raw, origin=origin) for raw, origin in zip(self.logs, origins, strict=True)
        )
        texts = {name: _coded(numbers(name), self._texts[name]) for name in ENCODED}
        ids = _joined([chunk for table in tables for chunk in table.column("decision_id").chunks])
        return Rows(
            logs=logs,
            starts=np.concatenate([[0], ends]).astype(np.int64),
            ids=ids,
            times=Times(instants, 0, unread, text),
            texts=texts,
        )


@dataclass(frozen=True)
class _Cut:
    """A piece with its rows in partition order, each partition's in row order."""

    sizes: np.ndarray
    """Rows in each partition."""
    rows: np.ndarray
    """Each row's place in the piece."""
    ids: pa.Array
    instants: np.ndarray
    """Microseconds, ``_NOT_READ`` where Arrow did not read the time."""
    time_text: pa.Array
    """The time's text where Arrow did not read it, else null."""
    naive: int
    texts: dict[str, tuple[pa.Array, np.ndarray]]
    """As ``Piece.texts``, the indices in this order."""


def _cut(piece: Piece, count: int) -> _Cut:
    """A piece cut by partition, on the worker thread that compacted it."""
    part = partition_of(piece.ids, count)
    if count <= 1 << 16:  # a stable sort of small integers is a radix sort
        part = part.astype(np.uint8 if count <= 1 << 8 else np.uint16)
    order = np.argsort(part, kind="stable")
    taken = pa.array(order)
    if piece.instants is not None:
        instants = piece.instants.view(np.int64)[order]
        text = pa.nulls(piece.rows, pa.string())
    else:
        instants = np.full(piece.rows, _NOT_READ, np.int64)
        text = pc.take(piece.time_text, taken)
    return _Cut(
        sizes=np.bincount(part, minlength=count),
        rows=order,
        ids=piece.ids.take(taken),
        instants=instants,
        time_text=text,
        naive=piece.naive,
        texts={name: (values, codes[order]) for name, (values, codes) in piece.texts.items()},
    )


def _coded(numbers: np.ndarray, column: Text) -> Text:
    """A partition's numbers of one column as ``Text``: its code into the values, -1 for
    ``""`` (in the smallest type, as ``read_rows`` makes them)."""
    size = len(column.values)
    dtype = np.int8 if size < 1 << 7 else np.int16 if size < 1 << 15 else np.int32
    codes = numbers.astype(dtype)
    codes -= 1
    return Text(codes, column.values)


def _joined(ids: list[pa.Array]) -> pa.Array:
    """The ids' chunks as one array: ``large_string`` if ``string`` cannot hold them."""
    if sum(chunk.nbytes for chunk in ids) >= 1 << 31:
        ids = [chunk.cast(pa.large_string()) for chunk in ids]
    joined = pa.concat_arrays(ids)
    ids.clear()
    return joined


def _no_rows(logs: Sequence[RawLog], texts: dict[str, Text]) -> Rows:
    """A partition that no row landed in."""
    empty = np.zeros(0, np.int64)
    return Rows(
        logs=tuple(replace(raw, origin=empty) for raw in logs),
        starts=np.zeros(len(logs) + 1, np.int64),
        ids=pa.array([], pa.string()),
        times=Times(empty.view("datetime64[us]"), 0, empty, pa.chunked_array([], pa.string())),
        texts=texts,
    )


@contextlib.contextmanager
def spilled(paths: Sequence[Path], count: int) -> Iterator[Spilled]:
    """Every file read once into ``count`` partitions, in a directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="trustctl-spill-") as directory:
        spill = Spilled(Path(directory), count)
        try:
            for path in paths:
                spill.read(path)
        finally:
            spill.close()
        yield spill
