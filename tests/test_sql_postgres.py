"""`trustctl sql --dialect postgres` in a real PostgreSQL server gives trustctl's evidence.

The module starts one throwaway server (Debian's ``postgresql`` package, as a user other
than root, on a Unix socket in a temporary directory, no TCP), loads each log with
``COPY`` into an all-text table, runs the query with psycopg and compares the result, row
for row and column for column, with what ``trustctl aggregate`` writes for the same log;
the result written as Parquet gives, with ``generate --evidence``, the policy of the log.
Skipped only when the server is not installed.
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

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
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

from trustctl import segments
from trustctl.bands import Bands
from trustctl.sql import render

#: One server: every test on the same worker (``--dist loadgroup``).
pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("postgres")]

Query = Callable[..., pa.Table]


def _postgres_schema(schema: pa.Schema) -> pa.Schema:
    """The result's types: PostgreSQL has no 8-bit integer, so the tiers are ``smallint``."""
    return pa.schema(
        [
            pa.field(f.name, pa.int16()) if f.name in ("system_tier", "risk_tier") else f
            for f in schema
        ]
    )


def _pg_ctl() -> str:
    """The server's control program: on the PATH, or Debian's newest (kept off the PATH)."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        return on_path
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if not debian:
        pytest.skip("PostgreSQL is not installed (no pg_ctl; Debian: apt-get install postgresql)")
    return str(debian[-1])


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


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A new server's connection string; stopped and removed after the module."""
    control = _pg_ctl()
    home = Path(tempfile.mkdtemp(prefix="trustctl-pg-"))
    data = home / "data"
    pg_ctl = [*_as_server_user(home), control, "-D", str(data)]
    try:
        # The default collation is a locale's (ICU's en-US, built into Debian's server), not
        # code point order: the query must sort by code point whatever the database's default.
        _run(
            *pg_ctl, "init", "-o",
            "-A trust -U trustctl --no-sync -E UTF8 --locale=C.UTF-8 --locale-provider=icu "
            "--icu-locale=en-US",
        )  # fmt: skip
        # A Unix socket in a directory of its own and no TCP: nothing else can clash with it.
        options = f"-k {home} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        _run(*pg_ctl, "-l", str(home / "log"), "-w", "-o", options, "start")
        yield f"host={home} user=trustctl dbname=postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def query(server: str) -> Iterator[Query]:
    """Load a log into a table with ``COPY`` and run ``trustctl sql`` on it in a time zone."""
    with psycopg.connect(server, autocommit=True) as connection:

        def run(log: Path, table: str, zone: str, **options: Any) -> pa.Table:
            schema = segments.BANDED_SCHEMA if options.get("bands") else segments.SCHEMA
            with log.open(encoding="utf-8", newline="") as handle:
                header = next(csv.reader(handle))
            columns = ", ".join(f'"{name}" text' for name in header)
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TABLE {table} ({columns})")
                with cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER)") as copy:
                    copy.write(log.read_bytes())
                cursor.execute(f"SET TimeZone = '{zone}'")
                cursor.execute(render("postgres", table, **options))
                assert [c.name for c in cursor.description or ()] == schema.names
                rows = cursor.fetchall()
            return pa.Table.from_pylist(
                [dict(zip(schema.names, row, strict=True)) for row in rows],
                schema=_postgres_schema(schema),
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


def test_review_sampled_and_bands_give_what_aggregate_writes(
    query: Query, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    log = sampled_and_banded(event_log()).write(Path("sampled.csv"), shuffle=11)
    got = query(log, "sampled", "America/Los_Angeles", review_sampled=True)
    assert_same(got.cast(segments.SCHEMA), aggregated(log, tmp_path / "a.parquet"))
    bands = Bands((0.3, 0.9))
    got = query(log, "sampled", "Asia/Kolkata", review_sampled=True, bands=bands)
    want = aggregated(log, tmp_path / "b.parquet", "--set", CUTS)
    assert_same(got.cast(segments.BANDED_SCHEMA), want)
    pq.write_table(got, "postgres.parquet")
    assert_same_policy(Path("postgres.parquet"), log, "--set", CUTS)
