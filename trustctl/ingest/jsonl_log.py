"""JSON Lines logs: each line one JSON object, its values as text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from trustctl.errors import InputError
from trustctl.ingest import log_source, textfile
from trustctl.ingest.log_source import Source, check_required, typed_problem
from trustctl.ingest.textfile import Unreadable
from trustctl.schema import COLUMNS

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


def _read_jsonl(path: Path) -> tuple[pa.Table, tuple[int, ...]]:
    columns: dict[str, list[str]] = {c: [] for c in COLUMNS}
    floats: dict[str, list[tuple[int, float]]] = {c: [] for c in COLUMNS}
    seen: set[str] = set()
    lines: list[int] = []
    try:
        with textfile.open_text(path) as handle:
            for number, text in enumerate(handle, start=1):
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
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    present = [c for c in COLUMNS if c in seen]
    if lines:
        check_required(path, present, str(lines[0]))
    for column in present:
        _spell_floats(columns[column], floats[column])
    table = pa.table({c: pa.array(columns[c], type=pa.large_string()) for c in present})
    return table, tuple(lines)


def jsonl_source(path: Path) -> Source:
    table, lines = _read_jsonl(path)
    return Source(iter(table.to_batches(log_source.BATCH_ROWS)), typed_problem(path), lines)
