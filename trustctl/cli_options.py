"""The options commands share, and what their values become: rules, instants, logs, outputs."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from trustctl._terminal import err

if TYPE_CHECKING:
    from trustctl.filters import Filter
    from trustctl.ingest import IngestReport
    from trustctl.inputs import Source
    from trustctl.policy_model import Policy
    from trustctl.rules import LoadedRules

__all__ = [
    "PROGRESS_BYTES",
    "AsOfOption",
    "BadRows",
    "InputFormat",
    "InputFormatOption",
    "LedgerOption",
    "Logs",
    "LowMemoryOption",
    "OnBadRowsOption",
    "PreviousOption",
    "ReviewMinutesOption",
    "RulesOption",
    "SetOption",
    "WhereOption",
    "WideOption",
    "every_step",
    "filters_of",
    "instant",
    "log_source",
    "policy_or_none",
    "reading_notes",
    "reading_progress",
    "refuse_overwrites",
    "rules_with",
    "stdin_logs",
]

F = TypeVar("F", bound=Callable[..., Any])


class BadRows(str, Enum):
    """What to do with rows that break the log schema."""

    fail = "fail"
    skip = "skip"


class InputFormat(str, Enum):
    """The formats logs on standard input can be in."""

    csv = "csv"
    jsonl = "jsonl"


Logs = Annotated[
    list[Path],
    typer.Argument(
        help="Decision-log files or directories (*.csv, *.jsonl, *.parquet, *.gz); "
        "- for standard input (with --input-format)."
    ),
]
InputFormatOption = Annotated[
    InputFormat | None,
    typer.Option(
        "--input-format",
        help="The format of the logs read from standard input (- among the logs): csv or jsonl.",
    ),
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file (TrustRules YAML). Default: the built-in rules."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Decide as of this ISO-8601 time; later decisions are ignored. "
        "Default: the latest decision's timestamp.",
    ),
]
OnBadRowsOption = Annotated[
    BadRows,
    typer.Option("--on-bad-rows", help="fail: refuse bad input; skip: leave out and count."),
]
LowMemoryOption = Annotated[
    bool,
    typer.Option(
        "--low-memory",
        help="Read the logs one slice of decisions at a time: the same result in bounded "
        "memory, at the cost of one pass over the files per slice.",
    ),
]
PreviousOption = Annotated[
    Path | None,
    typer.Option("--previous", help="The policy in force (its levels and dates are the start)."),
]
LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help="The ledger of level changes. Default: beside the policy, its suffix replaced "
        "by .ledger.jsonl (policy.yaml → policy.ledger.jsonl).",
    ),
]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Tables with every column, at least 160 wide (default: the columns that fit "
        "80, or $COLUMNS).",
    ),
]
ReviewMinutesOption = Annotated[
    float | None,
    typer.Option(
        "--review-minutes",
        help="Minutes a decision waits for a human before it runs (default: the rules' "
        "economics.review_delay_minutes): with it, the review time that automation saved "
        "(decisions run without a human first × minutes).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override one rules key, e.g. promote.auto_notify.agreement.threshold=0.97 "
        "or window=90d (the value is YAML; checked as the rules file is). Repeatable.",
    ),
]
WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="Count only decisions meeting COLUMN=VALUE (also != < <= > >=, or "
        "'COLUMN in A,B'), judged after a decision's event rows merge. Repeatable: all hold.",
    ),
]


def rules_with(path: Path | None, sets: list[str] | None = None) -> LoadedRules:
    """The rules file (or the built-in rules) with every ``--set`` laid over it."""
    from trustctl.overrides import apply_overrides, parse_override
    from trustctl.rules import load_rules

    overrides = [parse_override(text) for text in sets or []]
    return apply_overrides(load_rules(path), overrides)


def filters_of(where: list[str] | None) -> tuple[Filter, ...]:
    """Every ``--where`` parsed."""
    from trustctl.filters import parse_filter

    return tuple(parse_filter(text) for text in where or [])


def instant(text: str | None, option: str = "--as-of") -> dt.datetime | None:
    """An instant option's value (ISO-8601; naive means UTC)."""
    from trustctl import times
    from trustctl.errors import TrustctlError

    if text is None:
        return None
    try:
        return times.parse(text)
    except ValueError as exc:
        raise TrustctlError(f"{option}: {exc}") from None


def every_step(text: str) -> dt.timedelta:
    """An ``--every`` step: a duration (``7d``) that moves forward."""
    from trustctl.errors import TrustctlError
    from trustctl.rules import parse_duration

    try:
        step = parse_duration(text)
    except ValueError as exc:
        raise TrustctlError(f"--every: {exc}") from None
    if not step:
        raise TrustctlError(f"--every: a step of {text} never moves; give one like 7d")
    return step


def policy_or_none(path: Path | None) -> Policy | None:
    """The policy at ``path``, or ``None`` when no path was given."""
    from trustctl.policy import load_policy

    return None if path is None else load_policy(path)


def refuse_overwrites(
    outputs: list[Path | None], inputs: list[Path], *others: Path | None, evidence: bool = False
) -> None:
    """The one rule for outputs (``files.check_outputs``), checked before anything is read."""
    from trustctl.evidence_files import find_evidence
    from trustctl.files import check_outputs
    from trustctl.ingest import find_logs

    found = (find_evidence if evidence else find_logs)(inputs) if inputs else []
    check_outputs(outputs, [*found, *others])


def log_source(
    paths: list[Path], on_bad_rows: BadRows, low_memory: bool, where: list[str] | None = None
) -> Source:
    """The logs as a source: read whole, or one slice of decisions at a time."""
    from trustctl.inputs import Logs, LowMemoryLogs

    kind = LowMemoryLogs if low_memory else Logs
    return kind(paths, on_bad_rows.value, where=filters_of(where))


def reading_notes(report: IngestReport) -> None:
    """What the reading left out or assumed, on stderr."""
    if report.skipped_decisions:
        err().print(
            f"warning: skipped {report.skipped_decisions} decision(s) "
            f"({report.skipped_rows} row(s)) with bad data",
            markup=False,
        )
    if report.naive_timestamps:
        err().print(
            f"note: {report.naive_timestamps} timestamp(s) had no time zone and were read as UTC",
            markup=False,
        )


#: Logs smaller than this are read without a progress bar.
PROGRESS_BYTES = 100 << 20


@contextlib.contextmanager
def reading_progress(paths: list[Path]) -> Iterator[None]:
    """A progress bar on stderr while more than ``PROGRESS_BYTES`` of logs are read, on a
    terminal only: never in a pipe, a file or CI."""
    from trustctl.ingest import find_logs

    console = err()
    if not paths or not console.is_terminal or os.environ.get("CI"):
        yield
        return
    total = sum(path.stat().st_size for path in find_logs(paths))
    if total < PROGRESS_BYTES:
        yield
        return
    # Imported only when a bar is shown: rich.progress costs more than a small log's read.
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from trustctl.ingest.progress import watching

    columns = (BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress("reading the logs", *columns, console=console, transient=True) as bar:
        task = bar.add_task("read", total=total)
        with watching(lambda size: bar.advance(task, size)):
            yield


def stdin_logs(command: F) -> F:
    """``command`` with ``--input-format``, reading ``-`` among its ``logs`` from standard
    input: a copy of it, on disk for as long as the command runs (``stdin_spooled``).

    Put it under ``fails_cleanly``, which maps its errors to exit codes."""
    signature = inspect.signature(command, eval_str=True)
    option = inspect.Parameter(
        "input_format", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=InputFormatOption
    )

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from trustctl.ingest.log_source import stdin_spooled

        chosen: InputFormat | None = kwargs.pop("input_format", None)
        logs: list[Path] | None = kwargs["logs"]
        fmt = None if chosen is None else chosen.value
        with stdin_spooled(logs or [], fmt, lambda: sys.stdin.buffer) as spooled:
            kwargs["logs"] = spooled if logs is not None else None
            return command(*args, **kwargs)

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), option]
    )
    wrapper.__annotations__ = {**command.__annotations__, "input_format": InputFormatOption}
    return wrapper  # type: ignore[return-value]
