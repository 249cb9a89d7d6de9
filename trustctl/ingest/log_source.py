"""What each log format gives the reader: its batches, the file's SHA-256, and how to word a
value that is not text; and standard input as a log file (``-``)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeAlias

import numpy as np
import pyarrow as pa

from trustctl.errors import InputError, TrustctlError
from trustctl.ingest import progress
from trustctl.schema import REQUIRED_COLUMNS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    _ConcretePath = Path
else:
    _ConcretePath = type(Path())  # PosixPath or WindowsPath: Path itself cannot be subclassed

__all__ = [
    "BATCH_ROWS",
    "INPUT_FORMATS",
    "STDIN",
    "HashedFile",
    "NotText",
    "Source",
    "StdinLog",
    "Unit",
    "check_required",
    "hashed_apart",
    "stdin_spooled",
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


#: What a format gives to be read on a worker thread: a batch, or a function that parses
#: or decodes some (the worker compacts each as it comes).
Unit: TypeAlias = "pa.RecordBatch | Callable[[], Iterable[pa.RecordBatch]]"


@dataclass(frozen=True)
class Source:
    """One file's batches as its format reads them, and how to word a value that is not text."""

    batches: Iterator[Unit]
    """In file order; a function among them parses its batches on the worker thread."""
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


STDIN = "-"
"""The log path that means standard input."""

INPUT_FORMATS = ("csv", "jsonl")
"""The formats standard input can be read in (``--input-format``)."""


class StdinLog(_ConcretePath):
    """Standard input, copied to a file so that it is read as any log file is (as often as a
    command needs, and again for the line of an error), and named ``<stdin>`` wherever a path
    is shown: in errors (``<stdin>:LINE: …``) and in the policy's inputs."""

    def __str__(self) -> str:
        return "<stdin>"

    def __fspath__(self) -> str:
        return super().__str__()

    @property
    def input_format(self) -> str:
        """What ``--input-format`` said: ``csv`` or ``jsonl``."""
        return self.suffix.removeprefix(".")


@contextlib.contextmanager
def stdin_spooled(
    paths: Sequence[Path], input_format: str | None, stdin: Callable[[], BinaryIO]
) -> Iterator[list[Path]]:
    """``paths`` with ``-`` standing for the bytes of ``stdin()`` in ``input_format``.

    They are copied, as they come, to a file in a temporary directory that is removed when
    the block ends, however it ends (an error, Ctrl-C): standard input can be read once, and
    a command may read its logs more than once (``check``, ``--low-memory``, the line of a
    bad row). The copy's SHA-256 is that of the bytes read. Without ``-``, ``paths``.
    """
    given = [path for path in paths if str(path) == STDIN]
    if not given:
        if input_format is not None:
            raise TrustctlError("--input-format is for logs read from standard input: give - too")
        yield list(paths)
        return
    if len(given) > 1:
        raise TrustctlError("- (standard input) is given twice; it can be read only once")
    if input_format is None:
        raise TrustctlError(
            "- reads the logs from standard input: say their format with --input-format csv|jsonl"
        )
    stream = stdin()
    if stream.isatty():
        raise TrustctlError(
            "- reads the logs from standard input, which is a terminal: pipe them in "
            f"(… | trustctl COMMAND - --input-format {input_format})"
        )
    with tempfile.TemporaryDirectory(prefix="trustctl-stdin-") as directory:
        copy = StdinLog(directory, f"stdin.{input_format}")
        with copy.open("wb") as handle:
            shutil.copyfileobj(stream, handle, 1 << 20)
        yield [copy if str(path) == STDIN else path for path in paths]
