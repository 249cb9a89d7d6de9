"""Hostile paths, documents and streams (issue 9): exit 2 with one line, nothing overwritten."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from clirun import run
from typer.testing import Result

from trustctl import yamlio

RULES = Path(__file__).resolve().parent.parent / "policies" / "rules.yaml"


def refused(result: Result, message: str) -> None:
    """Exit 2 with exactly ``error: message`` on one line, no traceback."""
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {message}\n"
    assert isinstance(result.exception, SystemExit)


@pytest.fixture
def folder(history_csv: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The log as ``log.csv`` and the shipped rules as ``rules.yaml``, in the working directory."""
    here = history_csv.parent
    history_csv.rename(here / "log.csv")
    (here / "rules.yaml").write_bytes(RULES.read_bytes())
    monkeypatch.chdir(here)
    return here


def _snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry of the folder: a file's bytes, else what it is (a link, a FIFO...)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.iterdir()):
        mode = path.lstat().st_mode
        found[path.name] = path.read_bytes() if stat.S_ISREG(mode) else stat.filemode(mode)
    return found


# --- one rule for outputs --------------------------------------------------------------------

SKIP = ("--on-bad-rows", "skip")


OVER_LOG = "log.csv: is the input log.csv; refusing to write over it"
TWICE = "is also the output p.yaml; give each output its own file"
CASES = [
    (["generate", "log.csv", "-o", "log.csv"], OVER_LOG),
    (["generate", "log.csv", "-o", "./log.csv"], OVER_LOG),
    (
        ["generate", ".", "-o", "log.csv"],
        "log.csv: is the input hard.csv; refusing to write over it",
    ),
    (["generate", "log.csv", *SKIP, "--bad-rows-out", "log.csv"], OVER_LOG),
    (["aggregate", "log.csv", "-o", "log.csv"], OVER_LOG),
    (
        ["generate", "log.csv", "--rules", "rules.yaml", "-o", "rules.yaml"],
        "rules.yaml: is the input rules.yaml; refusing to write over it",
    ),
    (
        ["generate", "log.csv", "-o", "link.csv"],
        "link.csv: is the input log.csv; refusing to write over it",
    ),
    (
        ["generate", "log.csv", "-o", "hard.csv"],
        "hard.csv: is the input log.csv; refusing to write over it",
    ),
    (
        ["generate", "log.csv", "-o", "p.yaml", *SKIP, "--bad-rows-out", "p.yaml"],
        f"p.yaml: {TWICE}",
    ),
    (
        ["generate", "log.csv", "-o", "p.yaml", *SKIP, "--bad-rows-out", "to-p.yaml"],
        f"to-p.yaml: {TWICE}",
    ),
    (
        [
            "generate",
            "log.csv",
            "-o",
            "q.yaml",
            "--previous",
            "p.yaml",
            *SKIP,
            "--bad-rows-out",
            "p.yaml",
        ],
        "p.yaml: is the input p.yaml; refusing to write over it",
    ),
]


@pytest.mark.parametrize(("args", "message"), CASES)
def test_an_output_that_is_an_input_or_another_output_is_refused(
    folder: Path, args: list[str], message: str
) -> None:
    assert run("generate", "log.csv", "-o", "p.yaml").exit_code == 0
    (folder / "link.csv").symlink_to("log.csv")
    (folder / "to-p.yaml").symlink_to("p.yaml")
    os.link(folder / "log.csv", folder / "hard.csv")
    before = _snapshot(folder)
    refused(run(*args), message)
    assert _snapshot(folder) == before


@pytest.mark.parametrize("make", ["fifo", "directory", "device"])
def test_an_output_that_is_not_a_regular_file_is_refused(folder: Path, make: str) -> None:
    target = folder / "special"
    if make == "fifo":
        os.mkfifo(target)
    elif make == "directory":
        target.mkdir()
    elif os.geteuid() == 0:  # a copy of /dev/null's node: the real one is never at risk
        os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    else:
        pytest.skip("only root makes device nodes")
    before = _snapshot(folder)
    for command in (("generate", "log.csv", "-o"), ("aggregate", "log.csv", "-o")):
        refused(
            run(*command, "special"),
            "special: not a regular file (a directory, device, FIFO or socket); "
            "refusing to write over it",
        )
    assert _snapshot(folder) == before


def test_an_output_in_a_missing_directory_is_refused_before_reading(folder: Path) -> None:
    refused(
        run("generate", "nowhere.csv", "-o", "no/p.yaml"), "nowhere.csv: no such file or directory"
    )
    refused(
        run("generate", "log.csv", "-o", "no/p.yaml"),
        f"no/p.yaml: cannot write: no such directory {folder / 'no'}",
    )


def test_the_previous_policy_may_be_replaced_by_its_successor(folder: Path) -> None:
    """The weekly run: ``--previous policy.yaml -o policy.yaml``, atomically."""
    assert run("generate", "log.csv", "-o", "policy.yaml").exit_code == 0
    result = run("generate", "log.csv", "--previous", "policy.yaml", "-o", "policy.yaml")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == [
        "log.csv",
        "policy.ledger.jsonl",
        "policy.yaml",
        "rules.yaml",
    ]


def test_an_output_symlink_is_written_through(folder: Path) -> None:
    """As coreutils does: the link stays a link, its target gets the new policy."""
    (folder / "policies").mkdir()
    (folder / "policies" / "current.yaml").write_text("old\n")
    (folder / "policy.yaml").symlink_to("policies/current.yaml")
    assert run("generate", "log.csv", "-o", "policy.yaml").exit_code == 0
    assert (folder / "policy.yaml").is_symlink()
    assert (
        yaml.safe_load((folder / "policies" / "current.yaml").read_text())["kind"]
        == "AutonomyPolicy"
    )
    assert sorted(p.name for p in (folder / "policies").iterdir()) == ["current.yaml"]
    (folder / "dangling.yaml").symlink_to("policies/new.yaml")
    assert run("generate", "log.csv", "-o", "dangling.yaml").exit_code == 0
    assert (folder / "policies" / "new.yaml").read_text().startswith("apiVersion: trustctl/v1")


def test_sample_refuses_a_negative_seed(tmp_path: Path) -> None:
    result = run("sample", "-o", tmp_path / "out", "--seed", "-1")
    assert result.exit_code == 2
    assert "Invalid value for '--seed'" in result.stderr
    assert not (tmp_path / "out").exists()


# --- streams and signals ---------------------------------------------------------------------


def _trustctl(*args: str | Path, **popen: object) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "trustctl", *map(str, args)]
    return subprocess.run(
        command, capture_output="stdout" not in popen, timeout=60, check=False, **popen
    )  # type: ignore[call-overload, no-any-return]


def test_stdout_that_cannot_be_written_is_an_error_not_a_crash(folder: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with open("/dev/full", "wb") as full:
        done = subprocess.run(
            [sys.executable, "-m", "trustctl", "generate", "log.csv"],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert (done.returncode, done.stderr) == (
        2,
        b"error: <stdout>: cannot write: No space left on device\n",
    )


def test_a_closed_stdout_is_refused_before_any_work(folder: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, runpy, sys; os.close(1); sys.stdout = None; "
            "sys.argv = ['trustctl', 'generate', 'log.csv', '-o', 'p.yaml']; "
            "runpy.run_module('trustctl', run_name='__main__')",
        ],
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        2,
        b"error: <stdout>: closed; redirect it to a file or /dev/null\n",
    )
    assert not (folder / "p.yaml").exists()


def test_ctrl_c_while_the_modules_load_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import trustctl.__main__

    class Loading(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "trustctl.cli", Loading("trustctl.cli"))
    with pytest.raises(SystemExit) as exited:
        trustctl.__main__.main()
    assert exited.value.code == 130


def test_a_fifo_given_as_rules_or_policy_is_refused_not_waited_on(folder: Path) -> None:
    os.mkfifo(folder / "pipe.yaml")
    why = "not a regular file (a FIFO, device or directory)"
    refused(run("validate", "--rules", "pipe.yaml"), f"pipe.yaml: cannot read rules file: {why}")
    refused(run("validate", "--policy", "pipe.yaml"), f"pipe.yaml: cannot read policy file: {why}")


# --- documents: rules and policies -----------------------------------------------------------


PIN = "pins:\n- {action_class: '*', level: observe, reason: r, owner: o, expires: "


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "promote:\n  suggest:\n    agreement: {threshold: .nan}\n",
            "promote.suggest.agreement.threshold: Input should be a finite number",
        ),
        ("bounds: {confidence: .nan}\n", "bounds.confidence: Input should be a finite number"),
        ("bounds: {prior: [.inf, 1]}\n", "bounds.prior.0: Input should be a finite number"),
        (
            "demote:\n  auto_notify:\n    agreement: {threshold: .nan}\n",
            "demote.auto_notify.agreement.threshold: Input should be a finite number",
        ),
        ("window: １８０d\n", "window: '１８０d' is not a duration like '180d', '12h' or '2w'"),
        (
            "window: 99999999999999999999999d\n",
            "window: at most 36500d, not '99999999999999999999999d'",
        ),
        (
            PIN + "0001-01-01T00:00:00+01:00}\n",
            "pins.0.expires: '0001-01-01T00:00:00+01:00' is outside the years 1970 to 2200",
        ),
        (
            PIN + "'9999-12-31T23:59:59-01:00'}\n",
            "pins.0.expires: '9999-12-31T23:59:59-01:00' is outside the years 1970 to 2200",
        ),
        (
            PIN + "now}\n",
            "pins.0.expires: 'now' is not an ISO-8601 date or timestamp",
        ),
        (
            PIN + "1700000000}\n",
            "pins.0.expires: expected an ISO-8601 date or time, found int",
        ),
    ],
)
def test_rules_refuse_nan_other_digits_and_times_out_of_range(
    folder: Path, text: str, message: str
) -> None:
    Path("r.yaml").write_text(text, encoding="utf-8")
    refused(run("validate", "--rules", "r.yaml"), f"r.yaml: {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "window: 10d\ncooldown: 1d\nwindow: 20d\n",
            "r.yaml:3: not valid YAML: key 'window' appears twice",
        ),
        (
            "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
            "r.yaml:1: not valid YAML: while increasing flow level exceeded maximum nesting depth",
        ),
        (
            "window: " + "1" * 5000 + "\n",
            "r.yaml:1: not valid YAML: '11111111111111111111…' cannot be read: "
            "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits",
        ),
        (
            "pins:\n- {expires: 2026-02-30}\n",
            "r.yaml:2: not valid YAML: '2026-02-30' cannot be read: day is out of range for month",
        ),
    ],
)
def test_yaml_that_python_cannot_hold_is_refused_with_its_line(
    folder: Path, text: str, message: str
) -> None:
    Path("r.yaml").write_text(text, encoding="utf-8")
    refused(run("validate", "--rules", "r.yaml"), message)


def test_yaml_merge_keys_may_still_be_overridden() -> None:
    loaded = yamlio.load("base: &b {a: 1, b: 2}\nthis:\n  <<: *b\n  b: 3\n")
    assert loaded["this"] == {"a": 1, "b": 3}


def test_bytes_that_are_not_utf8_in_rules_are_named_by_line(folder: Path) -> None:
    Path("r.yaml").write_bytes(b"window: 10d\ncooldown: '\xff'\n")
    refused(
        run("validate", "--rules", "r.yaml"),
        "r.yaml:2: not valid YAML: not UTF-8 text: byte 12 of the line is 0xff",
    )


def test_the_c_yaml_loader_is_used_where_installed() -> None:
    assert getattr(yaml, "__with_libyaml__", False), "PyYAML's wheels ship libyaml"
    assert issubclass(yamlio._Loader, yaml.CSafeLoader)


def _policy_with(folder: Path, old: str, new: str) -> None:
    assert run("generate", "log.csv", "-o", "p.yaml").exit_code == 0
    text = (folder / "p.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "p.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (
            "as_of: '0001-01-01T00:00:00+01:00'",
            "metadata.as_of: '0001-01-01T00:00:00+01:00' is outside the years 1970 to 2200",
        ),
        (
            "as_of: 9999-12-31T23:59:59-01:00",
            "metadata.as_of: '9999-12-31T23:59:59-01:00' is outside the years 1970 to 2200",
        ),
        ("as_of: now", "metadata.as_of: 'now' is not an ISO-8601 date or timestamp"),
        ("as_of: today", "metadata.as_of: 'today' is not an ISO-8601 date or timestamp"),
        ("as_of: 1764547200", "metadata.as_of: expected an ISO-8601 date or time, found int"),
    ],
)
def test_policy_dates_out_of_range_or_from_the_clock_are_refused(
    folder: Path, new: str, message: str
) -> None:
    _policy_with(folder, "as_of: '2026-03-23T06:00:00Z'", new)
    for args in (("validate", "--policy", "p.yaml"), ("diff", "p.yaml", "p.yaml")):
        refused(run(*args), f"p.yaml: {message}")
    refused(run("generate", "log.csv", "--previous", "p.yaml"), f"p.yaml: {message}")


@pytest.mark.parametrize(
    ("tier", "message"),
    [
        ("[1]", "Input should be a valid integer"),
        (".inf", "Input should be a valid integer"),
        ("'2'", "Input should be a valid integer"),
        ("5", "Input should be less than or equal to 4"),
    ],
)
def test_a_policy_system_tier_is_a_number_1_to_4(folder: Path, tier: str, message: str) -> None:
    Path("p.yaml").write_text(
        "apiVersion: trustctl/v1\nkind: AutonomyPolicy\n"
        "metadata: {as_of: '2026-01-01T00:00:00Z', group_by: [action_class, system_tier]}\n"
        f"actions:\n- {{action_class: a, level: suggest, system_tier: {tier}}}\n",
        encoding="utf-8",
    )
    refused(run("validate", "--policy", "p.yaml"), f"p.yaml: actions.0.system_tier: {message}")


def test_a_policy_number_that_is_nan_is_refused(folder: Path) -> None:
    _policy_with(folder, "mean: 0.", "mean: .nan\n      was: 0.")
    result = run("validate", "--policy", "p.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: p.yaml: actions.0.evidence.agreement.mean: Input should be a finite number"
    )


def test_a_policy_key_twice_is_refused_with_its_line(folder: Path) -> None:
    Path("p.yaml").write_text(
        "apiVersion: trustctl/v1\nkind: AutonomyPolicy\nkind: AutonomyPolicy\n", encoding="utf-8"
    )
    refused(
        run("validate", "--policy", "p.yaml"),
        "p.yaml:3: not valid YAML or JSON: key 'kind' appears twice",
    )


@pytest.mark.parametrize(("part", "whole"), [("agreed", "reviewed"), ("succeeded", "verified")])
def test_evidence_whose_parts_exceed_the_whole_is_refused(
    folder: Path, part: str, whole: str
) -> None:
    """Found by the fuzzer: 7 agreed of 6 reviewed reached the bounds (exit 3)."""
    assert run("aggregate", "log.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table("e.parquet")
    bigger = pa.compute.add(table.column(whole), 1)
    table = table.set_column(table.column_names.index(part), part, bigger)
    pq.write_table(table, "e.parquet")
    value = bigger[0].as_py()
    refused(
        run("generate", "--evidence", "e.parquet", "-o", "p.yaml"),
        f"e.parquet:row 0: column '{part}': {value} is more than {whole} allows",
    )
    assert not Path("p.yaml").exists()


def test_a_window_reaching_before_1970_is_written_and_read_back(folder: Path) -> None:
    """A century-long window starts before 1970: a start derived, not read, is not refused."""
    Path("r.yaml").write_text("window: 36500d\n", encoding="utf-8")
    assert run("generate", "log.csv", "--rules", "r.yaml", "-o", "p.yaml").exit_code == 0
    assert "counted_from: '1926-" in Path("p.yaml").read_text(encoding="utf-8")
    assert run("validate", "--policy", "p.yaml").exit_code == 0
    assert run("generate", "log.csv", "--rules", "r.yaml", "--previous", "p.yaml").exit_code == 0


@pytest.mark.parametrize(
    ("name", "values", "shown"),
    [
        ("decisions", lambda n: pa.nulls(n, pa.int64()), "None"),
        ("system_tier", lambda n: pa.array([9] * n, pa.int8()), "9"),
        ("agreed", lambda n: pa.array([2**62] * n), str(2**62)),
        ("day", lambda n: pa.array([-1] * n, pa.date32()), "1969-12-31"),
        (
            "last_recorded_at",
            lambda n: pa.array([2**62] * n, pa.timestamp("us", "UTC")),
            f"{2**62} (microseconds since 1970)",
        ),
    ],
)
def test_evidence_values_out_of_range_are_refused(
    folder: Path, name: str, values: Any, shown: str
) -> None:
    """Found by the fuzzer: each of these reached pandas, the caps or datetime (exit 3)."""
    assert run("aggregate", "log.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table("e.parquet")
    table = table.set_column(table.column_names.index(name), name, values(table.num_rows))
    pq.write_table(table, "e.parquet")
    refused(
        run("generate", "--evidence", "e.parquet", "-o", "p.yaml"),
        f"e.parquet:row 0: column '{name}': {shown} is not valid",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "100000000"], "error: --days: between 1 and 180, got 100000000\n"),
        (
            ["--start", "2200-12-30", "--days", "30"],
            "error: --start: a log of 30 day(s) from it would end after 2200\n",
        ),
    ],
)
def test_sample_windows_beyond_the_years_read_are_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run("sample", "-o", tmp_path / "out", *args)
    assert (result.exit_code, result.stderr) == (2, message)
    assert not (tmp_path / "out").exists()


def test_sample_refuses_more_decisions_than_memory_could_hold(tmp_path: Path) -> None:
    result = run("sample", "-o", tmp_path / "out", "--decisions", str(10**11))
    assert result.exit_code == 2
    assert "Invalid value for '--decisions'" in result.stderr


def test_an_evidence_column_twice_is_refused_on_one_line(folder: Path) -> None:
    """Arrow's own message for it spans the whole schema: one line of ours instead."""
    assert run("aggregate", "log.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table("e.parquet")
    pq.write_table(table.append_column("agreed", table.column("agreed")), "e.parquet")
    refused(
        run("generate", "--evidence", "e.parquet", "-o", "p.yaml"),
        "e.parquet: column 'agreed' appears twice",
    )


def test_evidence_counts_of_another_type_are_read_as_counts(folder: Path) -> None:
    """Found by the fuzzer: a bool column reached a comparison with 0 uncast (exit 3)."""
    assert run("aggregate", "log.csv", "-o", "e.parquet").exit_code == 0
    table = pq.read_table("e.parquet")
    flags = pa.array([False] * table.num_rows)
    index = table.column_names.index("critical_failures")
    pq.write_table(table.set_column(index, "critical_failures", flags), "e.parquet")
    assert run("generate", "--evidence", "e.parquet", "-o", "p.yaml").exit_code == 0
