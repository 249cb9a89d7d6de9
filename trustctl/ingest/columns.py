"""Every row of every file as compact columns: ids, times, and a small code per value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.arrays import scalar, strings, to_numpy
from trustctl.ingest.find import find_logs
from trustctl.ingest.read import ENCODED, Piece, RawLog, read_log
from trustctl.ingest.timestamps import Times

__all__ = ["CODED", "TEXT", "TIERS", "Built", "Rows", "Text", "offsets", "read_rows"]

#: Merged columns that are codes (int8, -1 = empty; tiers 0 = empty) and those that are text.
CODED = (
    "mode",
    "human_decision",
    "executed",
    "outcome",
    "severity",
    "system_tier",
    "risk_tier",
    "review_sampled",
)
TIERS = ("system_tier", "risk_tier")
TEXT = ("action_class", "service", "agent_version", "reviewer", "rationale", "incident_id")


@dataclass(frozen=True)
class Text:
    """One encoded column of every row: each row's code into ``values``, -1 when empty."""

    codes: np.ndarray
    values: pa.Array
    """The distinct non-empty texts (``string``)."""

    def given(self) -> np.ndarray:
        """Rows with a value (valid or not)."""
        given: np.ndarray = self.codes >= 0
        return given

    def text(self, row: int) -> str:
        code = int(self.codes[row])
        return "" if code < 0 else str(self.values[code].as_py())

    def rows_of(self, index: int) -> np.ndarray:
        """The rows holding value ``index``."""
        return np.flatnonzero(self.codes == index)


@dataclass
class Rows:
    """Every row of every file, compacted; rows are numbered on across files, in order.

    The per-row columns are together about as large as the frame made of them: ``merge``
    lets go of each after its last use (the reason this is not frozen).
    """

    logs: tuple[RawLog, ...]
    starts: np.ndarray
    """Each file's first row, then the number of rows."""
    ids: pa.Array
    """Each row's ``decision_id`` (``string``, or ``large_string`` if that is too small)."""
    times: Times
    texts: dict[str, Text]
    """Every encoded column (``ENCODED``); a column a file lacks is empty in its rows."""

    @property
    def count(self) -> int:
        return int(self.starts[-1])

    def file_of(self, rows: np.ndarray) -> np.ndarray:
        """The index (into ``logs``) of each row's file."""
        found: np.ndarray = np.searchsorted(self.starts, rows, side="right") - 1
        return found


def read_rows(paths: Sequence[Path]) -> Rows:
    """Every row of the logs, read once."""
    built = Built()
    logs = tuple(read_log(path, built.keep) for path in find_logs(paths))
    return built.rows(logs)


class _Blocks:
    """A column built by appending pieces, held in blocks of a million rows.

    Few, large allocations, each given back whole: the many small pieces (and their
    memory) are let go of as soon as they are copied.
    """

    _SIZE = 1 << 20

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.blocks: list[np.ndarray] = []
        self.used = self._SIZE  # the last block is full: there is none yet

    def append(self, values: np.ndarray) -> None:
        if values.dtype.itemsize > self.dtype.itemsize:  # wider codes than so far: rare
            self.dtype = values.dtype
            self.blocks = [block.astype(self.dtype) for block in self.blocks]
        while len(values):
            if self.used == self._SIZE:
                self.blocks.append(np.empty(self._SIZE, dtype=self.dtype))
                self.used = 0
            part = values[: self._SIZE - self.used]
            self.blocks[-1][self.used : self.used + len(part)] = part
            self.used += len(part)
            values = values[len(part) :]

    def array(self) -> np.ndarray:
        """Every value appended, in one array; each block is let go of once copied (the
        blocks and the array are never both whole in memory)."""
        blocks, self.blocks = self.blocks, []
        if blocks:
            blocks[-1] = blocks[-1][: self.used]
        whole = np.empty(sum(len(block) for block in blocks), dtype=self.dtype)
        at = 0
        while blocks:
            block = blocks.pop(0)
            whole[at : at + len(block)] = block
            at += len(block)
            del block
        return whole


class _Encoder:
    """One encoded column, gathered batch by batch: each batch's dictionary and indices."""

    def __init__(self) -> None:
        self.dictionaries: list[pa.Array] = []
        self.sizes: list[int] = []
        self.indices = _Blocks(np.dtype(np.uint8))

    def add(self, dictionary: pa.Array, indices: np.ndarray) -> None:
        self.dictionaries.append(dictionary)
        self.sizes.append(len(indices))
        self.indices.append(indices)

    def column(self) -> Text:
        """Codes over all rows: the batches' dictionaries (a few values each) are encoded
        together, which gives each of their entries its code; the rows look theirs up (a
        row's entry: its batch's first one plus its index), in whole-array steps however
        many batches there are."""
        if self.dictionaries:
            encoded = pc.dictionary_encode(pa.concat_arrays(self.dictionaries))
            distinct, entries = encoded.dictionary, to_numpy(encoded.indices)
        else:
            distinct, entries = strings([]), np.zeros(0, dtype=np.int32)
        # "" becomes -1; the codes of the other values close up behind it.
        position = pc.index(distinct, scalar("")).as_py()
        numbers = np.arange(len(distinct), dtype=np.int64)
        if position >= 0:
            numbers -= numbers > position
            numbers[position] = -1
            distinct = distinct.filter(pc.not_equal(distinct, scalar("")))
        size = len(distinct)
        dtype = np.int8 if size < 1 << 7 else np.int16 if size < 1 << 15 else np.int32
        code_of = numbers[entries].astype(dtype)
        lengths = np.array([len(d) for d in self.dictionaries], dtype=np.int64)
        firsts = np.cumsum(lengths) - lengths
        kind = np.int32 if len(entries) < 1 << 31 else np.int64
        entry = np.repeat(firsts.astype(kind), self.sizes)
        entry += self.indices.array()
        self.dictionaries.clear()
        found: np.ndarray = code_of[entry]
        return Text(found, distinct)


_EMPTY = strings([""])


def _joined(texts: list[pa.Array]) -> pa.Array:
    """Text arrays as one (a take from many chunks would join them first, at every take):
    ``string`` while it fits in its 2 GiB, ``large_string`` beyond. The list is emptied:
    each array is let go of once copied, so that they and the whole are never both whole
    in memory."""
    size = sum(int(offsets(text)[-1] - offsets(text)[0]) for text in texts)
    kind = pa.string() if size < 1 << 31 else pa.large_string()
    if not texts or any(text.null_count for text in texts):
        joined = pa.concat_arrays([text.cast(kind) for text in texts]) if texts else None
        texts.clear()
        return strings([]).cast(kind) if joined is None else joined
    rows = sum(len(text) for text in texts)
    ends = np.empty(rows + 1, dtype=np.int32 if kind == pa.string() else np.int64)
    data = np.empty(size, dtype=np.uint8)
    ends[0] = 0
    row = start = 0
    while texts:
        text = texts.pop(0)
        bounds = offsets(text).astype(np.int64)
        length = int(bounds[-1] - bounds[0])
        ends[row + 1 : row + len(text) + 1] = bounds[1:] - bounds[0] + start
        chars = text.buffers()[2]
        if length:
            data[start : start + length] = np.frombuffer(chars, np.uint8, length, int(bounds[0]))
        row += len(text)
        start += length
        del text, chars
    return pa.Array.from_buffers(kind, rows, [None, pa.py_buffer(ends), pa.py_buffer(data)])


class Built:
    """The rows of every file, kept piece by piece in file order as compact columns."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: list[pa.Array] = []
        self.instants = _Blocks(np.dtype("datetime64[us]"))
        self.naive = 0
        self.unread: list[np.ndarray] = []
        self.unread_text: list[pa.Array] = []
        self.texts = {name: _Encoder() for name in ENCODED}

    def keep(self, piece: Piece) -> None:
        self.ids.append(piece.ids)
        if piece.instants is not None:
            self.instants.append(piece.instants)
            self.naive += piece.naive
        else:
            self.instants.append(np.full(piece.rows, np.datetime64("NaT"), "datetime64[us]"))
            self.unread.append(np.arange(self.count, self.count + piece.rows, dtype=np.int64))
            self.unread_text.append(piece.time_text)
        for name, encoder in self.texts.items():
            if name in piece.texts:
                encoder.add(*piece.texts[name])
            else:  # a column the file does not have is empty in every row
                encoder.add(_EMPTY, np.zeros(piece.rows, dtype=np.uint8))
        self.count += piece.rows

    def rows(self, logs: tuple[RawLog, ...], kept: Sequence[int] | None = None) -> Rows:
        """Every row kept, as whole columns (the pieces are let go of); ``kept``: how many
        rows of each file were kept, if not ``RawLog.kept`` (one partition of them)."""
        times = Times(
            self.instants.array(),
            self.naive,
            np.concatenate(self.unread) if self.unread else np.zeros(0, dtype=np.int64),
            pa.chunked_array(self.unread_text, type=pa.string()),
        )
        sizes = [raw.kept for raw in logs] if kept is None else kept
        starts = np.cumsum([0, *sizes], dtype=np.int64)
        ids = _joined(self.ids)
        texts = {name: encoder.column() for name, encoder in self.texts.items()}
        return Rows(logs, starts, ids, times, texts)


def offsets(text: pa.Array) -> np.ndarray:
    """Where each value of a ``string`` or ``large_string`` array starts, then its end."""
    if not len(text):
        return np.zeros(1, dtype=np.int64)
    dtype = np.dtype(np.int64 if pa.types.is_large_string(text.type) else np.int32)
    buffer = text.buffers()[1]
    return np.frombuffer(buffer, dtype, len(text) + 1, text.offset * dtype.itemsize)
