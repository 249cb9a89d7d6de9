"""`trustctl sql --dialect spark` in a real Spark session gives trustctl's evidence.

One local session (``local[2]``) for the module. Each log is read as the README's recipe
reads it (CSV, every column text), the query runs, and its result is written as Parquet
as the query's header says; the files are compared, row for row and column for column,
with what ``trustctl aggregate`` writes for the same log, and ``generate --evidence`` on
them gives the policy of the log. Skipped only when there is no Java.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_CSV
from enginecheck import (
    CUTS,
    aggregated,
    assert_same,
    assert_same_policy,
    event_log,
    sampled_and_banded,
)
from pyspark.sql import DataFrame, SparkSession

from trustctl import segments
from trustctl.bands import Bands
from trustctl.sql import render

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),  # one session: every test on the same worker
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java (java not on PATH, JAVA_HOME unset): Spark needs Java 17 or later")
    scratch = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("trustctl-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(scratch))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        # A few thousand rows: 200 shuffle partitions would be all overhead; two, kept
        # apart, make the sample's evidence a folder of two part files.
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
        # A JVM that lives seconds: the quick compiler only, no garbage collector threads.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        # Not UTC: the query must not depend on the session's zone.
        .config("spark.sql.session.timeZone", "America/Los_Angeles")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def evidence(spark: SparkSession, log: Path, **options: Any) -> DataFrame:
    """The query over ``log`` read as the README's recipe reads logs: every column text
    (``options``: ``render``'s)."""
    rows = spark.read.csv(str(log.resolve()), header=True, escape='"', multiLine=True)
    rows.createOrReplaceTempView("decisions")
    return spark.sql(render("spark", "decisions", **options))


def test_event_rows_give_what_aggregate_writes(spark: SparkSession, tmp_path: Path) -> None:
    log = event_log().write(tmp_path / "events.csv", shuffle=7)
    # As the query's header says: one file, in the query's order.
    evidence(spark, log).coalesce(1).write.parquet(str(tmp_path / "spark"))
    (written,) = (tmp_path / "spark").glob("*.parquet")
    got = pq.read_table(written)
    # The same names and types (Spark knows the key columns are never null).
    assert got.schema.types == segments.SCHEMA.types
    assert_same(got.cast(segments.SCHEMA), aggregated(log, tmp_path / "aggregate.parquet"))


def test_the_sample_gives_what_aggregate_writes_and_the_same_policy(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = Path("decisions.csv")
    shutil.copyfile(SAMPLE_CSV, log)
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
    # As the README's recipe writes it: a folder of part files, passed as it is. (The JVM
    # has its own working directory: Spark is given absolute paths.)
    evidence(spark, log).write.parquet(str(tmp_path / "evidence"))
    parts = sorted(Path("evidence").glob("*.parquet"))
    assert len(parts) == 2
    got = pa.concat_tables(pq.read_table(part) for part in parts).cast(segments.SCHEMA)
    want = aggregated(log, tmp_path / "aggregate.parquet")
    assert_same(got, want)
    assert_same_policy(Path("evidence"), log)


def test_review_sampled_and_bands_give_what_aggregate_writes(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = sampled_and_banded(event_log()).write(tmp_path / "sampled.csv", shuffle=11)
    bands = Bands((0.3, 0.9))
    evidence(spark, log, review_sampled=True, bands=bands).coalesce(1).write.parquet(
        str(tmp_path / "spark")
    )
    (written,) = Path("spark").glob("*.parquet")
    got = pq.read_table(written).cast(segments.BANDED_SCHEMA)
    assert_same(got, aggregated(log, tmp_path / "a.parquet", "--set", CUTS))
    assert_same_policy(written, Path("sampled.csv"), "--set", CUTS)
