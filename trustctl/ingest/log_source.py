"""What each log format gives the reader: its batches, the file's SHA-256, and how to word a
value that is not text."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from trustctl.errors import InputError
from trustctl.ingest import progress
from trustctl.schema import REQUIRED_COLUMNS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = [
    "BATCH_ROWS",
    "HashedFile",
    "NotText",
    "Source",
    "check_required",
    "hashed_apart",
    "typed_problem",
]

#: Rows per batch of a format read whole or by row groups (JSON Lines, Parquet).
BATCH_ROWS = 1 << 16


class NotText(Exception):
    """A column's values cannot be read as text (not UTF-8, or of a type without one)."""

    def __init__(self, column: str, kind: pa.DataType) -> None:
        super().__init__(column)
        self.column = column
        self.kind = kind


@dataclass(frozen=True)
class Source:
    """One file's batches as its format reads them, and how to word a value that is not text."""

    batches: Iterator[pa.RecordBatch]
    sha256: Callable[[], str]
    """The file's SHA-256 (hex), once every batch was read."""
    not_text: Callable[[NotText], str]
    lines: Callable[[], np.ndarray | None] = lambda: None
    """JSON Lines only, once every batch was read: the line of each row."""


def typed_problem(path: Path) -> Callable[[NotText], str]:
    return lambda e: f"{path}: column '{e.column}': values of type {e.kind} cannot be read as text"


def check_required(path: Path, present: Sequence[str], where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise InputError([f"{path}:{where}: missing required column '{c}'" for c in missing])


class HashedFile(io.RawIOBase):
    """A file whose bytes are hashed as they are read: its SHA-256 comes from the one read
    the parser makes, not from reading it again (``hashlib`` releases the GIL)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._file = path.open("rb", buffering=0)
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        size = self._file.readinto(buffer)
        if size:
            self._digest.update(memoryview(buffer)[:size])
            progress.read(size)
        return size or 0

    def close(self) -> None:
        self._file.close()
        super().close()

    def sha256(self) -> str:
        """The SHA-256 of every byte read so far (all of them once the parser is done)."""
        return self._digest.hexdigest()


def hashed_apart(path: Path) -> Callable[[], str]:
    """The file's SHA-256, computed on a thread of its own while the parser reads it (for
    formats that do not read every byte in order: Parquet reads only some columns)."""
    pool = ThreadPoolExecutor(max_workers=1)
    digest = pool.submit(_sha256, path)
    pool.shutdown(wait=False)  # its thread ends with its one task
    return digest.result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    block = bytearray(1 << 20)  # one buffer, read into again and again
    view = memoryview(block)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(block):
            digest.update(view[:size])
            progress.read(size)
    return digest.hexdigest()
