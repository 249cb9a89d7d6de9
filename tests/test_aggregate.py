"""`trustctl aggregate` and `generate --evidence`: evidence computed apart gives the same policy."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from clirun import failure, policy_yaml, run
from conftest import SAMPLE_CSV, sample_rows


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path``, so the paths a policy lists are the same relative ones."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _partition(root: Path, by: str) -> list[Path]:
    """Split the sample into files, all rows of a decision together.

    ``by="week"``: hive-style ``week=YYYY-MM-DD/`` directories by the UTC week (its Monday)
    of each decision's first row, about 26 of them (daily ones check nothing more and take
    seven times as long); ``by="hash"``: four files by decision id.
    """
    header, rows = sample_rows()
    index_id, index_time = header.index("decision_id"), header.index("timestamp")
    first_day: dict[str, str] = {}
    for r in rows:
        first_day.setdefault(r[index_id], r[index_time][:10])
        first_day[r[index_id]] = min(first_day[r[index_id]], r[index_time][:10])
    parts: dict[str, list[list[str]]] = {}
    for r in rows:
        name = (
            f"week={_monday(first_day[r[index_id]])}/part.csv"
            if by == "week"
            else f"part-{sum(map(ord, r[index_id])) % 4}.csv"
        )
        parts.setdefault(name, []).append(r)
    written = []
    for name, chosen in sorted(parts.items()):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(chosen)
        written.append(path)
    return written


def _monday(day: str) -> str:
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()


def test_one_evidence_file_gives_the_policy_of_its_logs(here: Path) -> None:
    logs = here / "logs"
    logs.mkdir()
    (logs / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    result = run("aggregate", "logs", "-o", "evidence.parquet")
    assert result.exit_code == 0, result.output
    assert "6000 decisions, 6852 rows" in result.stdout
    assert policy_yaml("--evidence", "evidence.parquet") == policy_yaml("logs")


@pytest.mark.parametrize("by", ["week", "hash"])
def test_evidence_split_into_many_files_gives_the_same_policy(here: Path, by: str) -> None:
    parts = _partition(here / "logs", by)
    assert len(parts) >= 4
    out = here / "evidence"
    out.mkdir()
    for index, part in enumerate(parts):
        relative = part.relative_to(here)
        result = run("aggregate", relative, "-o", out / f"{index:03d}.parquet")
        assert result.exit_code == 0, result.output
    from_logs = policy_yaml("logs")
    assert policy_yaml("--evidence", "evidence") == from_logs
    # The files merge in any grouping: half of them by name, half as a directory.
    some = sorted(out.iterdir())
    assert policy_yaml("--evidence", *some) == from_logs


def test_aggregated_as_of_gives_the_time_travel_policy(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    as_of = "2026-10-01T12:00:00Z"
    assert run("aggregate", "decisions.csv", "--as-of", as_of, "-o", "e.parquet").exit_code == 0
    from_logs = policy_yaml("decisions.csv", "--as-of", as_of)
    assert policy_yaml("--evidence", "e.parquet") == from_logs
    assert policy_yaml("--evidence", "e.parquet", "--as-of", as_of) == from_logs


def test_evidence_with_a_previous_policy(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    old = "2026-09-01T00:00:00Z"
    assert run("generate", "decisions.csv", "--as-of", old, "-o", "old.yaml").exit_code == 0
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    assert policy_yaml("--evidence", "e.parquet", "--previous", "old.yaml") == policy_yaml(
        "decisions.csv", "--previous", "old.yaml"
    )


def test_aggregate_is_deterministic(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "a.parquet").exit_code == 0
    assert run("aggregate", "decisions.csv", "-o", "b.parquet").exit_code == 0
    assert (here / "a.parquet").read_bytes() == (here / "b.parquet").read_bytes()


def test_a_warehouse_file_without_trustctl_metadata_is_its_own_source(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table(here / "e.parquet").replace_schema_metadata(None)
    pq.write_table(table, here / "warehouse.parquet")
    with_meta = policy_yaml("--evidence", "e.parquet")
    without = policy_yaml("--evidence", "warehouse.parquet")
    assert without.split("actions:")[1] == with_meta.split("actions:")[1]
    assert "path: warehouse.parquet" in without


def test_evidence_errors_name_the_file_and_exit_2(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    (here / "not.parquet").write_text("hello")
    assert "not.parquet: not a readable Parquet file" in failure(
        run("generate", "--evidence", "not.parquet")
    )
    pq.write_table(pa.table({"x": [1]}), here / "other.parquet")
    assert "other.parquet: not an evidence file: no column 'action_class'" in failure(
        run("generate", "--evidence", "other.parquet")
    )
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    # The same path given twice is one file; a copy of it would count every decision twice.
    assert policy_yaml("--evidence", "e.parquet", "e.parquet") == policy_yaml(
        "--evidence", "e.parquet"
    )
    (here / "copy.parquet").write_bytes((here / "e.parquet").read_bytes())
    assert "decisions.csv: the same log (same sha256) is in more than one evidence file" in (
        failure(run("generate", "--evidence", "e.parquet", "copy.parquet"))
    )
    # The same log named another way (an absolute path, a copy) is the same log.
    absolute = here / "decisions.csv"
    assert run("aggregate", absolute, "-o", "abs.parquet").exit_code == 0
    assert f"{absolute} and decisions.csv: the same log" in failure(
        run("generate", "--evidence", "e.parquet", "abs.parquet")
    )
    assert "before the latest time the evidence holds" in failure(
        run("generate", "--evidence", "e.parquet", "--as-of", "2026-10-01")
    )
    cut = run("aggregate", "decisions.csv", "--as-of", "2026-10-01", "-o", "cut.parquet")
    assert cut.exit_code == 0
    assert "different --as-of values" in failure(
        run("generate", "--evidence", "e.parquet", "cut.parquet")
    )
    assert "after the --as-of the evidence was aggregated at" in failure(
        run("generate", "--evidence", "cut.parquet", "--as-of", "2026-10-02")
    )
    assert not (here / "policy.yaml").exists()


def test_a_bad_value_in_an_evidence_file_names_row_and_column(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table(here / "e.parquet")
    modes = table.column("mode").to_pylist()
    modes[5] = "boss"
    table = table.set_column(table.schema.get_field_index("mode"), "mode", pa.array(modes))
    pq.write_table(table, here / "bad.parquet")
    assert "bad.parquet:row 5: column 'mode': 'boss' is not valid" in failure(
        run("generate", "--evidence", "bad.parquet")
    )


def _rewrite(here: Path, name: str, change: dict[str, object], metadata: bool = True) -> Path:
    """A copy of ``e.parquet`` with some column's values replaced (a list per column)."""
    table = pq.read_table(here / "e.parquet")
    for column, values in change.items():
        index = table.schema.get_field_index(column)
        table = table.set_column(
            index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
        )
    if not metadata:
        table = table.replace_schema_metadata(None)
    pq.write_table(table, here / name)
    return here / name


def test_a_segment_with_decisions_needs_its_first_and_last(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    rows = pq.read_metadata(here / "e.parquet").num_rows
    _rewrite(here, "nofirst.parquet", {"first_at": [None] * rows}, metadata=False)
    assert "nofirst.parquet:row 0: column 'first_at': None is missing where decisions > 0" in (
        failure(run("generate", "--evidence", "nofirst.parquet"))
    )


def test_bad_evidence_metadata_is_an_error_not_a_crash(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table(here / "e.parquet")
    meta = json.loads(table.schema.metadata[b"trustctl.evidence"])
    for key, value, expected in (
        ("until", "garbage", "evidence metadata 'until' is not valid"),
        ("until", 7, "evidence metadata 'until' is not valid"),
        ("report", "x", "evidence metadata is incomplete"),
        ("report", {**meta["report"], "rows": "x"}, "evidence metadata is not valid"),
    ):
        broken = {**meta, key: value}
        pq.write_table(
            table.replace_schema_metadata({b"trustctl.evidence": json.dumps(broken)}),
            here / "broken.parquet",
        )
        assert expected in failure(run("generate", "--evidence", "broken.parquet"))


def test_a_group_with_only_a_critical_failure_row_and_a_previous_level(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "e.parquet").exit_code == 0
    assert run("generate", "decisions.csv", "-o", "old.yaml").exit_code == 0
    table = pq.read_table(here / "e.parquet")
    crit = table.filter(pc.greater(table["critical_failures"], 0)).slice(0, 1)
    # The failure's own proposal row is left out: only its critical-failure row remains.
    only = crit.set_column(
        crit.schema.get_field_index("decisions"), "decisions", pa.array([0], pa.int64())
    )
    for name in ("first_at", "first_id", "last_at", "last_id", "last_recorded_at"):
        index = only.schema.get_field_index(name)
        only = only.set_column(
            index, only.schema.field(index), pa.nulls(1, only.schema.field(index).type)
        )
    pq.write_table(only, here / "critonly.parquet")
    result = run(
        "generate",
        "--evidence",
        "critonly.parquet",
        "--previous",
        "old.yaml",
        "--as-of",
        "2026-11-20",
    )
    assert result.exit_code == 0, result.output
