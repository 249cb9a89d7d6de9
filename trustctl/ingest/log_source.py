"""What each log format gives the reader: its batches, and how to word a value that is not text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from trustctl.errors import InputError
from trustctl.schema import REQUIRED_COLUMNS

__all__ = ["BATCH_ROWS", "NotText", "Source", "check_required", "typed_problem"]

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
    not_text: Callable[[NotText], str]
    lines: tuple[int, ...] | None = None


def typed_problem(path: Path) -> Callable[[NotText], str]:
    return lambda e: f"{path}: column '{e.column}': values of type {e.kind} cannot be read as text"


def check_required(path: Path, present: Sequence[str], where: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if missing:
        raise InputError([f"{path}:{where}: missing required column '{c}'" for c in missing])
