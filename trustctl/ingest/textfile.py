"""The lines of a text log, each decoded alone, and CSV records with the line they start on."""

from __future__ import annotations

import contextlib
import csv
import gzip
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = [
    "Unreadable",
    "csv_lines",
    "csv_record_lines",
    "decoded",
    "is_gzip",
    "long_fields",
    "open_text",
]


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


class Unreadable(Exception):
    """A line of a text log that cannot be read: not UTF-8, or its compressed data is broken."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")


_BOM = b"\xef\xbb\xbf"


@contextlib.contextmanager
def open_text(path: Path) -> Iterator[Iterator[str]]:
    """The physical lines of a text log (``\\n`` ends one; the end kept), each decoded alone.

    A line that is not UTF-8, and compressed data that is corrupt or cut short, raise
    ``Unreadable`` with the line's number. A byte order mark (spreadsheet exports) is not
    part of the first line.
    """
    if is_gzip(path):
        with gzip.open(path, "rb") as packed:
            yield (text for _, text in decoded(path, packed))
    else:
        with path.open("rb") as plain:
            yield (text for _, text in decoded(path, plain))


def decoded(path: Path, handle: Iterable[bytes], first: int = 1) -> Iterator[tuple[int, str]]:
    """Lines of bytes decoded one by one, numbered from ``first``, as ``open_text`` says."""
    number = first - 1
    lines = iter(handle)
    while True:
        try:
            raw = next(lines, None)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise Unreadable(path, number + 1, f"not a readable gzip file: {exc}") from None
        if raw is None:
            return
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"byte {exc.start + 1} of the line is {raw[exc.start]:#04x}"
            raise Unreadable(path, number, f"not UTF-8 text: {where}") from None
        yield number, text


@contextlib.contextmanager
def long_fields() -> Iterator[None]:
    """Let the csv module read fields as long as Arrow does (its default stops at 128 KiB)."""
    previous = csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record, the header first, with the physical line it starts on.

    Only the error path uses this: a quoted value may span lines, so a row's
    line number cannot be derived from its index alone.
    """
    with long_fields(), open_text(path) as handle:
        reader = csv.reader(handle)
        start = 1
        for record in reader:
            if record:
                yield start, record
            start = reader.line_num + 1


def csv_record_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record after the header with the physical line it starts on."""
    records = csv_lines(path)
    next(records, None)
    yield from records
