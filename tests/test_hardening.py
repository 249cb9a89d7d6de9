"""Hostile inputs from an adversarial run (issue 9): each is exit 2 with FILE[:LINE], or read."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import LogFiles, row

from trustctl.errors import InputError
from trustctl.ingest import find_logs, load_decisions


def _raw(logs: LogFiles, name: str, data: bytes) -> Path:
    path = logs.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _error(*paths: Path, on_bad_rows: str = "fail") -> str:
    with pytest.raises(InputError) as caught:
        load_decisions(list(paths), on_bad_rows)  # type: ignore[arg-type]
    return str(caught.value)


# --- numbers and times: ASCII digits only ------------------------------------------------------


@pytest.mark.parametrize("tier", ["²", "２", "٢", "02", "+2", " 2", "2.5", "-1"])
def test_a_tier_is_one_ascii_digit(logs: LogFiles, tier: str) -> None:
    path = logs.csv([row("a"), row("b", system_tier=tier)])
    assert _error(path) == f"{path}:3: column 'system_tier': {tier!r} is not a system tier 1..4"


@pytest.mark.parametrize("text", ["now", "today", "２０２６-01-01T00:00:00Z", " 2026-01-01"])
def test_the_wall_clock_and_other_scripts_are_no_timestamp(logs: LogFiles, text: str) -> None:
    path = logs.csv([row("a"), row("b", timestamp=text)])
    assert _error(path) == f"{path}:3: column 'timestamp': {text!r} is not an ISO-8601 timestamp"


# --- text that is not text ------------------------------------------------------------------


def test_bytes_that_are_not_utf8_in_json_lines_are_named_by_line(logs: LogFiles) -> None:
    good = json.dumps(row("a")).encode()
    path = _raw(logs, "bad.jsonl", good + b"\n" + good.replace(b'"a"', b'"\xffa"') + b"\n")
    assert _error(path) == f"{path}:2: not UTF-8 text: byte 18 of the line is 0xff"


@pytest.mark.parametrize("column", ["x", "service"])
def test_a_lone_surrogate_is_refused_in_any_column(logs: LogFiles, column: str) -> None:
    line = json.dumps({**row("a"), column: "\ud800"})
    assert "\\ud800" in line
    path = logs.text("s.jsonl", line + "\n")
    assert _error(path) == f"{path}:1: a lone surrogate (\\ud800-\\udfff) is not text"


def test_a_surrogate_pair_is_text(logs: LogFiles) -> None:
    path = logs.text("pair.jsonl", json.dumps(row("a", service="\U0001f600")) + "\n")
    assert load_decisions([path]).frame["service"].iat[0] == "\U0001f600"


def test_json_nested_too_deeply_is_refused(logs: LogFiles) -> None:
    record = json.dumps(row("a"))[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = logs.text("deep.jsonl", record + "\n")
    assert _error(path) == f"{path}:1: not valid JSON: nested too deeply"


def test_an_integer_of_5000_digits_is_read_as_its_digits(logs: LogFiles) -> None:
    ignored = json.dumps(row("a"))[:-1] + ', "x": ' + "7" * 5000 + "}"
    as_tier = json.dumps(row("b"))[:-1].replace(
        '"system_tier": "1"', '"system_tier": ' + "1" * 5000
    )
    path = logs.text("big.jsonl", ignored + "\n" + as_tier + "}\n")
    message = _error(path)
    assert message.startswith(f"{path}:2: column 'system_tier': '1111")
    assert message.endswith("' is not a system tier 1..4")
    assert len(load_decisions([logs.text("ok.jsonl", ignored + "\n")]).frame) == 1


# --- compressed files ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cut.csv.gz", "cut.jsonl.gz"])
def test_a_truncated_gzip_file_is_refused_with_the_line_reached(logs: LogFiles, name: str) -> None:
    rows = [row(f"d{i}", rationale="x" * 50) for i in range(3000)]
    whole = logs.csv(rows, name=name) if name.startswith("cut.csv") else logs.jsonl(rows, name=name)
    data = whole.read_bytes()
    whole.write_bytes(data[: len(data) // 2])
    message = _error(whole)
    assert message.startswith(f"{whole}:")
    assert message.split(":")[1].isdigit()
    assert (
        "not a readable gzip file: Compressed file ended before the end-of-stream marker" in message
    )


def test_a_file_that_is_not_gzip_at_all_is_refused(logs: LogFiles) -> None:
    path = _raw(logs, "plain.csv.gz", b"decision_id,timestamp\n")
    assert _error(path).startswith(f"{path}:1: not a readable gzip file: Not a gzipped file")


def test_a_gzip_file_with_a_corrupt_stream_is_refused(logs: LogFiles) -> None:
    path = logs.csv([row(f"d{i}") for i in range(500)], name="bad.csv.gz")
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = bytes(len(data) - len(data) // 2)
    path.write_bytes(bytes(data))
    assert _error(path).startswith(f"{path}:")


# --- Parquet ---------------------------------------------------------------------------------


@pytest.mark.parametrize("twice", ["decision_id", "service"])
def test_a_parquet_schema_column_twice_is_refused(logs: LogFiles, twice: str) -> None:
    columns = ["decision_id", "timestamp", "action_class", "mode", "executed", "service"]
    values = ["a", "2026-01-01T00:00:00Z", "k8s.scale", "suggest", "true", "api"]
    table = pa.table([pa.array([v]) for v in [*values, "other"]], names=[*columns, twice])
    path = logs.root / "twice.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    assert _error(path) == f"{path}:row 0: column '{twice}' appears twice"


# --- CSV limits ------------------------------------------------------------------------------


def test_a_csv_record_over_the_limit_names_its_line_and_the_limit(logs: LogFiles) -> None:
    path = logs.csv([row("a"), row("b", rationale="x" * (5 << 20)), row("c")])
    message = _error(path)
    assert message.startswith(f"{path}:3: a record of 5,2")
    assert message.endswith(
        "CSV records are read up to 2 MiB (JSON Lines and Parquet have no such limit)"
    )


def test_a_csv_field_just_under_the_limit_is_read(logs: LogFiles) -> None:
    path = logs.csv([row("a"), row("b", rationale="x" * ((2 << 20) - 200)), row("c")])
    assert len(load_decisions([path]).frame) == 3


@pytest.mark.parametrize(
    ("content", "line", "why"),
    [
        (
            b"d,2026-01-01T00:00:00Z,x,full,true,1\n",
            3,
            "expected 5 fields as in the header, found 6",
        ),
        (
            b"d,2026-01-01T00:00:00Z,x,f\xffull,true\n",
            3,
            "not UTF-8 text: byte 27 of the line is 0xff",
        ),
    ],
)
def test_a_broken_record_is_refused_even_with_skip(
    logs: LogFiles, content: bytes, line: int, why: str
) -> None:
    """Which decision a record that is not CSV belongs to is unknown: the file is refused."""
    path = logs.csv(
        [row("a")], columns=["decision_id", "timestamp", "action_class", "mode", "executed"]
    )
    path.write_bytes(path.read_bytes() + content)
    assert _error(path, on_bad_rows="skip") == f"{path}:{line}: {why}"


# --- finding the files -----------------------------------------------------------------------


def test_a_fifo_is_refused_not_waited_on(logs: LogFiles, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert _error(fifo) == f"{fifo}: not a regular file (a FIFO, device or socket is not read)"
    logs.csv([row("a")])
    os.mkfifo(logs.root / "inside.jsonl")
    inside = logs.root / "inside.jsonl"
    assert (
        _error(logs.root) == f"{inside}: not a regular file (a FIFO, device or socket is not read)"
    )


def test_a_dangling_link_with_a_logs_name_is_refused(logs: LogFiles) -> None:
    logs.csv([row("a")])
    (logs.root / "gone.csv").symlink_to(logs.root / "nowhere.csv")
    assert _error(logs.root) == f"{logs.root / 'gone.csv'}: no such file or directory"


def test_a_subdirectory_that_cannot_be_listed_is_an_error(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root reads any directory, so the refusal is simulated where the listing happens."""
    logs.csv([row("a")])
    logs.csv([row("b")], name="locked/b.csv")
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> os.ScandirIterator[str]:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    locked = logs.root / "locked"
    assert _error(logs.root) == f"{locked}: cannot list the directory: Permission denied"


def test_an_unreadable_subdirectory_is_an_error_for_a_user(logs: LogFiles) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    logs.csv([row("a")])
    locked = logs.csv([row("b")], name="locked/b.csv").parent
    locked.chmod(0)
    try:
        assert _error(logs.root) == f"{locked}: cannot list the directory: Permission denied"
    finally:
        locked.chmod(0o755)


def test_a_file_reached_by_several_paths_is_read_once(logs: LogFiles, tmp_path: Path) -> None:
    path = logs.csv([row("a")], name="real/a.csv")
    (tmp_path / "alias").symlink_to(path.parent)
    os.link(path, tmp_path / "hard.csv")
    given = [tmp_path / "alias", path, tmp_path / "hard.csv", logs.root / "real" / ".." / "real"]
    found = find_logs(given)
    assert len(found) == 1
    report = load_decisions(given).report
    assert (len(report.files), report.rows) == (1, 1)


def test_a_symlinked_directory_inside_a_directory_is_not_followed(
    logs: LogFiles, tmp_path: Path
) -> None:
    logs.csv([row("a")], name="a.csv")
    elsewhere = LogFiles(tmp_path / "elsewhere").csv([row("b")]).parent
    (logs.root / "link").symlink_to(elsewhere, target_is_directory=True)
    (logs.root / "file-link.csv").symlink_to(elsewhere / "decisions.csv")
    assert find_logs([logs.root]) == [logs.root / "a.csv", logs.root / "file-link.csv"]


def test_gzip_of_the_wrong_content_reads_as_its_format(logs: LogFiles) -> None:
    path = _raw(logs, "x.jsonl.gz", gzip.compress(b"not json\n", mtime=0))
    assert _error(path) == f"{path}:1: not valid JSON: Expecting value"


def test_a_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    from trustctl.files import write_atomically

    target = tmp_path / "policy.yaml"
    gone = tmp_path / ".policy.yaml.4194305.abcd1234.tmp"  # above Linux's largest pid
    alive = tmp_path / f".policy.yaml.{os.getpid()}.abcd1234.tmp"  # a run still writing
    other = tmp_path / ".other.yaml.4194305.abcd1234.tmp"
    for path in (gone, alive, other):
        path.write_text("partial")
    write_atomically(target, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, alive.name, other.name]
    )
