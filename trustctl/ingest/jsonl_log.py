"""JSON Lines logs: each line one JSON object, its values as text.

The file is read once, in blocks of whole lines, each parsed by Arrow's JSON reader on its
threads. A block Arrow cannot read exactly as the rules below do (a blank line, a value
that is an array, a key given twice, text that is not UTF-8, an integer too large for a
float...) is read line by line in Python instead, which also words the error with its line.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.errors import InputError
from trustctl.ingest import log_source
from trustctl.ingest.log_source import HashedFile, Source, check_required, typed_problem
from trustctl.ingest.textfile import Unreadable, decoded, is_gzip
from trustctl.schema import COLUMNS, PER_ROW_COLUMNS

__all__ = ["exact_int", "jsonl_source"]


class _DuplicateKey(ValueError):
    """A JSON object gives one key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice: which of the two values was meant is unknown."""
    record: dict[str, Any] = {}
    for key, value in pairs:
        if key in record:
            raise _DuplicateKey(key)
        record[key] = value
    return record


def _json_text(value: Any) -> str | None:
    """A JSON scalar as text (floats are spelled by Arrow later); None for arrays and objects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)
    return None


class _Integer(str):
    """A JSON integer kept as its digits: never converted, so no length is too long."""


def exact_int(digits: str) -> int | str:
    """A JSON integer as a number, or as its digits where Python refuses to convert them."""
    return int(digits) if len(digits) <= _INT_DIGITS else digits


_INT_DIGITS = 4000


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB]", re.ASCII)


def _json_record(path: Path, number: int, text: str) -> Any:
    """One JSON Lines record; a line that is not one JSON text of UTF-8 raises ``InputError``.

    A lone surrogate (``"\\ud800"``) is text no file can hold: refused wherever it is.
    """
    try:
        record = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_Integer)
    except json.JSONDecodeError as exc:
        raise InputError([f"{path}:{number}: not valid JSON: {exc.msg}"]) from None
    except _DuplicateKey as exc:
        raise InputError([f"{path}:{number}: key {exc.key!r} appears twice"]) from None
    except RecursionError:
        raise InputError([f"{path}:{number}: not valid JSON: nested too deeply"]) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(record, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                [f"{path}:{number}: a lone surrogate (\\ud800-\\udfff) is not text"]
            ) from None
    return record


def _spell_floats(column: list[str], floats: list[tuple[int, float]]) -> None:
    """Spell JSON floats as Arrow casts a Parquet float column: ``2.0`` is ``"2"`` in both.

    So one number reads the same from either format (a tier of ``2.0`` is tier 2).
    """
    if floats:
        spelled = pa.array([v for _, v in floats], pa.float64()).cast(pa.string()).to_pylist()
        for (index, _), text in zip(floats, spelled, strict=True):
            column[index] = text


#: Bytes of JSON Lines read and parsed at once (whole lines): large enough for Arrow's
#: threads, small enough to hold.
JSON_BLOCK = 32 << 20
#: Integers a float holds exactly: beyond, Arrow's reading of a number may not be its digits.
_EXACT = 2**53
#: Brackets beyond one object a line that Arrow is given at most: its parser recurses, and
#: nesting a hundred thousand deep crashes it. Flat records have none.
_NESTING = 4096


@dataclass(frozen=True)
class _Columns:
    """The schema columns of a block, and the file's line of each row."""

    table: pa.Table
    lines: np.ndarray


def _python_block(path: Path, first: int, block: bytes) -> _Columns:
    """A block read line by line (``first`` is its first line's number), as the rules say."""
    columns: dict[str, list[str]] = {c: [] for c in COLUMNS}
    floats: dict[str, list[tuple[int, float]]] = {c: [] for c in COLUMNS}
    seen: set[str] = set()
    lines: list[int] = []
    try:
        for number, text in decoded(path, io.BytesIO(block), first):
            if not text.strip():
                continue
            record = _json_record(path, number, text)
            if not isinstance(record, dict):
                raise InputError([f"{path}:{number}: expected a JSON object"])
            for column in COLUMNS:
                value = record.get(column)
                if isinstance(value, float):
                    floats[column].append((len(lines), value))
                    value = None  # a placeholder, spelled by Arrow below
                spelled = _json_text(value)
                if spelled is None:
                    raise InputError(
                        [
                            f"{path}:{number}: column '{column}': expected a string, "
                            "number, boolean or null"
                        ]
                    )
                columns[column].append(spelled)
            seen.update(record)
            lines.append(number)
    except Unreadable as exc:
        raise InputError([str(exc)]) from None
    present = [c for c in COLUMNS if c in seen]
    for column in present:
        _spell_floats(columns[column], floats[column])
    table = pa.table({c: pa.array(columns[c], type=pa.large_string()) for c in present})
    return _Columns(table, np.array(lines, dtype=np.int64))


@functools.cache
def _as_text() -> Any:
    """Arrow reads text that looks like a time as a time: the per-row columns stay text
    (another column read as times is refused below, and read line by line)."""
    import pyarrow.json as pajson

    schema = pa.schema([(name, pa.string()) for name in PER_ROW_COLUMNS])
    return pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")


def _arrow_block(first: int, block: bytes) -> _Columns | None:
    """A block as Arrow reads it, where that is certainly what ``_python_block`` reads: one
    object per line, every schema value a string, number, boolean or null, all UTF-8."""
    import pyarrow.json as pajson

    lines = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
    if block.count(b"[") + block.count(b"{") - lines > _NESTING:
        return None
    try:
        table = pajson.read_json(pa.py_buffer(block), parse_options=_as_text())
        table.validate(full=True)  # text that is not UTF-8 is an error there
    except (pa.ArrowException, UnicodeDecodeError):
        return None
    if table.num_rows != lines:  # a blank line, or an object over several lines
        return None
    columns = {}
    for name in COLUMNS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        kind = column.type
        if pa.types.is_floating(kind):
            largest = pc.max(pc.abs(column)).as_py()
            if largest is not None and largest >= _EXACT:
                return None
        elif not (
            _is_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_boolean(kind)
            or pa.types.is_null(kind)
        ):
            return None
        columns[name] = column
    return _Columns(pa.table(columns), np.arange(first, first + lines, dtype=np.int64))


def _blocks(handle: io.BufferedIOBase) -> Iterator[bytes]:
    """The file in blocks of whole lines (the last may lack its end)."""
    while block := handle.read(JSON_BLOCK):
        if not block.endswith(b"\n"):
            block += handle.readline()
        yield block


def _reading(path: Path) -> tuple[HashedFile, io.BufferedIOBase]:
    hashed = HashedFile(path)
    plain: io.BufferedIOBase = io.BufferedReader(hashed, 1 << 20)
    if is_gzip(path):
        plain = gzip.GzipFile(fileobj=plain, mode="rb")
    return hashed, plain


def jsonl_source(path: Path) -> Source:
    hashed, handle = _reading(path)
    lines: list[np.ndarray] = []

    def batches() -> Iterator[pa.RecordBatch]:
        seen: set[str] = set()
        first = 1

        def line() -> int:
            return first

        with handle:
            for block in _read_blocks(path, handle, line):
                found = _arrow_block(first, block) or _python_block(path, first, block)
                first += block.count(b"\n")
                if found.table.num_rows:
                    seen.update(found.table.column_names)
                    lines.append(found.lines)
                    yield from _full(found.table).to_batches(log_source.BATCH_ROWS)
        if lines:  # a column is there when any record gives it
            check_required(path, [c for c in COLUMNS if c in seen], str(lines[0][0]))

    def all_lines() -> np.ndarray:
        return np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)

    return Source(batches(), hashed.sha256, typed_problem(path), all_lines)


def _read_blocks(path: Path, handle: io.BufferedIOBase, line: Callable[[], int]) -> Iterator[bytes]:
    try:
        yield from _blocks(handle)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError([f"{path}:{line()}: not a readable gzip file: {exc}"]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from None


def _full(table: pa.Table) -> pa.Table:
    """Every schema column as text; those the block lacks are empty (another may have them)."""
    columns = {}
    for name in COLUMNS:
        if name not in table.column_names:
            columns[name] = pa.nulls(table.num_rows, pa.string())
        else:
            column = table.column(name)
            columns[name] = column if _is_string(column.type) else _spelled(column)
    return pa.table(columns)


def _is_string(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _spelled(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Numbers and booleans spelled as the line-by-line reader spells them."""
    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    if pa.types.is_boolean(column.type):
        return pc.if_else(column, "true", "false")
    return column.cast(pa.string())
