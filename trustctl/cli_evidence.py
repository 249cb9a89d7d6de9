"""The commands that make inputs: ``aggregate`` evidence, its ``sql``, a ``sample`` log."""

import datetime as dt
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import fails_cleanly, say
from trustctl.cli_options import (
    BadRows,
    Logs,
    LowMemoryOption,
    OnBadRowsOption,
    SetOption,
    instant,
    log_source,
    reading_progress,
    refuse_overwrites,
    rules_with,
    stdin_logs,
)
from trustctl.sql import DIALECTS

__all__ = ["Dialect", "aggregate", "sample", "sql"]

BandsRulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Rules file: its confidence_bands split the evidence (the rest of the rules "
        "plays no part here). Default: the built-in rules (no bands).",
    ),
]


@fails_cleanly
@stdin_logs
def aggregate(
    logs: Logs,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The evidence file to write (Parquet).")
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Leave out rows recorded after this ISO-8601 time (for time travel later).",
        ),
    ] = None,
    on_bad_rows: OnBadRowsOption = BadRows.fail,
    low_memory: LowMemoryOption = False,
    rules: BandsRulesOption = None,
    sets: SetOption = None,
) -> None:
    """Write the evidence of some logs (counts per group and UTC day) for `generate --evidence`.

    Examples:

    \b
      trustctl aggregate sample_data/ -o evidence.parquet
      trustctl generate --evidence evidence.parquet --format table
    """
    from trustctl import evidence_files

    refuse_overwrites([output], logs, rules)
    bands = rules_with(rules, sets).rules.bands
    until = instant(as_of)
    with reading_progress(logs):
        read = log_source(logs, on_bad_rows, low_memory).read(until, bands)
    evidence_files.write(output, read.segments, read.report, until, bands)
    say(
        f"wrote {len(read.segments)} evidence rows ({read.report.decisions} decisions, "
        f"{read.report.rows} rows) to {output}"
    )


#: SQL dialects ``trustctl sql`` writes: one member per ``sql.DIALECTS``, in its order (mypy
#: cannot see members made from a tuple).
Dialect = Enum("Dialect", {name: name for name in DIALECTS}, type=str)  # type: ignore[misc]


@fails_cleanly
def sql(
    dialect: Annotated[
        Dialect, typer.Option("--dialect", help=f"{', '.join(DIALECTS[:-1])} or {DIALECTS[-1]}.")
    ],
    table: Annotated[str, typer.Option("--table", help="The table of raw decision-log rows.")],
    review_sampled: Annotated[
        bool,
        typer.Option(
            "--review-sampled",
            help="The table has a review_sampled column: read it (without it, every review "
            "is of unknown sampling).",
        ),
    ] = False,
    rules: BandsRulesOption = None,
    sets: SetOption = None,
) -> None:
    """Print the query that computes the evidence table inside a warehouse or Spark.

    Examples:

    \b
      trustctl sql --dialect duckdb --table decisions
      trustctl sql --dialect bigquery --table project.ops.decisions
    """
    from trustctl.errors import TrustctlError
    from trustctl.sql import render

    try:
        bands = rules_with(rules, sets).rules.bands
        sys.stdout.write(render(dialect.value, table, review_sampled=review_sampled, bands=bands))
    except ValueError as exc:
        raise TrustctlError(str(exc)) from None


@fails_cleanly
def sample(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write into.")],
    decisions: Annotated[
        int | None,
        typer.Option(
            "--decisions",
            min=1,
            max=100_000_000,
            help="How many decisions to generate (about, with --start or --days). "
            "Default: 6000 over 180 days, or that rate's end in a window.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed (same seed, same bytes).")
    ] = 7,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="The window's first day (ISO-8601): a log that follows an earlier one. "
            "Default: 180 days (or --days) before 2026-11-20, where the shipped sample starts.",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help="How many days the log covers. Default: 7 with --start."),
    ] = None,
    id_prefix: Annotated[
        str, typer.Option("--id-prefix", help="Decision ids start with this (e.g. w48-).")
    ] = "d-",
) -> None:
    """Write a realistic synthetic decision log (decisions.csv) into a directory.

    Examples:

    \b
      trustctl sample -o logs/w47
      trustctl sample -o logs/w48 --start 2026-11-20 --days 7 --id-prefix w48- --seed 48
    """
    from trustctl.sample import write_sample

    if start is None and days is None and id_prefix == "d-":
        path = write_sample(output, decisions=decisions or 6000, seed=seed)
        say(f"wrote {decisions or 6000} decisions to {path}")
        return
    from trustctl.errors import TrustctlError
    from trustctl.sample import DEFAULT_END, SPAN_DAYS, write_frame
    from trustctl.sample_window import generate_window

    first = instant(start, "--start")
    if days is not None and not 1 <= days <= SPAN_DAYS:  # before any date arithmetic with it
        raise TrustctlError(f"--days: between 1 and {SPAN_DAYS}, got {days}")
    if days is None:
        days = SPAN_DAYS if first is None else 7
    if first is None:
        first = DEFAULT_END - dt.timedelta(days=days)
    frame = generate_window(decisions, seed, first, days, id_prefix)
    path = write_frame(output, frame)
    say(f"wrote {frame['decision_id'].nunique()} decisions to {path}")
