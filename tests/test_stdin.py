"""Logs on standard input (``-`` with ``--input-format``): the same policy as from the file,
named ``<stdin>``; errors at ``<stdin>:LINE``; a spooled copy that never outlives the run."""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import io
import tempfile
from pathlib import Path

import pytest
import yaml
from clirun import failure, ok, run
from conftest import LogFiles, history

from trustctl.cli import COMMANDS, command_function
from trustctl.errors import InputError, TrustctlError
from trustctl.ingest.log_source import StdinLog, stdin_spooled


def _same_but_the_name(piped: str, named: str, path: Path) -> None:
    assert "<stdin>" in piped
    assert piped == named.replace(str(path), "<stdin>")


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_a_log_on_stdin_gives_the_files_policy_but_its_name(
    logs: LogFiles, tmp_path: Path, kind: str
) -> None:
    path = logs.csv(history()) if kind == "csv" else logs.jsonl(history())
    data = path.read_bytes()
    ok("generate", path, "-o", tmp_path / "named.yaml")
    ok("generate", "-", "--input-format", kind, "-o", tmp_path / "piped.yaml", stdin=data)
    piped = (tmp_path / "piped.yaml").read_text(encoding="utf-8")
    _same_but_the_name(piped, (tmp_path / "named.yaml").read_text(encoding="utf-8"), path)
    inputs = yaml.safe_load(piped)["metadata"]["inputs"]
    assert inputs == [
        {"path": "<stdin>", "sha256": hashlib.sha256(data).hexdigest(), "rows": 110,
         "decisions": 110}
    ]  # fmt: skip


def test_stdin_among_files_and_in_the_commands_that_read_twice(
    logs: LogFiles, tmp_path: Path
) -> None:
    rows = history()
    first, second = logs.csv(rows[:50], "a.csv"), logs.csv(rows[50:], "b.csv")
    data = second.read_bytes()
    named = ok("generate", first, second, "--low-memory").stdout
    piped = ok("generate", first, "-", "--input-format", "csv", "--low-memory", stdin=data)
    _same_but_the_name(piped.stdout, named, second)
    policy = tmp_path / "policy.yaml"
    ok("generate", first, second, "-o", policy)
    stdin = ("-", "--input-format", "csv")
    assert "up to date" in ok("check", first, *stdin, "--policy", policy, stdin=data).stdout
    history_named = ok("history", first, second, "--format", "csv").stdout
    assert ok("history", first, *stdin, "--format", "csv", stdin=data).stdout == history_named


def test_a_bad_line_on_stdin_is_named_and_nothing_is_written(
    logs: LogFiles, tmp_path: Path
) -> None:
    csv_lines = logs.csv(history()).read_text(encoding="utf-8").splitlines(keepends=True)
    bad = "".join([*csv_lines[:4], "rp-x,2026-01-01T00:00:00Z\n", *csv_lines[4:]])
    output = tmp_path / "policy.yaml"
    args = ("generate", "-", "--input-format", "csv", "-o", output)
    said = failure(run(*args, stdin=bad.encode()))
    assert said.startswith("error: <stdin>:5: expected "), said
    jsonl_lines = logs.jsonl(history()).read_text(encoding="utf-8").splitlines(keepends=True)
    broken = "".join([*jsonl_lines[:6], '{"decision_id": \n', *jsonl_lines[6:]])
    said = failure(run("validate", "-", "--input-format", "jsonl", stdin=broken.encode()))
    assert said.startswith("error: <stdin>:7: not valid JSON"), said
    assert not output.exists()


def test_stdin_must_be_given_once_with_its_format(logs: LogFiles) -> None:
    path = logs.csv(history())
    data = path.read_bytes()
    assert "--input-format csv|jsonl" in failure(run("generate", "-", stdin=data))
    assert "given twice" in failure(run("generate", "-", "-", "--input-format", "csv", stdin=data))
    assert "give - too" in failure(run("generate", path, "--input-format", "csv"))
    assert "is for logs" in failure(
        run("generate", "--evidence", "-", "--input-format", "csv", stdin=data)
    )
    assert failure(run("generate", "-", "--input-format", "csv", stdin=b"")).startswith(
        "error: <stdin>:1: empty file"
    )


def test_every_command_that_reads_logs_takes_stdin() -> None:
    readers = []
    for name in COMMANDS:
        callback = command_function(name)
        parameters = inspect.signature(callback).parameters
        if "logs" in parameters:
            readers.append(callback.__name__)
            assert "input_format" in parameters, callback
    assert sorted(readers) == sorted(
        ["generate", "check", "verify", "approve", "explain", "validate", "aggregate",
         "history", "review", "update", "whatif"]
    )  # fmt: skip


def test_update_knows_inputs_by_their_bytes_and_reproduces_with_stdin(
    logs: LogFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rows = history()
    path = logs.csv(rows)
    data, reordered = path.read_bytes(), logs.csv(rows[::-1], "other.csv").read_bytes()
    weekly = ("update", "-", "--input-format", "csv", "--policy", "p.yaml", "--pr-body", "b.md")
    assert run(*weekly, stdin=data).exit_code == 1  # the first run writes the policy
    assert ok(*weekly, stdin=reordered).stdout.endswith("nothing rewritten\n")
    body = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "- Inputs added since the committed policy: none\n" in body
    assert "- Inputs whose bytes changed since the committed policy:\n  - `<stdin>` (" in body
    assert "$ … | trustctl update - --policy before.yaml --input-format csv\n" in body
    # The bytes the policy read from standard input, now from a file: nothing new.
    ok("update", path, "--policy", "p.yaml", "--pr-body", "b.md")
    body = (tmp_path / "b.md").read_text(encoding="utf-8")
    assert "- Inputs added since the committed policy: none\n" in body
    assert "changed since" not in body and "…" not in body


class _Stdin(io.BytesIO):
    def __init__(self, data: bytes, terminal: bool = False) -> None:
        super().__init__(data)
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def _spools() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("trustctl-stdin-*")}


@pytest.mark.parametrize("ending", [None, InputError(["bad"]), KeyboardInterrupt()])
def test_the_copy_of_stdin_is_removed_however_the_run_ends(
    ending: BaseException | None,
) -> None:
    before = _spools()
    stdin = [Path("a.csv"), Path("-")]
    ends = pytest.raises(type(ending)) if ending else contextlib.nullcontext()
    with ends, stdin_spooled(stdin, "csv", lambda: _Stdin(b"x\n")) as paths:
        copy = paths[1]
        assert isinstance(copy, StdinLog) and str(copy) == "<stdin>"
        assert Path(copy.__fspath__()).read_bytes() == b"x\n"
        assert paths[0] == Path("a.csv") and copy.input_format == "csv"
        if ending is not None:
            raise ending
    assert not Path(copy.__fspath__()).exists()
    assert _spools() == before


def test_a_terminal_on_stdin_is_refused_before_waiting_for_it() -> None:
    refused = pytest.raises(TrustctlError, match="is a terminal: pipe them in")
    with refused, stdin_spooled([Path("-")], "jsonl", lambda: _Stdin(b"", terminal=True)):
        pass
