"""The results table: the issue's targets, one row per measured task, text and markdown."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from measure import Task


@dataclass(frozen=True)
class Target:
    """One of the issue's targets; a row passes when every limit it sets holds."""

    text: str
    max_ratio: float | None = None
    max_seconds: float | None = None
    max_peak_mb: float | None = None

    def verdict(self, task: Task, ratio: float | None) -> str:
        if task.error is not None or not task.runs:
            return "error"
        failed = []
        if self.max_ratio is not None and (ratio is None or ratio > self.max_ratio):
            failed.append("time")
        if self.max_seconds is not None and task.median > self.max_seconds:
            failed.append("time")
        if self.max_peak_mb is not None and task.peak_bytes / 1e6 > self.max_peak_mb:
            failed.append("memory")
        return f"FAIL ({', '.join(failed)})" if failed else "PASS"


@dataclass
class Row:
    """A measured task with what it is judged against."""

    task: Task
    target: Target | None = None
    baseline: tuple[Task, ...] = ()
    """The tasks whose faster median the ratio is taken against (none: no ratio)."""

    @property
    def ratio(self) -> float | None:
        medians = [task.median for task in self.baseline if task.runs and task.error is None]
        if self.task.error is not None or not self.task.runs or not medians:
            return None
        return self.task.median / min(medians)

    @property
    def verdict(self) -> str:
        return self.target.verdict(self.task, self.ratio) if self.target else ""

    def cells(self) -> list[str]:
        task = self.task
        if task.error is None and task.runs:
            timing = [
                f"{task.median:.2f}",
                f"{task.fastest:.2f}–{task.slowest:.2f}",
                f"{task.peak_bytes / 1e6:,.0f}",
            ]
        else:
            timing = ["error", "", ""]
        ratio = self.ratio
        return [
            task.what,
            task.input,
            *timing,
            "" if ratio is None else f"{ratio:.2f}×",
            self.target.text if self.target else "",
            self.verdict,
        ]


HEADER = ["what", "input", "median s", "min–max s", "peak MB", "× baseline", "target", "result"]
_NUMERIC = {2, 3, 4, 5}


def render_text(rows: Sequence[Row]) -> str:
    table = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            cell.rjust(width) if i in _NUMERIC else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in table
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_markdown(rows: Sequence[Row]) -> str:
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---:" if i in _NUMERIC else "---" for i in range(len(HEADER))) + "|",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def machine(load_at_start: float) -> list[tuple[str, str]]:
    """The facts a reader needs to compare these numbers with theirs."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        kib = int(next(line for line in info if line.startswith("MemTotal")).split()[1])
    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("trustctl", "duckdb", "polars", "pyarrow")
    )
    return [
        ("date", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} cores, {kib / 2**20:.0f} GiB RAM"),
        ("load average (1 min) at start and end", f"{load_at_start:.2f}, {os.getloadavg()[0]:.2f}"),
        ("software", f"Python {platform.python_version()}, {versions}"),
        ("commit", commit or "unknown"),
    ]
