"""Finding decision-log files and reading them into compact columns, with a way back to lines.

A file is read batch by batch and never held whole as text: each batch is handed to the
caller's function, which keeps what it needs in its own compact form. Columns with few
distinct values arrive dictionary-encoded, so their values are checked once, not per row.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import json
import os
import re
import stat
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.errors import InputError, first_line

__all__ = [
    "PER_ROW_COLUMNS",
    "REQUIRED_COLUMNS",
    "SCHEMA_COLUMNS",
    "RawLog",
    "csv_record_lines",
    "find_logs",
    "hive_values",
    "in_part",
    "is_directory",
    "locate",
    "once",
    "original_rows",
    "read_log",
    "timestamp_text",
    "walk",
]

#: Every column of decision-log schema v1; other columns are ignored.
SCHEMA_COLUMNS: tuple[str, ...] = (
    "decision_id",
    "timestamp",
    "action_class",
    "mode",
    "human_decision",
    "executed",
    "outcome",
    "severity",
    "service",
    "system_tier",
    "risk_tier",
    "agent_version",
    "ai_confidence",
    "reviewer",
    "rationale",
    "incident_id",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("decision_id", "timestamp", "action_class", "mode", "executed")
#: Columns with (nearly) a value of their own in every row; the others are dictionary-encoded.
PER_ROW_COLUMNS: tuple[str, ...] = ("decision_id", "timestamp")

#: Bytes of CSV text per batch: large enough that per-batch work is noise, small enough
#: that the blocks Arrow reads ahead (up to 32) are cheap to hold. A record longer than
#: this cannot be read.
_CSV_BLOCK = 2 << 20
_PARQUET_BATCH = 1 << 16

#: Worker threads that encode batches while the next one is parsed (Arrow and numpy
#: release the GIL); the file's SHA-256 is computed on one more.
_WORKERS = max(1, min(4, os.cpu_count() or 1))

_T = TypeVar("_T")
_U = TypeVar("_U")

_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".csv.gz", ".jsonl.gz", ".ndjson.gz")


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix.removesuffix(".gz").lstrip(".").replace("ndjson", "jsonl")
    return None


def find_logs(arguments: Sequence[Path]) -> list[Path]:
    """Expand files and directories into the sorted list of decision-log files.

    A directory is searched recursively; a symlink to a file in it is read, a symlink to a
    directory is not followed (as ``find`` and ``grep -r`` do). A file reached by more than
    one path (named twice, a hard link, a symlink) is read once, under the first of its
    paths in sorted order. A directory that cannot be listed, and a file with a log's name
    that is not a regular file (a FIFO, a device, a dangling link), are errors: a log is
    never skipped in silence.
    """
    found: list[Path] = []
    for argument in arguments:
        if is_directory(argument):
            inside = walk(argument)
            if not inside:
                raise InputError(
                    [f"{argument}: no decision logs (*.csv, *.jsonl, *.parquet) in it"]
                )
            found.extend(inside)
        elif _format_of(argument) is None:
            raise InputError(
                [f"{argument}: unknown log format; use .csv, .jsonl, .ndjson, .parquet or .gz"]
            )
        else:
            found.append(argument)
    if not found:
        raise InputError(["no decision logs given"])
    return once(sorted(found, key=str))


def is_directory(path: Path) -> bool:
    """Whether ``path`` is a directory; ``False`` for a regular file; refused otherwise."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError([f"{path}: no such file or directory"]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    if stat.S_ISDIR(mode):
        return True
    if not stat.S_ISREG(mode):
        raise InputError([f"{path}: not a regular file (a FIFO, device or socket is not read)"])
    return False


def walk(top: Path) -> list[Path]:
    """Every log file under ``top``, refusing a subdirectory that cannot be listed."""
    found: list[Path] = []
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            raise InputError([f"{directory}: cannot list the directory: {exc.strerror}"]) from None
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif _format_of(path) is not None and not is_directory(path):
                found.append(path)
    return found


def once(paths: list[Path]) -> list[Path]:
    """The paths less those that name a file met before (same device and inode)."""
    seen: set[tuple[int, int]] = set()
    unique: list[Path] = []
    for path in paths:
        info = path.stat()
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            unique.append(path)
    return unique


@dataclass(frozen=True)
class RawLog:
    """One file that was read: where it is, what it holds, and how to find its rows again."""

    path: Path
    format: str
    sha256: str
    rows: int
    """Rows (records) in the file."""
    jsonl_lines: tuple[int, ...] | None = None
    """JSON Lines only: the line number of each row."""
    origin: np.ndarray | None = None
    """With a slice of the decisions (``part``): each row kept, as its row in the file."""

    @property
    def kept(self) -> int:
        """Rows read from the file: all of them, or those of the slice."""
        return self.rows if self.origin is None else len(self.origin)

    def in_file(self, rows: Sequence[int]) -> list[int]:
        """Rows kept, as rows of the file."""
        return list(rows) if self.origin is None else [int(self.origin[r]) for r in rows]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    block = bytearray(1 << 20)  # one buffer, read into again and again
    view = memoryview(block)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(block):
            digest.update(view[:size])
    return digest.hexdigest()


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


class _Unreadable(Exception):
    """A line of a text log that cannot be read: not UTF-8, or its compressed data is broken."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")


_BOM = b"\xef\xbb\xbf"


@contextlib.contextmanager
def _open_text(path: Path) -> Iterator[Iterator[str]]:
    """The physical lines of a text log (``\\n`` ends one; the end kept), each decoded alone.

    A line that is not UTF-8, and compressed data that is corrupt or cut short, raise
    ``_Unreadable`` with the line's number. A byte order mark (spreadsheet exports) is not
    part of the first line.
    """
    if _is_gzip(path):
        with gzip.open(path, "rb") as packed:
            yield _decoded(path, packed)
    else:
        with path.open("rb") as plain:
            yield _decoded(path, plain)


def _decoded(path: Path, handle: Iterable[bytes]) -> Iterator[str]:
    number = 0
    lines = iter(handle)
    while True:
        try:
            raw = next(lines, None)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _Unreadable(path, number + 1, f"not a readable gzip file: {exc}") from None
        if raw is None:
            return
        number += 1
        if number == 1:
            raw = raw.removeprefix(_BOM)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = f"byte {exc.start + 1} of the line is {raw[exc.start]:#04x}"
            raise _Unreadable(path, number, f"not UTF-8 text: {where}") from None
        yield text


@contextlib.contextmanager
def _long_fields() -> Iterator[None]:
    """Let the csv module read fields as long as Arrow does (its default stops at 128 KiB)."""
    previous = csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _check_required(path: Path, present: Sequence[str], where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise InputError([f"{path}:{where}: missing required column '{c}'" for c in missing])


def _csv_header(path: Path) -> list[str]:
    """The header row, checked: no schema column twice, every required one there."""
    try:
        with _long_fields(), _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except _Unreadable as exc:
        raise InputError([str(exc)]) from None
    except (OSError, csv.Error) as exc:
        raise InputError([f"{path}:1: cannot read the header: {exc}"]) from None
    if not header:
        raise InputError([f"{path}:1: empty file, expected a header row"])
    duplicated = sorted({c for c in header if header.count(c) > 1 and c in SCHEMA_COLUMNS})
    if duplicated:
        raise InputError([f"{path}:1: column '{c}' appears twice" for c in duplicated])
    _check_required(path, [c for c in SCHEMA_COLUMNS if c in header], "1")
    return header


class _NotText(Exception):
    """A column's values cannot be read as text (not UTF-8, or of a type without one)."""

    def __init__(self, column: str, kind: pa.DataType) -> None:
        super().__init__(column)
        self.column = column
        self.kind = kind


@dataclass(frozen=True)
class _Source:
    """One file's batches as its format reads them, and how to word a value that is not text."""

    batches: Iterator[pa.RecordBatch]
    not_text: Callable[[_NotText], str]
    lines: tuple[int, ...] | None = None


def _typed_problem(path: Path) -> Callable[[_NotText], str]:
    return lambda e: f"{path}: column '{e.column}': values of type {e.kind} cannot be read as text"


def _csv_source(path: Path) -> _Source:
    from pyarrow import csv as pacsv

    header = _csv_header(path)
    present = [c for c in SCHEMA_COLUMNS if c in header]
    # Per-row columns are checked as UTF-8 while parsing; the others as bytes, so that only
    # their few distinct values are checked (when ``_encoded`` dictionary-encodes them).
    types = {c: pa.string() if c in PER_ROW_COLUMNS else pa.binary() for c in present}
    options = {
        "read_options": pacsv.ReadOptions(block_size=_CSV_BLOCK, use_threads=False),
        "parse_options": pacsv.ParseOptions(newlines_in_values=True),
        "convert_options": pacsv.ConvertOptions(
            include_columns=present,
            column_types=types,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with pa.input_stream(path, compression="gzip" if _is_gzip(path) else None) as stream:
                yield from pacsv.open_csv(stream, **options)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError([_csv_problem(path, len(header), exc)]) from None

    # A value that is not UTF-8 is found the way a ragged row is: by reading the file again.
    return _Source(batches(), lambda e: _csv_problem(path, len(header), e))


def _csv_problem(path: Path, fields: int, exc: Exception) -> str:
    """Where Arrow's CSV parser gave up: the first record whose field count is not the
    header's, that is not UTF-8, or that is longer than Arrow reads."""
    try:
        for line, record in csv_record_lines(path):
            if len(record) != fields:
                return (
                    f"{path}:{line}: expected {fields} fields as in the header, found {len(record)}"
                )
            size = sum(len(value) for value in record)
            if size > _CSV_BLOCK:
                return (
                    f"{path}:{line}: a record of {size:,} characters; CSV records are read up "
                    f"to {_CSV_BLOCK >> 20} MiB (JSON Lines and Parquet have no such limit)"
                )
    except _Unreadable as reason:
        return str(reason)
    except (OSError, csv.Error) as reason:
        return f"{path}: not a readable CSV file: {reason}"
    return f"{path}: not a readable CSV file: {exc}"


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


def _exact_int(digits: str) -> int | str:
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


def _read_jsonl(path: Path) -> tuple[pa.Table, tuple[int, ...]]:
    columns: dict[str, list[str]] = {c: [] for c in SCHEMA_COLUMNS}
    floats: dict[str, list[tuple[int, float]]] = {c: [] for c in SCHEMA_COLUMNS}
    seen: set[str] = set()
    lines: list[int] = []
    try:
        with _open_text(path) as handle:
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                record = _json_record(path, number, text)
                if not isinstance(record, dict):
                    raise InputError([f"{path}:{number}: expected a JSON object"])
                for column in SCHEMA_COLUMNS:
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
    except _Unreadable as exc:
        raise InputError([str(exc)]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    present = [c for c in SCHEMA_COLUMNS if c in seen]
    if lines:
        _check_required(path, present, str(lines[0]))
    for column in present:
        _spell_floats(columns[column], floats[column])
    table = pa.table({c: pa.array(columns[c], type=pa.large_string()) for c in present})
    return table, tuple(lines)


def _jsonl_source(path: Path) -> _Source:
    table, lines = _read_jsonl(path)
    return _Source(iter(table.to_batches(_PARQUET_BATCH)), _typed_problem(path), lines)


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def hive_values(path: Path) -> dict[str, str]:
    """Schema columns a hive-style directory above a file gives (``service=api/``).

    A partitioned Parquet dataset keeps such a column in the directory names only.
    Values are unescaped as Hive and Arrow write them; the default partition is empty.
    """
    from urllib.parse import unquote

    found: dict[str, str] = {}
    for part in path.parent.parts:
        name, equals, value = part.partition("=")
        if equals and name in SCHEMA_COLUMNS:
            found[name] = "" if value == _HIVE_NULL else unquote(value)
    return found


def _parquet_source(path: Path) -> _Source:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"]) from None
    twice = [c for c in SCHEMA_COLUMNS if schema.names.count(c) > 1]
    if twice:
        raise InputError([f"{path}:row 0: column '{c}' appears twice" for c in twice])
    # Only the schema's columns are read (projection); partition directories add theirs.
    present = [c for c in SCHEMA_COLUMNS if c in schema.names]
    given = {k: v for k, v in hive_values(path).items() if k not in schema.names}
    _check_required(path, [*present, *given], "row 0")
    # Text of few distinct values comes with Parquet's own dictionaries: nothing to hash.
    encoded = [c for c in present if c not in PER_ROW_COLUMNS and _is_text(schema.field(c).type)]

    def with_partition(batch: pa.RecordBatch) -> pa.RecordBatch:
        if not given:
            return batch
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        for name, value in given.items():
            columns[name] = pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(batch.num_rows, dtype=np.int32)), pa.array([value])
            )
        names = [c for c in SCHEMA_COLUMNS if c in columns]
        return pa.RecordBatch.from_arrays([columns[c] for c in names], names=names)

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            with pq.ParquetFile(path, read_dictionary=encoded) as file:
                for batch in file.iter_batches(batch_size=_PARQUET_BATCH, columns=present):
                    yield with_partition(batch)
        except (pa.ArrowException, OSError) as exc:
            raise InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"]) from None

    return _Source(batches(), _typed_problem(path))


def _encoded(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch of any format as ``read_log`` hands it over (see there)."""
    arrays: list[pa.Array] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        kind = column.type
        if name == "timestamp" and pa.types.is_timestamp(kind):
            arrays.append(column)  # instants already: text is made only if needed
            continue
        try:
            if name in PER_ROW_COLUMNS:
                column = column.cast(pa.string())
                arrays.append(pc.fill_null(column, "") if column.null_count else column)
            else:
                arrays.append(_dictionary_of(column))
        except pa.ArrowException:
            raise _NotText(name, kind) from None
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
        values = pc.fill_null(values, "")
    indices = column.indices
    if indices.null_count:  # a null row is one more value, ""
        indices = pc.fill_null(indices, pa.scalar(len(values), indices.type))
        values = pa.concat_arrays([values, pa.array([""], pa.string())])
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
        text = pc.binary_join_element_wise(text, "Z" if aware else "", "").cast(pa.string())
    except pa.ArrowException:
        raise InputError(
            [f"{path}: column 'timestamp': values of type {column.type} cannot be read as text"]
        ) from None
    return pc.fill_null(text, "")


def in_part(ids: pa.Array, part: tuple[int, int]) -> np.ndarray:
    """Whether each id is in slice ``part[0]`` of ``part[1]``: equal ids, same slice.

    A hash of each id's last 8 bytes (where ids differ most), read straight from Arrow's
    buffers: no Python string is made.
    """
    index, count = part
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
    found: np.ndarray = (key % np.uint64(count)) == np.uint64(index)
    return found


def read_log(
    path: Path,
    take: Callable[[pa.RecordBatch], _T],
    keep: Callable[[_T], None],
    part: tuple[int, int] | None = None,
) -> RawLog:
    """Read one decision-log file batch by batch: ``take`` each batch, ``keep`` the results.

    A batch has the schema columns present in the file, in ``SCHEMA_COLUMNS`` order, with
    no nulls (missing values are ``""``): ``decision_id`` as ``string``; ``timestamp`` as
    ``string``, or as Parquet stored it if that is a timestamp type (nulls are missing
    times; ``timestamp_text`` spells it); every other column as a dictionary of ``string``.

    ``take`` runs on worker threads while the next batches are parsed, and the file's
    SHA-256 is computed on another (Arrow, numpy and hashlib release the GIL). ``keep``
    gets what ``take`` returned on this thread, in file order, as soon as it can: the
    file is never held whole.

    With ``part`` (``(index, count)``), only the rows of the decisions in that slice
    (``in_part``) are taken; the returned ``RawLog.origin`` says where they are.
    """
    fmt = str(_format_of(path))
    if fmt == "csv":
        source = _csv_source(path)
    elif fmt == "jsonl":
        source = _jsonl_source(path)
    else:
        source = _parquet_source(path)
    rows = 0
    origins: list[np.ndarray] = []

    def counted() -> Iterator[tuple[int, pa.RecordBatch]]:
        nonlocal rows
        for batch in source.batches:
            yield rows, batch
            rows += batch.num_rows

    def sliced(item: tuple[int, pa.RecordBatch]) -> tuple[_T, np.ndarray | None]:
        start, batch = item
        batch = _encoded(batch)
        if part is None:
            return take(batch), None
        chosen = in_part(batch.column("decision_id"), part)
        return take(batch.filter(pa.array(chosen))), start + np.flatnonzero(chosen)

    with ThreadPoolExecutor(max_workers=_WORKERS + 1) as pool:
        digest = pool.submit(_sha256, path)
        try:
            for taken, origin in _in_order(pool, sliced, counted()):
                keep(taken)
                if origin is not None:
                    origins.append(origin)
        except _NotText as exc:
            raise InputError([source.not_text(exc)]) from None
        origin_all = None
        if part is not None:
            origin_all = np.concatenate(origins) if origins else np.zeros(0, dtype=np.int64)
        raw = RawLog(path, fmt, digest.result(), rows, source.lines, origin_all)
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
        if len(pending) > 2 * _WORKERS:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _csv_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank CSV record, the header first, with the physical line it starts on.

    Only the error path uses this: a quoted value may span lines, so a row's
    line number cannot be derived from its index alone.
    """
    with _long_fields(), _open_text(path) as handle:
        reader = csv.reader(handle)
        start = 1
        for record in reader:
            if record:
                yield start, record
            start = reader.line_num + 1


def csv_record_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record after the header with the physical line it starts on."""
    records = _csv_lines(path)
    next(records, None)
    yield from records


def locate(raw: RawLog, rows: Sequence[int]) -> dict[int, str]:
    """Map rows read from ``raw`` to ``"FILE:LINE"`` (``"FILE:row N"`` for Parquet).

    Reads a CSV file once; JSON Lines kept its line numbers, Parquet has none.
    """
    found = _locate(raw, raw.in_file(rows))
    return {row: found[at] for row, at in zip(rows, raw.in_file(rows), strict=True)}


def _locate(raw: RawLog, rows: Sequence[int]) -> dict[int, str]:
    wanted = set(rows)
    if raw.format == "parquet":
        return {row: f"{raw.path}:row {row}" for row in wanted}
    if raw.jsonl_lines is not None:
        return {row: f"{raw.path}:{raw.jsonl_lines[row]}" for row in wanted}
    found: dict[int, str] = {}
    for index, (line, _) in enumerate(csv_record_lines(raw.path)):
        if index in wanted:
            found[index] = f"{raw.path}:{line}"
            if len(found) == len(wanted):
                break
    return found


def original_rows(raw: RawLog, rows: Sequence[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    """Where some rows read from ``raw`` are and their untouched source records (all columns).

    For ``--bad-rows-out``; reads the file once.
    """
    found = _original_rows(raw, raw.in_file(rows))
    return {row: found[at] for row, at in zip(rows, raw.in_file(rows), strict=True)}


def _original_rows(raw: RawLog, rows: Sequence[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    wanted = sorted(set(rows))
    if raw.format == "parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(raw.path).take(wanted).to_pylist()
        return {
            row: (f"{raw.path}:row {row}", record)
            for row, record in zip(wanted, records, strict=True)
        }
    if raw.jsonl_lines is not None:
        by_line = {raw.jsonl_lines[row]: row for row in wanted}
        found: dict[int, tuple[str, dict[str, Any]]] = {}
        with _open_text(raw.path) as handle:
            for number, text in enumerate(handle, start=1):
                if number in by_line:
                    record = json.loads(text, parse_int=_exact_int)
                    found[by_line[number]] = (f"{raw.path}:{number}", record)
        return found
    lines = _csv_lines(raw.path)
    header = next(lines, (1, []))[1]
    chosen = set(wanted)
    found = {}
    for index, (line, record) in enumerate(lines):
        if index in chosen:
            found[index] = (f"{raw.path}:{line}", dict(zip(header, record, strict=True)))
            if len(found) == len(chosen):
                break
    return found
