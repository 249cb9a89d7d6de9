"""`trustctl sql --dialect postgres` in a real PostgreSQL server gives trustctl's evidence.

The module starts one throwaway server (``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package, as a user other than root, on a Unix socket in a temporary
directory, no TCP), loads each log with ``COPY`` into an all-text table, runs the query
with psycopg and compares the result, row for row and column for column, with what
``trustctl aggregate`` writes for the same log; the result written as Parquet gives, with
``generate --evidence``, the policy of the log. Skipped only when the server's programs are
not installed.
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

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_CSV
from enginecheck import ZONES, aggregated, assert_same, assert_same_policy, event_log

from trustctl import segments
from trustctl.sql import render

#: One server: every test on the same worker (``--dist loadgroup``).
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("postgres")]

Query = Callable[[Path, str, str], pa.Table]

#: The result's types: PostgreSQL has no 8-bit integer, so the tiers are ``smallint``.
POSTGRES_SCHEMA = pa.schema(
    [
        pa.field(f.name, pa.int16()) if f.name in ("system_tier", "risk_tier") else f
        for f in segments.SCHEMA
    ]
)


def _server_programs() -> Path:
    """The directory of ``initdb`` and ``pg_ctl``: on the PATH, or Debian's newest."""
    on_path = shutil.which("initdb")
    if on_path is not None:
        return Path(on_path).resolve().parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if not debian:
        pytest.skip("PostgreSQL is not installed (no initdb; Debian: apt-get install postgresql)")
    return debian[-1].parent


def _as_server_user(home: Path) -> list[str]:
    """The command prefix that runs the server as a user other than root (it refuses root)."""
    if os.geteuid() != 0:
        return []
    name = "postgres" if _user_exists("postgres") else "nobody"
    user = pwd.getpwnam(name)
    os.chown(home, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", name, "--"]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A new server's connection string; stopped and removed after the module."""
    programs = _server_programs()
    home = Path(tempfile.mkdtemp(prefix="trustctl-pg-"))
    as_user = _as_server_user(home)
    data = home / "data"
    # The default collation is a locale's (ICU 'en-US' where there is ICU): the query
    # must sort by code point whatever it is.
    initdb = [str(programs / "initdb"), "-D", str(data), "-A", "trust", "-U", "trustctl"]
    initdb += ["--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]
    icu = ["--locale-provider=icu", "--icu-locale=en-US"]
    if subprocess.run([*as_user, *initdb, *icu], capture_output=True).returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        subprocess.run([*as_user, *initdb], check=True, capture_output=True)
    # A Unix socket in a directory of its own and no TCP: nothing else can clash with it.
    options = f"-k {home} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    pg_ctl = [str(programs / "pg_ctl"), "-D", str(data), "-l", str(home / "log"), "-w"]
    subprocess.run([*as_user, *pg_ctl, "-o", options, "start"], check=True, capture_output=True)
    try:
        yield f"host={home} user=trustctl dbname=postgres"
    finally:
        subprocess.run([*as_user, *pg_ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def query(server: str) -> Iterator[Query]:
    """Load a log into a table with ``COPY`` and run ``trustctl sql`` on it in a time zone."""
    with psycopg.connect(server, autocommit=True) as connection:

        def run(log: Path, table: str, zone: str) -> pa.Table:
            with log.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle))
            columns = ", ".join(f'"{name}" text' for name in header)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TABLE {table} ({columns})")
                with cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER)") as copy:
                    copy.write(log.read_bytes())
                cursor.execute(f"SET TimeZone = '{zone}'")
                cursor.execute(render("postgres", table))
                assert [c.name for c in cursor.description or ()] == list(segments.COLUMNS)
                rows = cursor.fetchall()
            return pa.Table.from_pylist(
                [dict(zip(segments.COLUMNS, row, strict=True)) for row in rows],
                schema=POSTGRES_SCHEMA,
            )

        yield run


@pytest.fixture(scope="module")
def event_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return event_log().write(tmp_path_factory.mktemp("pg") / "events.csv", shuffle=7)


@pytest.fixture(scope="module")
def want_events(event_csv: Path) -> pa.Table:
    return aggregated(event_csv, event_csv.with_suffix(".parquet"))


@pytest.mark.parametrize("zone", ZONES)
def test_event_rows_give_what_aggregate_writes(
    query: Query, event_csv: Path, want_events: pa.Table, zone: str
) -> None:
    assert_same(query(event_csv, "events", zone).cast(segments.SCHEMA), want_events)


def test_the_sample_gives_what_aggregate_writes_and_the_same_policy(
    query: Query, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = Path("decisions.csv")
    shutil.copyfile(SAMPLE_CSV, log)
    got = query(log, "sample", "Asia/Kolkata")
    assert_same(got.cast(segments.SCHEMA), aggregated(log, tmp_path / "aggregate.parquet"))
    # Written as it comes (smallint tiers), as a user's export would be.
    pq.write_table(got, "postgres.parquet")
    assert_same_policy(Path("postgres.parquet"), log)
