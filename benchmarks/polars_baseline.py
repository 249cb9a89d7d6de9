"""The polars baseline: the evidence table of one log file, as a data engineer would compute it.

    python benchmarks/polars_baseline.py LOG -o evidence.json

LOG is a CSV or Parquet decision log. One lazy query, run on the streaming engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl
from evidence import REVIEWED, TRUE_SPELLINGS, WINDOW_DAYS, evidence, write


def _utc_time(column: str, dtype: pl.DataType) -> pl.Expr:
    """A log's time as a UTC datetime: Parquet's typed column, or ISO-8601 text.

    Text is mostly ``...Z``, which the fast fixed format reads; only the rest (an offset, or
    no zone, which means UTC) goes through the slower general parsers.
    """
    text = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return text.dt.replace_time_zone("UTC")
        return text.dt.convert_time_zone("UTC")
    zulu = text.str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="us", strict=False)
    rest = pl.when(zulu.is_null()).then(text)
    with_offset = rest.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False
    )
    naive = rest.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False)
    return pl.coalesce(
        zulu.dt.replace_time_zone("UTC"), with_offset, naive.dt.replace_time_zone("UTC")
    )


def _executed(dtype: pl.DataType) -> pl.Expr:
    """``executed`` as a boolean: Parquet's typed column, or any spelling of true in text."""
    if dtype == pl.Boolean:
        return pl.col("executed")
    return pl.col("executed").str.to_lowercase().is_in(TRUE_SPELLINGS)


def evidence_query(path: Path) -> pl.LazyFrame:
    """One row per action class: the window's first day and every count."""
    if path.suffix == ".parquet":
        log = pl.scan_parquet(path)
    else:  # every column as text, as a log's columns are until checked; empty is null
        log = pl.scan_csv(path, infer_schema=False)
    schema = log.collect_schema()
    human, outcome = pl.col("human_decision"), pl.col("outcome")
    # Each text field becomes the flags the counts need before the merge, so the merge
    # reduces booleans, not strings (a null field gives a null flag, which any() skips).
    rows = log.select(
        "decision_id",
        "action_class",
        _utc_time("timestamp", schema["timestamp"]).alias("ts"),
        _executed(schema["executed"]).alias("executed"),
        human.is_in(REVIEWED).alias("reviewed"),
        (human == "approved").alias("agreed"),
        (human == "timeout").alias("timeout"),
        (outcome == "success").alias("success"),
        (outcome == "failure").alias("failure"),
        (pl.col("severity") == "critical").alias("critical"),
    )
    # Event rows merged per decision: its time is its earliest row's, the time it was recorded
    # its latest row's; every other field is its one non-empty value (max skips nulls), and
    # a flag is set when the row that gives the field sets it.
    flags = ("executed", "reviewed", "agreed", "timeout", "success", "failure", "critical")
    decisions = rows.group_by("decision_id").agg(
        pl.col("ts").min().alias("decided_at"),
        pl.col("ts").max().alias("recorded_at"),
        pl.col("action_class").max(),
        pl.col(*flags).any(),
    )
    # as_of = the latest row; the window's first day is the UTC day of as_of - 180 days,
    # rounded up to the next midnight unless it is one.
    start = pl.col("recorded_at").max() - pl.duration(days=WINDOW_DAYS)
    first_day = (
        pl.when(start.dt.time() == dt.time(0))
        .then(start.dt.date())
        .otherwise(start.dt.date().dt.offset_by("1d"))
    )
    counted = pl.col("decided_at").dt.date() >= pl.col("first_day")
    executed = counted & pl.col("executed")
    verified = executed & (pl.col("success") | pl.col("failure"))
    critical = (
        (pl.col("recorded_at").dt.date() >= pl.col("first_day"))
        & pl.col("executed")
        & pl.col("failure")
        & pl.col("critical")
    )
    return (
        decisions.with_columns(first_day.alias("first_day"))
        .group_by("action_class")
        .agg(
            pl.col("first_day").first(),
            counted.sum().alias("decisions"),
            (counted & pl.col("reviewed")).sum().alias("reviewed"),
            (counted & pl.col("agreed")).sum().alias("agreed"),
            (counted & pl.col("timeout")).sum().alias("timeouts"),
            executed.sum().alias("executed"),
            verified.sum().alias("verified"),
            (executed & pl.col("success")).sum().alias("succeeded"),
            (executed & ~verified).sum().alias("unverified"),
            critical.sum().alias("critical_failures"),
        )
        .sort("action_class")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    arguments = parser.parse_args()
    table = evidence_query(arguments.log).collect(engine="streaming")
    first_day = table["first_day"][0].isoformat() if table.height else ""
    write(arguments.output, evidence(first_day, table.to_dicts()))


if __name__ == "__main__":
    main()
