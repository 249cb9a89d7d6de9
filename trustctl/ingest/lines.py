"""The way back from rows read to ``FILE:LINE`` and their untouched source records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from trustctl.ingest import textfile
from trustctl.ingest.jsonl_log import exact_int
from trustctl.ingest.read import RawLog
from trustctl.ingest.textfile import csv_lines, csv_record_lines

__all__ = ["locate", "original_rows"]


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
        return {row: f"{raw.path}:{int(raw.jsonl_lines[row])}" for row in wanted}
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
        by_line = {int(raw.jsonl_lines[row]): row for row in wanted}
        found: dict[int, tuple[str, dict[str, Any]]] = {}
        with textfile.open_text(raw.path) as handle:
            for number, text in enumerate(handle, start=1):
                if number in by_line:
                    record = json.loads(text, parse_int=exact_int)
                    found[by_line[number]] = (f"{raw.path}:{number}", record)
        return found
    lines = csv_lines(raw.path)
    header = next(lines, (1, []))[1]
    chosen = set(wanted)
    found = {}
    for index, (line, record) in enumerate(lines):
        if index in chosen:
            found[index] = (f"{raw.path}:{line}", dict(zip(header, record, strict=True)))
            if len(found) == len(chosen):
                break
    return found
