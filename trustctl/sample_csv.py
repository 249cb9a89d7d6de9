"""A sample log written as CSV: atomically, minimally quoted, a million rows at a time."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trustctl.errors import TrustctlError
from trustctl.files import atomic_writer

__all__ = ["write_frame"]

_FREE_TEXT_COLUMNS = ("rationale",)
"""The only columns whose text is not from a fixed vocabulary (may need quotes)."""
_CSV_CHUNK_ROWS = 1_000_000


def write_frame(directory: Path, frame: pd.DataFrame) -> Path:
    """Write a sample ``frame`` to ``directory/decisions.csv`` atomically, as ``write_sample``."""
    if directory.exists() and not directory.is_dir():
        raise TrustctlError(
            f"{directory}: not a directory (the sample is written as decisions.csv inside one)"
        )
    target = directory / "decisions.csv"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrustctlError(f"{target}: cannot write: {exc.strerror or exc}") from None
    with atomic_writer(target) as stream:
        _write_csv(frame, stream)
    return target


def _write_csv(frame: pd.DataFrame, stream: BinaryIO) -> None:
    """Write ``frame`` as minimally quoted CSV, fast.

    The bytes equal ``frame.to_csv(index=False)`` because only ``_FREE_TEXT_COLUMNS`` can
    hold quotes, commas or line breaks; every other column comes from fixed vocabularies.
    """
    stream.write((",".join(frame.columns) + "\n").encode())
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for batch in table.to_batches(max_chunksize=_CSV_CHUNK_ROWS):
        cells = [column.cast(pa.large_string()) for column in batch.columns]
        cells = [
            _csv_quoted(cell) if name in _FREE_TEXT_COLUMNS else cell
            for name, cell in zip(batch.schema.names, cells, strict=True)
        ]
        lines = pc.binary_join_element_wise(*cells, _text(","))
        listed = pa.LargeListArray.from_arrays(pa.array([0, len(lines)], pa.int64()), lines)
        stream.write(pc.binary_join(listed, _text("\n"))[0].as_buffer())
        stream.write(b"\n")


def _csv_quoted(column: pa.Array) -> pa.Array:
    """Quote the cells that need it, doubling inner quotes (minimal quoting)."""
    needs_quotes = pc.match_substring_regex(column, '[",\r\n]')
    escaped = pc.replace_substring(column, '"', '""')
    quoted = pc.binary_join_element_wise(_text('"'), escaped, _text('"'), _text(""))
    return pc.if_else(needs_quotes, quoted, column)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())
