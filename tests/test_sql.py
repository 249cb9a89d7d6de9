"""`trustctl sql`: the DuckDB query gives exactly trustctl's evidence; every dialect renders.

The DuckDB form runs in DuckDB over logs loaded from CSV as all-text tables and is
compared, every column and row, with what ``trustctl aggregate`` writes for the same logs:
the shipped sample and a hand-built log of event rows (``enginecheck.event_log``). The
Spark and PostgreSQL forms run in real engines in ``test_sql_spark.py`` and
``test_sql_postgres.py``. BigQuery has no engine here: its form is parsed and transpiled
with sqlglot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from conftest import SAMPLE_CSV
from enginecheck import (
    CUTS,
    ZONES,
    aggregated,
    assert_same,
    assert_same_policy,
    event_log,
    sampled_and_banded,
)
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from trustctl import __version__, segments
from trustctl.bands import Bands
from trustctl.sql import DIALECTS, render


@pytest.fixture(scope="module")
def event_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql") / "events.csv"
    return event_log().write(path, shuffle=7)


@pytest.fixture(scope="module")
def want_events(event_csv: Path) -> pa.Table:
    """What ``trustctl aggregate`` writes for the event log."""
    return aggregated(event_csv, event_csv.with_suffix(".parquet"))


@pytest.fixture(scope="module")
def want_sample(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    return aggregated(SAMPLE_CSV, tmp_path_factory.mktemp("sql") / "sample.parquet")


def test_the_event_log_covers_what_it_should(want_events: pa.Table) -> None:
    """The hand-built log is valid and has the cases the SQL has to reproduce."""
    table = want_events.to_pylist()
    by_first = {row["first_id"]: row for row in table}
    assert by_first["t-0"]["decisions"] == 6
    assert (by_first["t-0"]["first_id"], by_first["t-0"]["last_id"]) == ("t-0", "t-z")
    critical = [r for r in table if r["critical_failures"] and not r["decisions"]]
    assert [(r["critical_failures"], r["critical_id"]) for r in critical] == [(3, "crit-c")]
    assert any(r["critical_failures"] and r["decisions"] for r in table)
    assert {r["mode"] for r in table} == {"observe", "suggest", "auto_notify", "full"}
    assert [r["action_class"] for r in table][:1] == ["K8s.restart_pod"]
    services = [r["service"] for r in table if r["action_class"] == "k8s.restart_pod"]
    assert services == ["zeta", "été"]
    forms = {r["first_id"]: r["first_at"].isoformat() for r in table if r["service"][:5] == "form-"}
    assert forms == {
        "f-0": "2026-01-12T10:00:00+00:00",
        "f-1": "2026-01-12T10:00:00+00:00",
        "f-2": "2026-01-12T10:00:00.500000+00:00",
        "f-3": "2026-01-12T04:30:00.120000+00:00",
        "f-4": "2026-01-12T04:30:00.123000+00:00",
        "f-5": "2026-01-11T22:00:00+00:00",
        "f-6": "2026-01-12T10:00:00+00:00",
        "f-7": "2026-01-13T07:00:00.123400+00:00",
        "f-8": "2026-01-12T23:30:00.123450+00:00",
        "f-9": "2026-01-13T11:59:59.999999+00:00",
    }


# --- DuckDB --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_module() -> Any:
    return pytest.importorskip("duckdb")


def run_duckdb(
    duckdb: Any, path: Path, zone: str = "UTC", table: str = "decisions", **options: Any
) -> pa.Table:
    """The DuckDB query's result over ``path`` loaded as an all-text table (``options``:
    ``render``'s, ``review_sampled`` and ``bands``)."""
    connection = duckdb.connect()
    try:
        connection.execute(f"SET TimeZone = '{zone}'")
        connection.execute("CREATE SCHEMA logs")
        connection.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
        result: pa.Table = connection.sql(render("duckdb", table, **options)).to_arrow_table()
        return result
    finally:
        connection.close()


def test_duckdb_on_the_sample_gives_trustctls_segments(
    duckdb_module: Any, want_sample: pa.Table
) -> None:
    got = run_duckdb(duckdb_module, SAMPLE_CSV)
    assert got.schema == segments.SCHEMA  # the session is UTC: even the zone names match
    assert_same(got, want_sample)


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_on_event_rows_gives_trustctls_segments(
    duckdb_module: Any, event_csv: Path, want_events: pa.Table, zone: str
) -> None:
    got = run_duckdb(duckdb_module, event_csv, zone)
    assert_same(got.cast(segments.SCHEMA), want_events)


def test_duckdb_reads_a_dotted_table_name(
    duckdb_module: Any, event_csv: Path, want_events: pa.Table
) -> None:
    got = run_duckdb(duckdb_module, event_csv, table="memory.logs.decisions")
    assert_same(got, want_events)


def test_duckdb_parquet_export_reads_back_as_segments(
    duckdb_module: Any, event_csv: Path, want_events: pa.Table, tmp_path: Path
) -> None:
    """The header's export recipe gives a file with trustctl's column names and types."""
    out = tmp_path / "segments.parquet"
    connection = duckdb_module.connect()
    try:
        connection.execute("SET TimeZone = 'America/Los_Angeles'")
        connection.execute(
            "CREATE TABLE decisions AS SELECT * FROM read_csv(?, all_varchar = true)",
            [str(event_csv)],
        )
        connection.execute(f"COPY ({render('duckdb', 'decisions')}) TO '{out}' (FORMAT parquet)")
    finally:
        connection.close()
    table = pq.read_table(out).replace_schema_metadata(None)
    assert table.schema == segments.SCHEMA
    assert_same(table, want_events)


# --- every dialect: renders, names every column, parses ------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_renders_the_segment_columns(dialect: str) -> None:
    query = render(dialect, "project.dataset.decisions")
    header = [line for line in query.splitlines() if line.startswith("--")]
    text = "\n".join(header)
    assert f"trustctl {__version__}" in text
    assert "trustctl validate" in text
    assert "trustctl generate --evidence" in text
    assert "Parquet" in text
    quote = "`" if dialect in ("spark", "bigquery") else '"'
    select = query[query.rindex("\nSELECT") + 1 :]
    aliases = [line.rsplit(" AS ", 1)[1].rstrip(",") for line in select.splitlines()[1:-2]]
    assert aliases == [f"{quote}{name}{quote}" for name in segments.SCHEMA.names]
    assert f"FROM {quote}project{quote}.{quote}dataset{quote}.{quote}decisions{quote}" in query
    assert query.count("ORDER BY") >= 1 and query.rstrip().splitlines()[-1].startswith("ORDER BY")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_in_its_own_grammar(dialect: str) -> None:
    statements = sqlglot.parse(render(dialect, "my-project.logs.decisions"), read=dialect)
    assert len(statements) == 1
    assert statements[0].named_selects == segments.SCHEMA.names


def test_the_bigquery_form_parses_and_transpiles() -> None:
    """The only check the BigQuery form has (no BigQuery here): sqlglot reads it strictly,
    knows every function it calls, and writes it out again as BigQuery."""
    query = render("bigquery", "my-project.logs.decisions")
    (tree,) = sqlglot.parse(query, read="bigquery", error_level=ErrorLevel.RAISE)
    assert [f.sql("bigquery") for f in tree.find_all(exp.Anonymous)] == []
    (written,) = sqlglot.transpile(
        query, read="bigquery", write="bigquery", unsupported_level=ErrorLevel.RAISE
    )
    again = sqlglot.parse_one(written, read="bigquery")
    assert again.named_selects == segments.SCHEMA.names
    assert len(list(again.find_all(exp.ArrayAgg))) == 4


def test_each_dialect_uses_its_own_constructs() -> None:
    duck, spark, bigquery, postgres = (render(d, "t") for d in DIALECTS)
    assert "arg_min(" in duck and "arg_max(" in duck and "TIMESTAMPTZ" in duck
    assert "min_by(" in spark and "max_by(" in spark and "UNIX_MICROS" in spark
    assert "LIMIT 1)[OFFSET(0)]" in bigquery and "DATE(decided_at, 'UTC')" in bigquery
    assert "timestamptz" in postgres and 'COLLATE "C"' in postgres


@pytest.mark.parametrize("dialect", ["", "DuckDB", "mysql", "sqlite", "duckdb "])
def test_an_unknown_dialect_is_refused(dialect: str) -> None:
    with pytest.raises(
        ValueError, match=r"unknown SQL dialect .*duckdb, spark, bigquery, postgres"
    ):
        render(dialect, "decisions")


@pytest.mark.parametrize(
    "table",
    [
        "",
        "decisions; DROP TABLE decisions",
        'decisions"',
        "decisions`",
        "de cisions",
        "decisions--",
        "-decisions",
        "a..b",
        ".decisions",
        "decisions.",
        "a.b.c.d.e",
        "decisions/*",
        "x" * 129,
        "décisions",
        "decisions\n",
    ],
)
def test_a_table_name_that_could_inject_is_refused(table: str) -> None:
    for dialect in DIALECTS:
        with pytest.raises(ValueError, match="table name"):
            render(dialect, table)


@pytest.mark.parametrize(
    ("dialect", "table", "quoted"),
    [
        ("duckdb", "decisions", '"decisions"'),
        ("postgres", "audit.Decisions_2026", '"audit"."Decisions_2026"'),
        ("spark", "catalog.db.decisions", "`catalog`.`db`.`decisions`"),
        ("bigquery", "my-project.ops_logs.decisions", "`my-project`.`ops_logs`.`decisions`"),
    ],
)
def test_table_names_are_quoted_part_by_part(dialect: str, table: str, quoted: str) -> None:
    assert f"FROM {quoted}\n" in render(dialect, table)


def test_the_cli_offers_exactly_the_dialects_render_knows() -> None:
    from trustctl.cli_evidence import Dialect

    assert tuple(member.value for member in Dialect) == DIALECTS


# --- review_sampled and confidence bands -----------------------------------------------------

BANDS = Bands((0.3, 0.9))


@pytest.fixture(scope="module")
def sampled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql") / "sampled.csv"
    return sampled_and_banded(event_log()).write(path, shuffle=11)


def test_the_sampled_log_has_what_it_should(sampled_csv: Path, tmp_path: Path) -> None:
    table = aggregated(sampled_csv, tmp_path / "a.parquet", "--set", CUTS).to_pylist()
    assert sum(r["unsampled"] for r in table) > 0 and sum(r["sampling_unknown"] for r in table)
    assert {r["confidence"] for r in table} == {"<0.3", ">=0.3,<0.9", ">=0.9", "none"}


@pytest.mark.parametrize("zone", ZONES[:2])
def test_duckdb_reads_review_sampled_as_aggregate_does(
    duckdb_module: Any, sampled_csv: Path, tmp_path: Path, zone: str
) -> None:
    got = run_duckdb(duckdb_module, sampled_csv, zone, review_sampled=True)
    assert_same(got.cast(segments.SCHEMA), aggregated(sampled_csv, tmp_path / "a.parquet"))


def test_duckdb_bands_as_aggregate_does_and_gives_the_same_policy(
    duckdb_module: Any, sampled_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = run_duckdb(duckdb_module, sampled_csv, "Asia/Kolkata", review_sampled=True, bands=BANDS)
    assert got.schema.names == segments.BANDED_SCHEMA.names
    want = aggregated(sampled_csv, tmp_path / "a.parquet", "--set", CUTS)
    assert_same(got.cast(segments.BANDED_SCHEMA), want)
    monkeypatch.chdir(tmp_path)
    pq.write_table(got, "duckdb.parquet")
    assert_same_policy(Path("duckdb.parquet"), sampled_csv, "--set", CUTS)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_names_the_band_column_and_parses(dialect: str) -> None:
    query = render(dialect, "my-project.logs.decisions", review_sampled=True, bands=BANDS)
    (tree,) = sqlglot.parse(query, read=dialect, error_level=ErrorLevel.RAISE)
    assert tree.named_selects == segments.BANDED_SCHEMA.names
    assert "review_sampled" in query and "CAST('0.3' AS" in query


def test_without_options_the_query_is_as_it_was() -> None:
    for dialect in DIALECTS:
        plain = render(dialect, "t")
        assert "review_sampled" not in plain and "ai_confidence" not in plain
        assert plain == render(dialect, "t", review_sampled=False, bands=Bands())
