"""CSV logs: the header checked, the records parsed by Arrow block by block on worker threads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from trustctl.errors import InputError
from trustctl.ingest import textfile
from trustctl.ingest.csv_blocks import Rest, record_blocks
from trustctl.ingest.log_source import HashedFile, Source, Unit, check_required
from trustctl.ingest.textfile import Unreadable, csv_record_lines, is_gzip, long_fields
from trustctl.schema import COLUMNS, PER_ROW_COLUMNS

__all__ = ["CSV_BLOCK", "csv_source"]

#: Bytes of CSV text per batch: large enough that per-batch work is noise, small enough
#: that the blocks Arrow reads ahead (up to 32) are cheap to hold. A record longer than
#: this cannot be read.
CSV_BLOCK = 2 << 20


def _csv_header(path: Path) -> list[str]:
    """The header row, checked: no schema column twice, every required one there."""
    try:
        with long_fields(), textfile.open_text(path) as handle:
            header = next(csv.reader(handle), None)
    except Unreadable as exc:
        raise InputError([str(exc)]) from None
    except (OSError, csv.Error) as exc:
        raise InputError([f"{path}:1: cannot read the header: {exc}"]) from None
    if not header:
        raise InputError([f"{path}:1: empty file, expected a header row"])
    duplicated = sorted({c for c in header if header.count(c) > 1 and c in COLUMNS})
    if duplicated:
        raise InputError([f"{path}:1: column '{c}' appears twice" for c in duplicated])
    check_required(path, [c for c in COLUMNS if c in header], "1")
    return header


def csv_source(path: Path) -> Source:
    from pyarrow import csv as pacsv

    header = _csv_header(path)
    present = [c for c in COLUMNS if c in header]
    # Per-row columns are checked as UTF-8 while parsing; the others as bytes, so that only
    # their few distinct values are checked (when ``_encoded`` dictionary-encodes them).
    types = {c: pa.string() if c in PER_ROW_COLUMNS else pa.binary() for c in present}
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(
        include_columns=present,
        column_types=types,
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    # The first block starts with the header; the others are records only.
    first = pacsv.ReadOptions(block_size=CSV_BLOCK, use_threads=False)
    later = pacsv.ReadOptions(block_size=CSV_BLOCK, use_threads=False, column_names=header)
    hashed = HashedFile(path)

    def problem(exc: Exception) -> str:
        return _csv_problem(path, len(header), exc)

    def parsed(text: memoryview, options: pacsv.ReadOptions) -> Callable[[], list[pa.RecordBatch]]:
        def parse_block() -> list[pa.RecordBatch]:
            try:
                table = pacsv.read_csv(
                    pa.py_buffer(text),
                    read_options=options,
                    parse_options=parse,
                    convert_options=convert,
                )
            except pa.ArrowInvalid as exc:
                raise InputError([problem(exc)]) from None
            found: list[pa.RecordBatch] = table.to_batches()
            return found

        return parse_block

    def streamed(stream: io.RawIOBase, options: pacsv.ReadOptions) -> Iterator[pa.RecordBatch]:
        with pa.PythonFile(stream, mode="r") as raw:
            text = pa.CompressedInputStream(raw, "gzip") if is_gzip(path) else raw
            yield from pacsv.open_csv(
                text, read_options=options, parse_options=parse, convert_options=convert
            )

    def batches() -> Iterator[Unit]:
        try:
            with hashed:
                if is_gzip(path):  # one stream to inflate: read by one parser
                    yield from streamed(hashed, first)
                    return
                options = first
                for block in record_blocks(hashed):
                    if isinstance(block, Rest):
                        yield from streamed(block, options)
                    else:
                        yield parsed(block, options)
                    options = later
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError([problem(exc)]) from None

    # A value that is not UTF-8 is found the way a ragged row is: by reading the file again.
    return Source(batches(), hashed.sha256, problem)


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
            if size > CSV_BLOCK:
                return (
                    f"{path}:{line}: a record of {size:,} characters; CSV records are read up "
                    f"to {CSV_BLOCK >> 20} MiB (JSON Lines and Parquet have no such limit)"
                )
    except Unreadable as reason:
        return str(reason)
    except (OSError, csv.Error) as reason:
        return f"{path}: not a readable CSV file: {reason}"
    return f"{path}: not a readable CSV file: {exc}"
