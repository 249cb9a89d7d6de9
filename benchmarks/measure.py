"""Timing whole processes: wall-clock seconds and peak memory (max RSS) of each run.

The peak is GNU time's ``%M`` (what ``/usr/bin/time -v`` calls "Maximum resident set size").
It cannot be read from this process's own ``wait4``: Python starts children with vfork, and
the kernel then counts the parent's resident set into the child's peak. Tasks are run
round-robin, so a slow spell of the machine hits every tool alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

Command = Sequence[str | Path]

GNU_TIME = Path("/usr/bin/time")


class ToolFailed(Exception):
    """A measured command exited non-zero."""


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_bytes: int


@dataclass
class Task:
    """One row of the results table: what is run (one or more commands in sequence) on what."""

    what: str
    input: str
    commands: tuple[Command, ...]
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(run.seconds for run in self.runs)

    @property
    def fastest(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def slowest(self) -> float:
        return max(run.seconds for run in self.runs)

    @property
    def peak_bytes(self) -> int:
        return max(run.peak_bytes for run in self.runs)


def _environment() -> dict[str, str]:
    """The caller's environment, but Python caches bytecode as it does by default: a shell
    that sets PYTHONDONTWRITEBYTECODE would otherwise make every run compile every module."""
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def run_once(command: Command) -> Run:
    """Run ``command`` (stdout discarded) and measure it; raise ToolFailed if it fails."""
    if not GNU_TIME.exists():
        raise SystemExit(f"error: {GNU_TIME} is needed for peak memory (apt-get install time)")
    with tempfile.NamedTemporaryFile("r") as peak, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        done = subprocess.run(
            [GNU_TIME, "--format=%M", f"--output={peak.name}", *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=_environment(),
            check=False,
        )
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-5:]
            shown = " ".join(str(part) for part in command)
            raise ToolFailed(f"`{shown}` exited {done.returncode}: " + " / ".join(tail))
        kib = int(peak.read().split()[-1])
    return Run(seconds=seconds, peak_bytes=kib * 1024)


def _run_task(task: Task) -> Run:
    runs = [run_once(command) for command in task.commands]
    return Run(sum(r.seconds for r in runs), max(r.peak_bytes for r in runs))


def warm_page_cache(path: Path) -> None:
    """Read a file once so every timed run finds it in the page cache."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def measure(tasks: Sequence[Task], runs: int, warmup: int) -> None:
    """Run every task ``warmup`` times untimed, then ``runs`` times timed, round-robin.

    A task that fails keeps its error and is not run again; the others go on.
    """
    for round_number in range(warmup + runs):
        kind = "warm-up" if round_number < warmup else f"run {round_number - warmup + 1}/{runs}"
        for task in tasks:
            if task.error is not None:
                continue
            where = f" on {task.input}" if task.input else ""
            try:
                run = _run_task(task)
            except ToolFailed as failure:
                task.error = str(failure)
                print(f"  {task.what}{where}: failed", flush=True)
                continue
            print(
                f"  {task.what}{where} ({kind}): {run.seconds:.2f} s, "
                f"{run.peak_bytes / 1e6:,.0f} MB",
                flush=True,
            )
            if round_number >= warmup:
                task.runs.append(run)
