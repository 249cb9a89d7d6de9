"""Logs counted in partitions of their decisions on threads (``ingest.parts``) give exactly
what the logs counted at once give: segments, report, latest time, errors and bad rows."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import policy_yaml
from conftest import SAMPLE_CSV, sample_rows

from trustctl import segments
from trustctl.bands import Bands
from trustctl.errors import InputError
from trustctl.ingest import Counted, OnBadRows, count_decisions, load, parts

_Rows = list[list[str]]


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the partitions of every partitioned read (``read_parts`` spied on)."""
    sizes: list[int] = []
    real = parts.read_parts

    def spy(paths: Sequence[Path], count: int) -> parts.Parted:
        parted = real(paths, count)
        sizes.extend(parted.size(index) for index in range(count))
        return parted

    monkeypatch.setattr(load, "read_parts", spy)
    return sizes


def _counted(
    monkeypatch: pytest.MonkeyPatch, count: int, call: Callable[[], Counted]
) -> Counted | InputError:
    monkeypatch.setattr(load, "parts_for", lambda paths: count)
    try:
        return call()
    except InputError as error:
        return error


def _same(first: Counted | InputError, second: Counted | InputError) -> None:
    if isinstance(first, InputError) or isinstance(second, InputError):
        assert isinstance(first, InputError) and isinstance(second, InputError)
        assert (first.messages, first.total) == (second.messages, second.total)
        return
    assert segments.to_arrow(first.segments).equals(segments.to_arrow(second.segments))
    assert first.report == second.report
    assert first.latest == second.latest
    assert first.bad_rows == second.bad_rows


def _check(
    monkeypatch: pytest.MonkeyPatch,
    paths: Sequence[Path],
    on_bad_rows: OnBadRows = "fail",
    counts: Sequence[int] = (2, 5),
    **options: object,
) -> Counted | InputError:
    """What counting ``paths`` gives, the same at once and in each number of partitions."""

    def call() -> Counted:
        return count_decisions(paths, on_bad_rows, **options)  # type: ignore[arg-type]

    whole = _counted(monkeypatch, 1, call)
    for count in counts:
        _same(whole, _counted(monkeypatch, count, call))
    return whole


def _write_csv(path: Path, header: list[str], rows: _Rows) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_sample_in_partitions(monkeypatch: pytest.MonkeyPatch, used: list[int]) -> None:
    counted = _check(monkeypatch, [SAMPLE_CSV], counts=(2, 3, 8))
    assert isinstance(counted, Counted) and counted.report.decisions == 6000
    # Every partition read had rows: the decisions were really spread.
    assert len(used) == 13 and min(used) > 0 and sum(used) == 3 * 6852


@pytest.mark.parametrize("until", ["2026-09-01T00:00:00", "2026-10-15T06:00:00", "2000-01-01"])
def test_until_in_partitions(monkeypatch: pytest.MonkeyPatch, until: str) -> None:
    moment = dt.datetime.fromisoformat(until)
    counted = _check(monkeypatch, [SAMPLE_CSV], until=moment)
    if until.startswith("2000"):  # nothing known yet: no segment, every decision after
        assert isinstance(counted, Counted) and counted.report.decisions_after_until == 6000
    else:
        assert isinstance(counted, Counted) and counted.report.rows_after_until > 0


def test_bands_in_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    counted = _check(monkeypatch, [SAMPLE_CSV], bands=Bands((0.9,)))
    assert isinstance(counted, Counted) and len(set(counted.segments["confidence"])) > 1


def test_decisions_across_files_and_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, rows = sample_rows()
    # Rows dealt to three files in turn: a decision's rows fall in different files.
    _write_csv(tmp_path / "a.csv", header, rows[0::3])
    with (tmp_path / "b.jsonl").open("w") as handle:
        for r in rows[1::3]:
            handle.write(json.dumps(dict(zip(header, r, strict=True))) + "\n")
    third = rows[2::3]
    table = pa.table({name: [r[i] for r in third] for i, name in enumerate(header)})
    pq.write_table(table, tmp_path / "c.parquet", row_group_size=700)
    counted = _check(monkeypatch, [tmp_path])
    assert isinstance(counted, Counted)
    # Some decisions have rows in two files: each file counts them.
    assert sum(f.decisions for f in counted.report.files) > counted.report.decisions


@pytest.mark.parametrize("mixed", [False, True])
def test_naive_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mixed: bool) -> None:
    """Times without a zone, read by Arrow as the batches are (every time naive), or by
    each partition (naive, with a space, or zoned in one batch: pandas reads them)."""
    header, rows = sample_rows()
    at = header.index("timestamp")
    zone = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
    for index, r in enumerate(rows):
        if index % 3 == 0 or not mixed:
            r[at] = zone.sub("", r[at])
        elif index % 3 == 1:
            r[at] = r[at].replace("T", " ")
    counted = _check(monkeypatch, [_write_csv(tmp_path / "t.csv", header, rows)])
    naive = [r[at] for r in rows if not zone.search(r[at])]
    assert isinstance(counted, Counted) and counted.report.naive_timestamps == len(naive) > 2000


def _bad(tmp_path: Path, *, many: bool = False) -> Path:
    """The sample with bad rows: a mode, a conflict, a confidence, times (``many``: more of
    each kind than are spelled out, in every partition)."""
    header, rows = sample_rows()
    mode, confidence, at = (
        header.index("mode"),
        header.index("ai_confidence"),
        header.index("timestamp"),
    )
    step = 97 if many else 2500
    for index in range(10, len(rows), step):
        rows[index][mode] = "boss"
        rows[index + 1][confidence] = "1.5"
        rows[index + 2][at] = "yesterday"
        rows.append([*rows[index + 3][:mode], "auto_notify", *rows[index + 3][mode + 1 :]])
    return _write_csv(tmp_path / "bad.csv", header, rows)


@pytest.mark.parametrize("many", [False, True])
@pytest.mark.parametrize("on_bad_rows", ["fail", "skip"])
def test_bad_rows_in_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many: bool, on_bad_rows: OnBadRows
) -> None:
    found = _check(monkeypatch, [_bad(tmp_path, many=many)], on_bad_rows)
    if on_bad_rows == "fail":
        assert isinstance(found, InputError) and found.messages[0].startswith(f"{tmp_path}")
        assert found.total > (60 if many else 4)
    else:
        assert isinstance(found, Counted) and len(found.bad_rows) > (60 if many else 4)


def test_repeated_files_are_named_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header, rows = sample_rows()
    _write_csv(tmp_path / "a.csv", header, rows)
    rows[7][header.index("mode")] = "boss"
    _write_csv(tmp_path / "b.csv", header, rows)
    found = _check(monkeypatch, [tmp_path])
    assert isinstance(found, InputError) and "b.csv" in found.messages[0]
    assert "boss" not in found.messages[0] and "boss" in found.messages[1]


def test_no_rows_in_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header, _ = sample_rows()
    found = _check(monkeypatch, [_write_csv(tmp_path / "empty.csv", header, [])])
    assert isinstance(found, InputError) and "no decisions in this file" in found.messages[0]


def test_large_logs_are_partitioned(monkeypatch: pytest.MonkeyPatch) -> None:
    """One partition per worker for each 128 MB each gets, up to four each; none when
    small."""
    size = SAMPLE_CSV.stat().st_size
    assert parts.parts_for([SAMPLE_CSV]) == 1
    monkeypatch.setattr(parts, "PART_BYTES", size)
    monkeypatch.setattr(parts, "WORKERS", 2)
    for per_part, count in ((size, 2), (size // 2 + 1, 2), (size // 3, 4)):
        monkeypatch.setattr(parts, "_PER_PART", per_part)
        assert parts.parts_for([SAMPLE_CSV]) == count
    monkeypatch.setattr(parts, "_PER_PART", 1000)
    assert parts.parts_for([SAMPLE_CSV]) == 8
    monkeypatch.setattr(parts, "WORKERS", 1)
    assert parts.parts_for([SAMPLE_CSV]) == 1


def test_the_policy_in_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, used: list[int]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "decisions.csv").write_bytes(SAMPLE_CSV.read_bytes())
    whole = policy_yaml("decisions.csv", "--as-of", "2026-10-01")
    monkeypatch.setattr(load, "parts_for", lambda paths: 6)
    assert policy_yaml("decisions.csv", "--as-of", "2026-10-01") == whole
    assert len(used) == 6


def test_ids_of_any_length(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids of one length of 8 bytes or more are hashed as numbers, others as text: both
    keep a decision's rows in one partition."""
    header, rows = sample_rows()
    at = header.index("decision_id")
    for r in rows:
        r[at] = f"decision-{int(r[at].removeprefix('d-'))}"  # d-0001234 -> decision-1234
    assert len({len(r[at]) for r in rows}) > 2
    counted = _check(monkeypatch, [_write_csv(tmp_path / "ids.csv", header, rows)])
    assert isinstance(counted, Counted) and counted.report.decisions == 6000
