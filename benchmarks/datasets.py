"""The benchmark's logs: generated once with ``trustctl sample``, converted to Parquet, cached.

Each size lives in ``DATA/rows-SIZE/`` (``decisions.csv``, ``decisions.parquet``,
``manifest.json``); a file is only (re)made when it is missing, and always written under a
temporary name first, so an interrupted run never leaves a partial log to be reused.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: ``trustctl sample`` writes about 1.15 rows per decision (some decisions are event streams).
ROWS_PER_DECISION = 1.15
SEED = 7
FORMATS = ("csv", "parquet")

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


@dataclass(frozen=True)
class Log:
    """One benchmark input file."""

    size: str
    """The size as asked for, e.g. ``10M`` (rows)."""
    rows: int
    """Rows actually in the file."""
    format: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.size} {self.format}"


def parse_size(text: str) -> int:
    """Rows from ``1M``, ``250k`` or ``5000``."""
    match = _SIZE.match(text.strip())
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 1M, 250k or 5000)")
    number, unit = match.groups()
    return round(float(number) * {"": 1, "k": 1_000, "m": 1_000_000}[unit.lower()])


def prepare(data: Path, size: str, formats: tuple[str, ...], trustctl: Path) -> list[Log]:
    """The logs of one size, generating whatever is missing."""
    folder = data / f"rows-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "decisions.csv"
    manifest = folder / "manifest.json"
    if not csv_path.exists() or not manifest.exists():
        decisions = round(parse_size(size) / ROWS_PER_DECISION)
        print(f"generating {size} rows ({decisions} decisions) in {folder} ...", flush=True)
        subprocess.run(
            [trustctl, "sample", "-o", folder, "--decisions", str(decisions), "--seed", str(SEED)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        manifest.write_text(json.dumps({"rows": _count_rows(csv_path)}) + "\n")
    rows = int(json.loads(manifest.read_text())["rows"])
    logs = []
    for fmt in formats:
        path = folder / f"decisions.{fmt}"
        if fmt == "parquet" and not path.exists():
            print(f"converting {csv_path} to Parquet ...", flush=True)
            to_parquet(csv_path, path)
            subprocess.run([trustctl, "validate", path], check=True, stdout=subprocess.DEVNULL)
        logs.append(Log(size=size, rows=rows, format=fmt, path=path))
    return logs


def _count_rows(path: Path) -> int:
    """Records after the header (the sample never puts a line break inside a value)."""
    lines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            lines += block.count(b"\n")
    return lines - 1


def _typed(batch: pa.RecordBatch, typed_time: bool) -> pa.RecordBatch:
    """Realistic Parquet types: a UTC timestamp, a boolean, integer tiers, a float confidence."""
    columns = dict(zip(batch.schema.names, batch.columns, strict=True))
    if typed_time:
        columns["timestamp"] = columns["timestamp"].cast(pa.timestamp("us", tz="UTC"))
    executed = columns["executed"]
    truth = pc.is_in(pc.utf8_lower(executed), pa.array(["true", "1", "yes"]))
    columns["executed"] = pc.if_else(pc.is_valid(executed), truth, None)
    for tier in ("system_tier", "risk_tier"):
        columns[tier] = columns[tier].cast(pa.int64())
    columns["ai_confidence"] = columns["ai_confidence"].cast(pa.float64())
    return pa.RecordBatch.from_pydict(columns)


def to_parquet(source: Path, target: Path) -> None:
    """Convert a CSV log to Parquet, streaming; empty values become nulls.

    The timestamp column is ``timestamp[us, UTC]`` when every value parses, text otherwise.
    """
    partial = target.with_suffix(".parquet.partial")
    try:
        _convert(source, partial, typed_time=True)
    except pa.ArrowInvalid:
        _convert(source, partial, typed_time=False)
    partial.replace(target)


def _convert(source: Path, target: Path, typed_time: bool) -> None:
    with source.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    text = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    blocks = pacsv.ReadOptions(block_size=64 << 20)
    with pacsv.open_csv(source, read_options=blocks, convert_options=text) as reader:
        batches = (_typed(batch, typed_time) for batch in reader)
        first = next(batches)
        with pq.ParquetWriter(target, first.schema) as writer:
            writer.write_batch(first)
            for batch in batches:
                writer.write_batch(batch)


def write_spelling_variant(source: Path, target: Path) -> None:
    """The same decisions as ``source`` spelled the other ways the schema allows.

    ``executed`` as TRUE/1/yes/..., ``mode`` as ``auto-notify``, a third of the ``Z``
    timestamps without a zone (naive means UTC: the same instant). The spelling is chosen
    per decision, so the event rows of one decision never disagree. Its evidence numbers
    must equal those of ``source``.
    """
    truthy = ("true", "TRUE", "1", "yes", "Yes")
    falsy = ("false", "False", "0", "no", "NO")
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open(newline="", encoding="utf-8") as reading:
        records = list(csv.DictReader(reading))
    for record in records:
        pick = zlib.crc32(record["decision_id"].encode())
        executed = record["executed"].lower()
        if executed in ("true", "false"):
            record["executed"] = (truthy if executed == "true" else falsy)[pick % 5]
        if record["mode"] == "auto_notify" and pick % 2:
            record["mode"] = "auto-notify"
        if record["timestamp"].endswith("Z") and pick % 3 == 0:
            record["timestamp"] = record["timestamp"][:-1]
    with target.open("w", newline="", encoding="utf-8") as writing:
        writer = csv.DictWriter(writing, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
