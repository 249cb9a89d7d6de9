"""Finding decision-log files and reading them into string columns, with a way back to lines."""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from trustctl.errors import InputError

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

_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".csv.gz", ".jsonl.gz", ".ndjson.gz")


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix.removesuffix(".gz").lstrip(".").replace("ndjson", "jsonl")
    return None


def find_logs(arguments: Sequence[Path]) -> list[Path]:
    """Expand files and directories into the sorted list of decision-log files."""
    found: list[Path] = []
    for argument in arguments:
        if argument.is_dir():
            inside = sorted(
                p for p in argument.rglob("*") if p.is_file() and _format_of(p) is not None
            )
            if not inside:
                raise InputError(
                    [f"{argument}: no decision logs (*.csv, *.jsonl, *.parquet) in it"]
                )
            found.extend(inside)
        elif argument.is_file():
            if _format_of(argument) is None:
                raise InputError(
                    [f"{argument}: unknown log format; use .csv, .jsonl, .ndjson, .parquet or .gz"]
                )
            found.append(argument)
        else:
            raise InputError([f"{argument}: no such file or directory"])
    if not found:
        raise InputError(["no decision logs given"])
    unique = sorted(set(found), key=lambda p: str(p))
    return unique


@dataclass(frozen=True)
class RawLog:
    """One file's schema columns as strings (missing = empty string), in file order."""

    path: Path
    format: str
    sha256: str
    table: pa.Table
    """Columns of ``SCHEMA_COLUMNS`` present in the file, all ``large_string``: what pandas
    keeps text in, so handing them over copies nothing."""
    jsonl_lines: tuple[int, ...] | None = None
    """JSON Lines only: the line number of each row."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _open_text(path: Path) -> TextIO:
    # utf-8-sig: a byte order mark (spreadsheet exports) is not part of the first column's name.
    if _is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


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


def _read_csv(path: Path) -> pa.Table:
    from pyarrow import csv as pacsv

    try:
        with _long_fields(), _open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError([f"{path}:1: cannot read the header: {exc}"]) from None
    if not header:
        raise InputError([f"{path}:1: empty file, expected a header row"])
    duplicated = sorted({c for c in header if header.count(c) > 1 and c in SCHEMA_COLUMNS})
    if duplicated:
        raise InputError([f"{path}:1: column '{c}' appears twice" for c in duplicated])
    present = [c for c in SCHEMA_COLUMNS if c in header]
    _check_required(path, present, "1")
    try:
        with pa.input_stream(path, compression="gzip" if _is_gzip(path) else None) as stream:
            return pacsv.read_csv(
                stream,
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=present,
                    column_types={c: pa.large_string() for c in present},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError([_csv_problem(path, len(header), exc)]) from None


def _csv_problem(path: Path, fields: int, exc: Exception) -> str:
    """Where Arrow's CSV parser gave up: the first record whose field count is not the header's."""
    try:
        for line, record in csv_record_lines(path):
            if len(record) != fields:
                return (
                    f"{path}:{line}: expected {fields} fields as in the header, found {len(record)}"
                )
    except (OSError, UnicodeDecodeError, csv.Error) as reason:
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
    if isinstance(value, (str, int)):
        return str(value)
    return None


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
                try:
                    record = json.loads(text, object_pairs_hook=_unique_keys)
                except json.JSONDecodeError as exc:
                    raise InputError([f"{path}:{number}: not valid JSON: {exc.msg}"]) from None
                except _DuplicateKey as exc:
                    raise InputError([f"{path}:{number}: key {exc.key!r} appears twice"]) from None
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
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([f"{path}: cannot read: {exc}"]) from None
    present = [c for c in SCHEMA_COLUMNS if c in seen]
    if lines:
        _check_required(path, present, str(lines[0]))
    for column in present:
        _spell_floats(columns[column], floats[column])
    table = pa.table({c: pa.array(columns[c], type=pa.large_string()) for c in present})
    return table, tuple(lines)


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        present = [c for c in SCHEMA_COLUMNS if c in schema.names]
        _check_required(path, present, "row 0")
        table = pq.read_table(path, columns=present)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([f"{path}: not a readable Parquet file: {exc}"]) from None
    arrays = []
    for name in present:
        column = table.column(name)
        try:
            if pa.types.is_timestamp(column.type):
                aware = column.type.tz is not None
                if aware:  # the stored values are UTC; drop the zone to format them as UTC
                    column = column.cast(pa.timestamp(column.type.unit))
                text = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
                column = pc.binary_join_element_wise(text, "Z" if aware else "", "")
            column = column.cast(pa.large_string())
        except pa.ArrowException:
            raise InputError(
                [f"{path}: column '{name}': values of type {column.type} cannot be read as text"]
            ) from None
        arrays.append(pc.fill_null(column, ""))
    return pa.table(arrays, names=present)


def read_log(path: Path) -> RawLog:
    """Read one decision-log file's schema columns as strings."""
    fmt = _format_of(path)
    lines: tuple[int, ...] | None = None
    if fmt == "csv":
        table = _read_csv(path)
    elif fmt == "jsonl":
        table, lines = _read_jsonl(path)
    else:
        table = _read_parquet(path)
    return RawLog(path=path, format=str(fmt), sha256=_sha256(path), table=table, jsonl_lines=lines)


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
    """Map row indexes of ``raw.table`` to ``"FILE:LINE"`` (``"FILE:row N"`` for Parquet).

    Reads a CSV file once; JSON Lines kept its line numbers, Parquet has none.
    """
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
    """Where some rows are and their untouched source records (all columns).

    For ``--bad-rows-out``; reads the file once.
    """
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
                    found[by_line[number]] = (f"{raw.path}:{number}", json.loads(text))
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
