"""`trustctl sql`: the segments query gives, in a real engine, exactly trustctl's segments.

The DuckDB form runs in DuckDB over logs loaded from CSV as all-text tables and is
compared, every column and row, with ``segments.from_decisions`` of the same logs: the
shipped sample and a hand-built log of event rows, naive and offset timestamps, every
spelling of ``executed``, ``auto-notify``, equal timestamps and a critical failure
recorded days after it was proposed. The Postgres form runs the same way in a
throwaway local server when ``initdb``/``pg_ctl``/``psql`` are installed, and the
Spark form in a local Spark when ``pyspark`` and Java are; otherwise those skip.
BigQuery has no engine here: its form is only rendered and parsed (with sqlglot).
"""

from __future__ import annotations

import csv
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_CSV
from logbuilder import LogBuilder

from trustctl import __version__, segments
from trustctl.ingest import load_decisions
from trustctl.sql import DIALECTS, render

#: Session time zones the queries must not depend on (half-hour and negative offsets).
ZONES = ("UTC", "Asia/Kolkata", "America/Los_Angeles")


def expected(path: Path) -> pa.Table:
    """What trustctl itself computes from the log."""
    return segments.to_arrow(segments.from_decisions(load_decisions([path]).frame))


def assert_same(got: pa.Table, want: pa.Table) -> None:
    """Identical tables, with a readable first difference when not."""
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        left, right = got.column(name).to_pylist(), want.column(name).to_pylist()
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert a == b, f"row {index}, column {name!r}: {a!r} != {b!r}"
    assert got.equals(want)


# --- a hand-built log of everything the merge and the segments have to get right ----------


def _event(log: LogBuilder, decision_id: str, timestamp: str, **fields: str) -> None:
    """One more event row: ``decision_id`` at ``timestamp``, every other field empty."""
    row = dict.fromkeys(log.rows[0], "")
    row.update(decision_id=decision_id, timestamp=timestamp, **fields)
    log.rows.append(row)


def event_log() -> LogBuilder:
    """Event streams, every spelling the SQL normalises, and the tie-breaks."""
    log = LogBuilder()
    # Plain decisions; keys that sort differently by code point than by a locale:
    # 'K' < 'd' < 'k', and 'zeta' < 'été'.
    log.clean(0, "k8s.restart_pod", 3, service="zeta", system_tier=2, agent_version="v1")
    log.clean(0, "k8s.restart_pod", 2, service="été", system_tier=2, agent_version="v1")
    log.clean(0, "K8s.restart_pod", 1)
    log.reviewed(
        1, "db.failover", approved=2, rejected=1, modified=1, overridden=1, timeouts=2, risk_tier=3
    )
    log.add(1, "db.failover", 2, mode="auto-notify", executed=True, risk_tier=3)  # unverified
    log.add(1, "db.failover", 1, mode="auto_notify", executed=True, outcome="unknown", risk_tier=3)
    log.add(2, "deploy.rollback", 2, mode="full", outcome="failure", severity="major")
    log.add(2, "deploy.rollback", 1, mode="observe", executed=False)
    for row, spelling in zip(log.rows, ("TRUE", "Yes", "1", "true", "YES"), strict=False):
        row["executed"] = spelling
    log.rows[-1]["executed"] = "No"
    log.rows[-2]["executed"] = "True"
    log.rows[-3]["executed"] = "FALSE"
    log.rows[-3]["human_decision"] = ""
    log.rows[-3]["outcome"] = ""
    log.rows[-3]["severity"] = ""
    # An event stream: proposed (naive time), approved (an offset), outcome the next day;
    # the tiers, service and agent version only come in later rows.
    base = {"action_class": "k8s.scale", "mode": "suggest"}
    _event(log, "e-1", "2026-01-04T10:00:00", executed="", **base)
    _event(log, "e-1", "2026-01-04T12:30:00+02:00", human_decision="approved", executed="yes")
    _event(log, "e-1", "2026-01-05 08:00:00", outcome="success", system_tier="3", risk_tier="2")
    _event(log, "e-1", "2026-01-05T09:00:00.250000Z", service="api", agent_version="v2")
    # Four decisions at one instant, spelt three ways: first_id 't-A', last_id 't-c'.
    for decision_id, stamp in (
        ("t-b", "2026-01-06T07:00:00Z"),
        ("t-A", "2026-01-06T07:00:00"),
        ("t-c", "2026-01-06T09:00:00+02:00"),
        ("t-a", "2026-01-06T07:00:00+00:00"),
    ):
        _event(log, decision_id, stamp, executed="false", **base)
    _event(log, "t-0", "2026-01-06T06:59:59.999999Z", executed="false", **base)
    _event(log, "t-z", "2026-01-06T07:00:00.000001Z", executed="false", **base)
    # Critical failures recorded days after their proposal, three at the same recorded
    # instant: the latest is the largest (timestamp, id), here 'crit-c'.
    crit = {"action_class": "db.failover", "mode": "auto-notify", "risk_tier": "3"}
    for decision_id, proposed in (
        ("crit-a", "2026-01-06T23:00:00Z"),
        ("crit-b", "2026-01-06T20:00:00Z"),
        ("crit-c", "2026-01-07T04:00:00+05:00"),
    ):
        _event(log, decision_id, proposed, executed="1", **crit)
    _event(log, "crit-a", "2026-01-09T01:00:00+03:00", outcome="failure", severity="critical")
    _event(log, "crit-b", "2026-01-08T22:00:00Z", outcome="failure", severity="critical")
    _event(log, "crit-c", "2026-01-08T22:00:00", outcome="failure", severity="critical")
    # One recorded on its proposal's day, one a day later on a day with decisions of its own.
    _event(log, "crit-d", "2026-01-02T05:00:00Z", executed="true", outcome="failure",
           severity="critical", **crit)  # fmt: skip
    _event(log, "crit-e", "2026-01-01T23:30:00-01:00", executed="true", **crit)
    _event(log, "crit-e", "2026-01-02T06:00:00Z", outcome="failure", severity="critical")
    # Offsets and naive times that move a decision across UTC midnight, a date alone.
    _event(log, "m-1", "2026-01-11T01:30:00+05:30", executed="no", **base)  # 10th, 20:00Z
    _event(log, "m-2", "2026-01-10T22:00:00-05:00", executed="no", **base)  # 11th, 03:00Z
    _event(log, "m-3", "2026-01-11", executed="no", **base)  # 11th, 00:00Z
    _event(log, "m-4", "2026-01-10 23:59:59.999999", executed="no", **base)
    return log


@pytest.fixture(scope="module")
def event_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sql") / "events.csv"
    return event_log().write(path, shuffle=7)


def test_the_event_log_covers_what_it_should(event_csv: Path) -> None:
    """The hand-built log is valid and has the cases the SQL has to reproduce."""
    table = expected(event_csv).to_pylist()
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


# --- DuckDB --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_module() -> Any:
    return pytest.importorskip("duckdb")


def run_duckdb(duckdb: Any, path: Path, zone: str = "UTC", table: str = "decisions") -> pa.Table:
    """The DuckDB query's result over ``path`` loaded as an all-text table."""
    connection = duckdb.connect()
    try:
        connection.execute(f"SET TimeZone = '{zone}'")
        connection.execute("CREATE SCHEMA logs")
        connection.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)",
            [str(path)],
        )
        result: pa.Table = connection.sql(render("duckdb", table)).to_arrow_table()
        return result
    finally:
        connection.close()


def test_duckdb_on_the_sample_gives_trustctls_segments(duckdb_module: Any) -> None:
    got = run_duckdb(duckdb_module, SAMPLE_CSV)
    assert got.schema == segments.SCHEMA  # the session is UTC: even the zone names match
    assert_same(got, expected(SAMPLE_CSV))


@pytest.mark.parametrize("zone", ZONES)
def test_duckdb_on_event_rows_gives_trustctls_segments(
    duckdb_module: Any, event_csv: Path, zone: str
) -> None:
    got = run_duckdb(duckdb_module, event_csv, zone)
    assert_same(got.cast(segments.SCHEMA), expected(event_csv))


def test_duckdb_reads_a_dotted_table_name(duckdb_module: Any, event_csv: Path) -> None:
    got = run_duckdb(duckdb_module, event_csv, table="memory.logs.decisions")
    assert_same(got, expected(event_csv))


def test_duckdb_parquet_export_reads_back_as_segments(
    duckdb_module: Any, event_csv: Path, tmp_path: Path
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
    table = pq.read_table(out)
    assert table.schema.remove_metadata() == segments.SCHEMA
    want = segments.from_decisions(load_decisions([event_csv]).frame)
    assert segments.from_arrow(table).equals(want)


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
    assert aliases == [f"{quote}{name}{quote}" for name in segments.COLUMNS]
    assert f"FROM {quote}project{quote}.{quote}dataset{quote}.{quote}decisions{quote}" in query
    assert query.count("ORDER BY") >= 1 and query.rstrip().splitlines()[-1].startswith("ORDER BY")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_in_its_own_grammar(dialect: str) -> None:
    sqlglot = pytest.importorskip("sqlglot")
    statements = sqlglot.parse(render(dialect, "my-project.logs.decisions"), read=dialect)
    assert len(statements) == 1
    assert statements[0].named_selects == list(segments.COLUMNS)


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


# --- PostgreSQL: a throwaway local server, when one can be started -------------------------


def _postgres_tools() -> dict[str, str]:
    tools = {name: shutil.which(name) for name in ("initdb", "pg_ctl", "psql")}
    missing = [name for name, found in tools.items() if found is None]
    if missing:
        pytest.skip(f"PostgreSQL is not installed (no {', '.join(missing)})")
    return {name: str(found) for name, found in tools.items()}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """``psql`` against a new server on a Unix socket in a temporary directory."""
    tools = _postgres_tools()
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as 'postgres'
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run a server")
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root and there is no runuser to start a server")
        as_user = [runuser, "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="trustctl-pg-"))
    if as_user:
        os.chown(home, owner.pw_uid, owner.pw_gid)
    data = home / "data"
    init = [tools["initdb"], "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
    # A default collation that does not sort by code point, when ICU is there: the query
    # must not depend on it.
    icu_locale = ["-E", "UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US"]
    icu = subprocess.run([*as_user, *init, *icu_locale], capture_output=True, text=True)
    if icu.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        plain = subprocess.run([*as_user, *init], capture_output=True, text=True)
        if plain.returncode != 0:
            shutil.rmtree(home, ignore_errors=True)
            pytest.skip(f"initdb failed: {plain.stderr.strip()[:300]}")
    # A Unix socket in a directory of its own, no TCP: nothing else can clash with it.
    options = f"-k {home} -c listen_addresses='' -p 54329 -c fsync=off"
    start = [tools["pg_ctl"], "-D", str(data), "-o", options, "-l", str(home / "log"), "-w"]
    started = subprocess.run([*as_user, *start, "start"], capture_output=True, text=True)
    if started.returncode != 0:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"the PostgreSQL server did not start: {started.stderr.strip()[:300]}")

    def psql(*commands: str, stdin: Path | None = None) -> subprocess.CompletedProcess[str]:
        arguments = [tools["psql"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(home)]
        arguments += ["-p", "54329", "-U", "postgres", "-d", "postgres"]
        for command in commands:
            arguments += ["-c", command]
        with open(stdin or os.devnull, encoding="utf-8") as handle:
            done = subprocess.run(arguments, stdin=handle, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done

    try:
        yield psql
    finally:
        subprocess.run(
            [*as_user, tools["pg_ctl"], "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(home, ignore_errors=True)


def run_postgres(
    psql: Callable[..., subprocess.CompletedProcess[str]], path: Path, table: str, zone: str
) -> pa.Table:
    """Load ``path`` as an all-text table and read the query's result back typed."""
    with open(path, encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{name}" text' for name in header)
    psql(f"DROP TABLE IF EXISTS {table}", f"CREATE TABLE {table} ({columns})")
    psql(f"COPY {table} FROM STDIN (FORMAT csv, HEADER)", stdin=path)
    done = psql(
        f"SET TimeZone = '{zone}'",
        f"COPY ({render('postgres', table)}) TO STDOUT (FORMAT csv, HEADER)",
    )
    types = {field.name: field.type for field in segments.SCHEMA}
    types["system_tier"] = types["risk_tier"] = pa.int16()  # Postgres has no 8-bit integer
    table_read: pa.Table = pacsv.read_csv(
        pa.py_buffer(done.stdout.encode("utf-8")),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    return table_read.cast(segments.SCHEMA)


def test_postgres_on_the_sample_gives_trustctls_segments(
    postgres: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    assert_same(run_postgres(postgres, SAMPLE_CSV, "sample", "Asia/Kolkata"), expected(SAMPLE_CSV))


@pytest.mark.parametrize("zone", ZONES)
def test_postgres_on_event_rows_gives_trustctls_segments(
    postgres: Callable[..., subprocess.CompletedProcess[str]], event_csv: Path, zone: str
) -> None:
    assert_same(run_postgres(postgres, event_csv, "events", zone), expected(event_csv))


# --- Spark: a local session, when pyspark and Java are installed ---------------------------


def test_spark_on_event_rows_gives_trustctls_segments(event_csv: Path, tmp_path: Path) -> None:
    """Slow (a JVM starts); skipped unless pyspark is installed, which the test extra is not."""
    pyspark_sql = pytest.importorskip("pyspark.sql")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java for Spark")
    spark = (
        pyspark_sql.SparkSession.builder.master("local[1]")
        .config("spark.sql.session.timeZone", "America/Los_Angeles")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        spark.read.option("header", True).csv(str(event_csv)).createOrReplaceTempView("decisions")
        result = spark.sql(render("spark", "decisions"))
        order = [tuple(row) for row in result.select("first_id", "critical_id").collect()]
        spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        result.coalesce(1).write.parquet(str(tmp_path / "out"))
    finally:
        spark.stop()
    want = expected(event_csv)
    firsts, criticals = (want.column(name).to_pylist() for name in ("first_id", "critical_id"))
    assert order == list(zip(firsts, criticals, strict=True))
    (written,) = (tmp_path / "out").glob("*.parquet")
    got = segments.to_arrow(segments.merge([segments.from_arrow(pq.read_table(written))]))
    assert_same(got, want)
