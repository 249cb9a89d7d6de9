"""Rows spilled to disk by a hash of their decision id, then read back one partition at a time.

``--low-memory`` reads every file once: each compact piece is cut by partition and
appended to that partition's Arrow IPC stream in a temporary directory. A decision's rows
all land in one partition, so each partition is checked, merged and counted as a log of
its own, and partitions add up (segments do). The directory is removed on success,
failure and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from trustctl.ingest.columns import Built, Rows
from trustctl.ingest.read import ENCODED, Piece, RawLog, narrow, partition_of, read_log

__all__ = ["Spilled", "spilled"]

_CODES = pa.dictionary(pa.int32(), pa.string())
_SCHEMA = pa.schema(
    [
        ("file", pa.int32()),
        ("row", pa.int64()),
        ("decision_id", pa.string()),
        ("instant", pa.int64()),
        ("time_text", pa.string()),
        *[(name, _CODES) for name in ENCODED],
    ]
)
_EMPTY = pa.array([""], pa.string())


class Spilled:
    """The partitions of logs read once; ``rows(index)`` reads one back."""

    def __init__(self, directory: Path, count: int) -> None:
        self.paths = [directory / f"part-{index:05d}.arrows" for index in range(count)]
        self._writers = [ipc.new_stream(str(path), _SCHEMA) for path in self.paths]
        self.logs: list[RawLog] = []
        self.naive = 0
        """Times without a zone among those Arrow read while spilling (the rest are
        counted when each partition parses its own)."""
        self._row = 0

    def read(self, path: Path) -> None:
        """Spill every row of one more file."""
        self._row = 0
        self.logs.append(read_log(path, self._keep))

    def close(self) -> None:
        for writer in self._writers:
            writer.close()

    def _keep(self, piece: Piece) -> None:
        part = partition_of(piece.ids, len(self.paths))
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(len(self.paths) + 1))
        taken = pa.array(order)
        if piece.instants is not None:
            instant = pa.array(piece.instants.view(np.int64)[order], pa.int64())
            text = pa.nulls(piece.rows, pa.string())
            self.naive += piece.naive
        else:
            instant = pa.nulls(piece.rows, pa.int64())
            text = pa.array(piece.time_text, pa.string()).take(taken)
        codes = []
        for name in ENCODED:
            values, indices = piece.texts.get(name, (_EMPTY, np.zeros(piece.rows, np.uint8)))
            codes.append(pa.DictionaryArray.from_arrays(indices[order].astype(np.int32), values))
        batch = pa.record_batch(
            [
                pa.array(np.full(piece.rows, len(self.logs), np.int32)),
                pa.array(self._row + order, pa.int64()),
                piece.ids.take(taken),
                instant,
                text,
                *codes,
            ],
            schema=_SCHEMA,
        )
        for index, (start, end) in enumerate(itertools.pairwise(bounds)):
            if end > start:
                self._writers[index].write_batch(batch.slice(start, end - start))
        self._row += piece.rows

    def rows(self, index: int) -> Rows:
        """The rows of partition ``index``, in file order, as ``read_rows`` gives a log's."""
        built = Built()
        origins: list[list[np.ndarray]] = [[] for _ in self.logs]
        with pa.OSFile(str(self.paths[index])) as source:
            for batch in ipc.open_stream(source):
                origins[batch.column("file")[0].as_py()].append(batch.column("row").to_numpy())
                built.keep(_piece(batch))
        logs = tuple(
            replace(raw, origin=np.concatenate(found) if found else np.zeros(0, np.int64))
            for raw, found in zip(self.logs, origins, strict=True)
        )
        return built.rows(logs)


def _piece(batch: pa.RecordBatch) -> Piece:
    instant = batch.column("instant")
    read = not instant.null_count
    texts = {}
    for name in ENCODED:
        column = batch.column(name)
        texts[name] = (column.dictionary, narrow(column))
    return Piece(
        rows=batch.num_rows,
        ids=batch.column("decision_id"),
        instants=instant.to_numpy().view("datetime64[us]") if read else None,
        naive=0,
        time_text=None if read else batch.column("time_text"),
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
