"""`--low-memory`: the logs read one slice of decisions at a time give the same results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import policy_yaml, run
from conftest import SAMPLE_CSV, sample_rows

from trustctl import segments, stream
from trustctl.errors import InputError
from trustctl.ingest import load_decisions


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in ``tmp_path`` with slices of about 100 kB: the sample (0.8 MB) takes 9."""
    monkeypatch.setattr(stream, "SLICE_BYTES", 100_000)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_sample_is_read_in_several_slices(here: Path) -> None:
    assert stream.slices_for([SAMPLE_CSV]) == -(-SAMPLE_CSV.stat().st_size // 100_000) > 5


@pytest.mark.slow
@pytest.mark.parametrize("slices", [1, 2, 7, 64])
def test_slices_merge_into_the_segments_and_report_of_the_whole(slices: int) -> None:
    whole = load_decisions([SAMPLE_CSV])
    streamed = stream.stream_segments([SAMPLE_CSV], slices=slices)
    assert segments.to_arrow(streamed.segments).equals(
        segments.to_arrow(segments.from_decisions(whole.frame))
    )
    assert streamed.report == whole.report


def test_low_memory_gives_the_same_policy(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert policy_yaml("decisions.csv", "--low-memory") == policy_yaml("decisions.csv")


@pytest.mark.slow
def test_low_memory_with_as_of_and_previous(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert (
        run("generate", "decisions.csv", "--as-of", "2026-09-01", "-o", "old.yaml").exit_code == 0
    )
    for extra in (["--as-of", "2026-10-15T06:00:00Z"], ["--previous", "old.yaml"]):
        assert policy_yaml("decisions.csv", "--low-memory", *extra) == policy_yaml(
            "decisions.csv", *extra
        )


def test_low_memory_reads_every_format(here: Path) -> None:
    header, rows = sample_rows()
    half = len(rows) // 2
    with (here / "a.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows[:half])
    with (here / "b.jsonl").open("w") as handle:
        for r in rows[half : half + 1000]:
            handle.write(json.dumps(dict(zip(header, r, strict=True))) + "\n")
    table = pa.table({name: [r[i] for r in rows[half + 1000 :]] for i, name in enumerate(header)})
    pq.write_table(table, here / "c.parquet")
    # A decision's event rows may land in different files: both paths merge them alike.
    assert policy_yaml(".", "--low-memory") == policy_yaml(".")
    assert run("check", ".", "--policy", "missing.yaml", "--low-memory").exit_code == 2


def test_aggregate_low_memory_writes_the_same_bytes(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    assert run("aggregate", "decisions.csv", "-o", "a.parquet").exit_code == 0
    assert run("aggregate", "decisions.csv", "--low-memory", "-o", "b.parquet").exit_code == 0
    assert (here / "a.parquet").read_bytes() == (here / "b.parquet").read_bytes()


def _with_bad_rows(here: Path) -> Path:
    header, rows = sample_rows()
    mode = header.index("mode")
    for index in (10, 2000, 5000):
        rows[index][mode] = "boss"
    path = here / "bad.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_bad_row_is_named_by_file_and_line_in_low_memory_too(here: Path) -> None:
    _with_bad_rows(here)
    result = run("generate", "bad.csv", "--low-memory")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "column 'mode': 'boss' is not one of" in result.stderr
    named = {line.removeprefix("error: ").split(": ")[0] for line in result.stderr.splitlines()}
    assert named <= {"bad.csv:12", "bad.csv:2002", "bad.csv:5002"} and named


def test_skipped_rows_are_the_same_in_low_memory(here: Path) -> None:
    _with_bad_rows(here)
    plain = run("generate", "bad.csv", "--on-bad-rows", "skip", "--bad-rows-out", "a.jsonl")
    low = run(
        "generate", "bad.csv", "--on-bad-rows", "skip", "--bad-rows-out", "b.jsonl", "--low-memory"
    )
    assert plain.exit_code == low.exit_code == 0, plain.output + low.output
    assert (here / "a.jsonl").read_text() == (here / "b.jsonl").read_text()
    assert (here / "a.jsonl").read_text().count("\n") >= 3
    assert plain.stdout == low.stdout


def test_every_slice_without_decisions_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    header, _ = sample_rows()
    path.write_text(",".join(header) + "\n")
    with pytest.raises(InputError, match="no decisions"):
        stream.stream_segments([path], slices=3)


def test_as_of_before_every_decision_is_an_error(here: Path) -> None:
    (here / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    result = run("generate", "decisions.csv", "--low-memory", "--as-of", "2000-01-01")
    assert result.exit_code == 2, result.output
    assert result.stderr == run("generate", "decisions.csv", "--as-of", "2000-01-01").stderr


def test_a_parquet_log_is_sliced_by_its_rows_as_its_csv_is(here: Path) -> None:
    """Parquet compresses about tenfold: slices sized by its bytes would hold far more
    rows than those of the same log as CSV."""
    header, rows = sample_rows()
    table = pa.table({name: [r[i] for r in rows] for i, name in enumerate(header)})
    pq.write_table(table, here / "decisions.parquet")
    assert (here / "decisions.parquet").stat().st_size * 5 < SAMPLE_CSV.stat().st_size
    as_csv = stream.slices_for([SAMPLE_CSV])
    assert abs(stream.slices_for([here / "decisions.parquet"]) - as_csv) <= 1
    (here / "broken.parquet").write_bytes(b"not parquet")
    assert stream.slices_for([here / "broken.parquet"]) == 1  # reading it will say why
    assert run("generate", "broken.parquet", "--low-memory").exit_code == 2


def test_arrow_s_memory_pool_is_given_back_after_streaming() -> None:
    before = pa.default_memory_pool().backend_name
    stream.stream_segments([SAMPLE_CSV], slices=2)
    assert pa.default_memory_pool().backend_name == before
