"""Shared test setup: a plain, wide console and small decision logs written into ``tmp_path``."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

# Rich reads these when a console is created; set them before anything imports trustctl.cli.
os.environ["COLUMNS"] = "120"
os.environ["NO_COLOR"] = "1"

Row = dict[str, Any]

START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


#: The shipped sample log (``trustctl sample --decisions 6000 --seed 7``).
SAMPLE_CSV = Path(__file__).resolve().parent.parent / "sample_data" / "decisions.csv"


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The sample log's header and rows, as text."""
    with SAMPLE_CSV.open(newline="") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


@pytest.fixture(autouse=True)
def _plain_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same table layout on every machine: 120 columns, no colour, no forced terminal."""
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("NO_COLOR", "1")
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "LINES"):
        monkeypatch.delenv(name, raising=False)


def stamp(moment: dt.datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(decision_id: str, day: float = 0, **fields: Any) -> Row:
    """One complete, valid event row: an approved, executed, successful suggestion."""
    base: Row = {
        "decision_id": decision_id,
        "timestamp": stamp(START + dt.timedelta(days=day)),
        "action_class": "k8s.restart_pod",
        "mode": "suggest",
        "human_decision": "approved",
        "executed": "true",
        "outcome": "success",
        "severity": "",
        "service": "checkout",
        "system_tier": "1",
        "agent_version": "agent-1.0",
        "ai_confidence": "0.9",
        "reviewer": "alice",
        "rationale": "",
        "incident_id": "",
    }
    base.update(fields)
    return base


def history() -> list[Row]:
    """A small but realistic log, 90 days.

    - ``k8s.restart_pod``: 60 approved, executed, successful suggestions (earns ``auto_notify``);
    - ``k8s.rollback``: 40 suggestions, every fifth rejected with a rationale (stays ``suggest``);
    - ``db.failover``: 10 approved suggestions, capped at ``suggest`` by its risk tier.
    """
    rows = [row(f"rp-{i:03d}", day=i) for i in range(60)]
    for i in range(40):
        rejected = i % 5 == 4
        rows.append(
            row(
                f"rb-{i:03d}",
                day=i * 2 + 0.5,
                action_class="k8s.rollback",
                human_decision="rejected" if rejected else "approved",
                executed="false" if rejected else "true",
                outcome="" if rejected else "success",
                reviewer="bob",
                rationale=f"rollback {i} would drop the hotfix" if rejected else "",
            )
        )
    rows += [row(f"fo-{i:03d}", day=i * 9 + 0.25, action_class="db.failover") for i in range(10)]
    return rows


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every key of the rows, in order of first appearance."""
    found: dict[str, None] = {}
    for record in rows:
        found.update(dict.fromkeys(record))
    return list(found)


class LogFiles:
    """Writes tiny decision logs in every supported format under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def text(self, name: str, content: str) -> Path:
        """A file with exactly this text (gzip-compressed when ``name`` ends ``.gz``)."""
        path = self._path(name)
        data = content.encode("utf-8")
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        return path

    def csv(
        self,
        rows: Sequence[Mapping[str, Any]],
        name: str = "decisions.csv",
        columns: Sequence[str] | None = None,
    ) -> Path:
        """A CSV log (``.csv`` or ``.csv.gz``); missing fields are written empty."""
        header = list(columns) if columns is not None else columns_of(rows)
        lines: list[str] = []

        class _Sink:
            def write(self, text: str) -> int:
                lines.append(text)
                return len(text)

        writer = csv.writer(_Sink(), lineterminator="\n")
        writer.writerow(header)
        for record in rows:
            writer.writerow(["" if record.get(c) is None else record.get(c) for c in header])
        return self.text(name, "".join(lines))

    def jsonl(self, rows: Sequence[Mapping[str, Any]], name: str = "decisions.jsonl") -> Path:
        """A JSON Lines log (``.jsonl``, ``.ndjson``, optionally ``.gz``)."""
        return self.text(name, "".join(json.dumps(dict(r)) + "\n" for r in rows))

    def parquet(self, data: pa.Table | Sequence[Mapping[str, Any]], name: str) -> Path:
        """A Parquet log from an Arrow table (typed columns) or rows (string columns)."""
        if isinstance(data, pa.Table):
            table = data
        else:
            table = pa.table({c: [r.get(c) for r in data] for c in columns_of(data)})
        path = self._path(name)
        pq.write_table(table, path)
        return path


@pytest.fixture
def logs(tmp_path: Path) -> LogFiles:
    """Write decision logs into ``tmp_path/logs``."""
    return LogFiles(tmp_path / "logs")


@pytest.fixture
def history_csv(logs: LogFiles) -> Path:
    """The :func:`history` log as one CSV file."""
    return logs.csv(history(), name="history.csv")
