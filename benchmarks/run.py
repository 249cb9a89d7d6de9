"""Benchmark trustctl against DuckDB and polars on the same logs (issue 3); `make bench` runs it.

    python benchmarks/run.py [--sizes 1M,10M] [--formats csv,parquet] [--runs 5]

Generates (once) and caches the logs under benchmarks/data/, times every tool as a whole
process, checks that trustctl, DuckDB, polars and an independent reference compute the same
evidence numbers, and prints the table. Exit status: 0 when every tool ran and all agree,
1 when they disagree (or, with --strict, a target fails), 2 when a tool failed to run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
from evidence import Evidence, differences, read
from measure import Command, Task, ToolFailed, measure, run_once, warm_page_cache
from reference import evidence_from_segments
from results import Row, Target, machine, render_markdown, render_text

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent
SAMPLE_DATA = REPOSITORY / "sample_data"
#: The log size the issue's ratio and memory targets are stated for.
ISSUE_ROWS = 10_000_000
_BASELINES = ("DuckDB", "polars")
_SCRIPTS = {"DuckDB": HERE / "duckdb_baseline.py", "polars": HERE / "polars_baseline.py"}
NOTE = (
    f"× is against the faster of DuckDB and polars on the same file (for history and whatif "
    f"--replay: against trustctl generate on it); the targets apply at {ISSUE_ROWS:,} rows."
)
#: The replay measured (issues 11 and 12): four scenarios and the baseline, weekly.
REPLAY_SCENARIOS = (
    "p90: promote.auto_notify.agreement.threshold=0.9, demote.auto_notify.agreement.threshold=0.85",
    "n100: promote.auto_notify.agreement.min_decisions=100",
    "w90: window=90d",
    "no-ci: where=service!=ci-runners",
)
_RESULTS_START = "<!-- results: written by `python benchmarks/run.py --update-readme` -->"
_RESULTS_END = "<!-- /results -->"


@dataclass(frozen=True)
class Features:
    """What the installed trustctl can do; rows for the rest are left out."""

    aggregate: bool
    low_memory: bool
    evidence: bool
    history: bool
    replay: bool

    @classmethod
    def of(cls, trustctl: Path) -> Features:
        def help_text(*command: str) -> str | None:
            done = subprocess.run(
                [trustctl, *command, "--help"], capture_output=True, text=True, check=False
            )
            return done.stdout if done.returncode == 0 else None

        generate = help_text("generate") or ""
        return cls(
            aggregate=help_text("aggregate") is not None,
            low_memory="--low-memory" in generate,
            evidence="--evidence" in generate,
            history=help_text("history") is not None,
            replay="--replay" in (help_text("whatif") or ""),
        )


def _trustctl() -> Path:
    """The trustctl of this interpreter's environment (the one `make bench` installed)."""
    beside = Path(sys.executable).with_name("trustctl")
    if not beside.exists():
        raise SystemExit(f"error: no trustctl beside {sys.executable}; pip install -e '.[bench]'")
    return beside


class Checker:
    """Compares every implementation's evidence numbers with the reference's."""

    def __init__(self, trustctl: Path, features: Features, scratch: Path) -> None:
        self.trustctl = trustctl
        self.features = features
        self.scratch = scratch
        self.problems: list[str] = []
        """Every number on which an implementation disagrees with the reference."""
        self.failures: list[str] = []
        """Every run of a checked tool that failed."""
        self.agreed: list[str] = []
        """What agreed, on which log."""

    def check(
        self,
        log: Path,
        label: str,
        outputs: dict[str, Path],
        segments: Path,
        expected: tuple[str, Evidence] | None = None,
    ) -> Evidence:
        """Compare the baselines' ``outputs`` and trustctl's ``segments`` (written by
        ``aggregate`` here unless a measured row did) with the reference on ``log``; or, when
        ``expected`` (what it is, its numbers) is given, all of them and the reference with it.
        Returns the numbers compared against."""
        name = label.replace(" ", "-")
        answers: dict[str, Evidence] = {tool: read(path) for tool, path in outputs.items()}
        try:
            reference = self.scratch / f"{name}-reference.json"
            run_once([sys.executable, HERE / "reference.py", log, "-o", reference])
            answers["reference"] = read(reference)
            if not segments.exists() and self.features.aggregate:
                run_once([self.trustctl, "aggregate", log, "-o", segments])
        except ToolFailed as failure:
            self.failures.append(str(failure))
            return answers.get("reference", Evidence(None, {}))
        if segments.exists():
            answers["trustctl aggregate"] = evidence_from_segments(segments)
        against, numbers = expected or ("the reference", answers.pop("reference"))
        found = [
            line
            for tool, answer in answers.items()
            for line in differences(numbers, answer, f"{tool} on {label}")
        ]
        self.problems += found
        if not found:
            self.agreed.append(f"{label}: {', '.join(answers)} agree with {against}")
        return numbers

    def check_small(
        self, log: Path, label: str, expected: tuple[str, Evidence] | None = None
    ) -> Evidence:
        """Run each baseline once on a small log, then ``check`` it."""
        name = label.replace(" ", "-")
        outputs = {tool: self.scratch / f"{name}-{tool}.json" for tool in _BASELINES}
        try:
            for tool, output in outputs.items():
                run_once([sys.executable, _SCRIPTS[tool], log, "-o", output])
        except ToolFailed as failure:
            self.failures.append(str(failure))
            return Evidence(None, {})
        return self.check(log, label, outputs, self.scratch / f"{name}-segments.parquet", expected)


def _log_rows(
    log: datasets.Log, trustctl: Path, features: Features, scratch: Path
) -> tuple[list[Row], dict[str, Path], Path]:
    """The rows measured on one log, the baselines' output files, and trustctl's segments."""
    out = scratch / f"{log.size}-{log.format}"
    out.mkdir()
    outputs = {tool: out / f"{tool}.json" for tool in _BASELINES}
    baselines = tuple(
        Task(tool, log.label, ([sys.executable, _SCRIPTS[tool], log.path, "-o", outputs[tool]],))
        for tool in _BASELINES
    )

    def trustctl_row(what: str, target: Target | None, *commands: Command) -> Row:
        return Row(Task(what, log.label, commands), target, baselines)

    if datasets.parse_size(log.size) < ISSUE_ROWS:
        target = None
    elif log.format == "csv":
        target = Target("≤ 1.5× and ≤ 1 GB", max_ratio=1.5, max_peak_mb=1000)
    else:
        target = Target("≤ 2×", max_ratio=2)
    policy = out / "policy.yaml"
    generate: Command = [trustctl, "generate", log.path, "-o", policy]
    rows = [trustctl_row("trustctl generate", target, generate)]
    rows += [Row(task, None, baselines) for task in baselines]
    rows += _over_time_rows(log, trustctl, features, rows[0].task)
    # Rows for what issue 3 adds later, measured as soon as `generate --help` lists it.
    if features.low_memory:
        rows.append(
            trustctl_row(
                "trustctl generate --low-memory",
                Target("≤ 400 MB", max_peak_mb=400),
                [trustctl, "generate", "--low-memory", log.path, "-o", policy],
            )
        )
    segments = out / "segments.parquet"
    if features.evidence:
        rows.append(
            trustctl_row(
                "trustctl aggregate + generate --evidence",
                None,
                [trustctl, "aggregate", log.path, "-o", segments],
                [trustctl, "generate", "--evidence", segments, "-o", policy],
            )
        )
    return rows, outputs, segments


def _over_time_rows(
    log: datasets.Log, trustctl: Path, features: Features, generate: Task
) -> list[Row]:
    """``history`` (weekly steps over the window) and ``whatif --replay`` on the CSV log,
    against one ``generate`` (issues 11 and 12)."""
    if log.format != "csv":
        return []
    issue = datasets.parse_size(log.size) >= ISSUE_ROWS
    rows = []
    if features.history:
        rows.append(
            Row(
                Task("trustctl history", log.label, ([trustctl, "history", log.path],)),
                Target("≤ 1.5× generate", max_ratio=1.5) if issue else None,
                (generate,),
            )
        )
    if features.replay:
        scenarios = [item for text in REPLAY_SCENARIOS for item in ("--scenario", text)]
        replay: Command = [trustctl, "whatif", log.path, "--replay", *scenarios]
        rows.append(
            Row(
                Task("trustctl whatif --replay, 4 scenarios", log.label, (replay,)),
                Target("≤ 3× generate", max_ratio=3) if issue else None,
                (generate,),
            )
        )
    return rows


def _startup_rows(trustctl: Path, scratch: Path) -> list[Row]:
    second = Target("≤ 0.3 s", max_seconds=0.3)
    sample: Command = [trustctl, "generate", SAMPLE_DATA, "-o", scratch / "sample-policy.yaml"]
    return [
        Row(Task("trustctl --help", "", ([trustctl, "--help"],)), second),
        Row(Task("trustctl --version", "", ([trustctl, "--version"],)), second),
        Row(Task("trustctl generate", "sample_data/", (sample,)), Target("≤ 1 s", max_seconds=1)),
    ]


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1M,10M", help="log sizes in rows, comma-separated (default: 1M,10M)"
    )
    parser.add_argument(
        "--formats", default="csv,parquet", help="csv, parquet or both (default: csv,parquet)"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per row (default: 5)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="untimed runs per row first (default: 1)"
    )
    parser.add_argument(
        "--data", type=Path, default=HERE / "data", help="where generated logs are cached"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="write the results into benchmarks/README.md",
    )
    arguments = parser.parse_args(argv)
    arguments.sizes = [size.strip() for size in arguments.sizes.split(",") if size.strip()]
    arguments.formats = tuple(f.strip() for f in arguments.formats.split(",") if f.strip())
    for size in arguments.sizes:
        try:
            datasets.parse_size(size)
        except ValueError as problem:
            parser.error(str(problem))
    if not set(arguments.formats) <= set(datasets.FORMATS):
        parser.error(f"--formats: choose from {', '.join(datasets.FORMATS)}")
    if arguments.runs < 1 or arguments.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    return arguments


def report(
    rows: Sequence[Row],
    checker: Checker,
    facts: list[tuple[str, str]],
    arguments: argparse.Namespace,
) -> None:
    """Print the table, what was checked and the machine; keep a markdown copy."""
    print()
    print(render_text(rows))
    print(NOTE)
    for task in (row.task for row in rows if row.task.error is not None):
        print(f"error: {task.what} on {task.input or '-'}: {task.error}")
    print()
    for line in checker.agreed:
        print(f"evidence: {line}")
    for line in checker.failures:
        print(f"error: {line}")
    for line in checker.problems:
        print(f"DISAGREE: {line}")
    print()
    for name, value in facts:
        print(f"{name}: {value}")
    markdown = "\n".join(
        [
            render_markdown(rows),
            "",
            NOTE,
            "",
            *(f"- {name}: {value}" for name, value in facts),
            *(f"- evidence: {line}" for line in checker.agreed),
            *(f"- **disagreement**: {line}" for line in checker.problems),
        ]
    )
    arguments.data.mkdir(parents=True, exist_ok=True)
    (arguments.data / "last-results.md").write_text(markdown + "\n", encoding="utf-8")
    if arguments.update_readme:
        readme = HERE / "README.md"
        text = readme.read_text(encoding="utf-8")
        start = text.index(_RESULTS_START) + len(_RESULTS_START)
        end = text.index(_RESULTS_END)
        readme.write_text(text[:start] + "\n" + markdown + "\n" + text[end:], encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _arguments(argv)
    load_at_start = os.getloadavg()[0]
    trustctl = _trustctl()
    features = Features.of(trustctl)
    if not features.aggregate:
        print(
            "note: this trustctl has no `aggregate` command yet: trustctl's evidence numbers "
            "are not compared (DuckDB, polars and the reference still are)",
            flush=True,
        )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="trustctl-bench-") as scratch_name:
        scratch = Path(scratch_name)
        checker = Checker(trustctl, features, scratch)

        print("checking the evidence numbers on sample_data/ and a respelled copy ...", flush=True)
        sample_log = SAMPLE_DATA / "decisions.csv"
        sample = checker.check_small(sample_log, "sample_data")
        respelled = scratch / "respelled" / "decisions.csv"
        datasets.write_spelling_variant(sample_log, respelled)
        on_sample = ("the numbers on sample_data", sample)
        checker.check_small(respelled, "sample_data respelled", expected=on_sample)

        print("timing start-up and sample_data/ ...", flush=True)
        startup = _startup_rows(trustctl, scratch)
        measure([row.task for row in startup], arguments.runs, arguments.warmup)
        rows += startup

        for size in sorted(arguments.sizes, key=datasets.parse_size):
            for log in datasets.prepare(arguments.data, size, arguments.formats, trustctl):
                print(f"timing on {log.label} ({log.rows:,} rows) ...", flush=True)
                log_rows, outputs, segments = _log_rows(log, trustctl, features, scratch)
                warm_page_cache(log.path)
                measure([row.task for row in log_rows], arguments.runs, arguments.warmup)
                rows += log_rows
                print(f"checking the evidence numbers on {log.label} ...", flush=True)
                present = {tool: path for tool, path in outputs.items() if path.exists()}
                checker.check(log.path, log.label, present, segments)

    report(rows, checker, machine(load_at_start), arguments)
    if checker.problems:
        return 1
    if checker.failures or any(row.task.error is not None for row in rows):
        return 2
    failed = any(row.verdict.startswith("FAIL") for row in rows)
    return 1 if arguments.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
