"""The commands end to end with Typer's CliRunner: outputs, exit codes, errors, no traceback."""

from __future__ import annotations

import ast
import csv
import io
import json
import random
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from clirun import assert_clean_failure, ok, run
from conftest import SAMPLE_CSV, LogFiles, history, row

import trustctl._terminal
from trustctl import __version__, formats
from trustctl.cli import app


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def levels(policy: dict[str, Any]) -> dict[str, str]:
    return {a["action_class"]: a["level"] for a in policy["actions"]}


# --- generate --------------------------------------------------------------------------------


def test_generate_writes_yaml_and_prints_the_table(history_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy.yaml"
    result = ok("generate", history_csv, "-o", out)
    policy = load_yaml(out)
    assert policy["kind"] == "AutonomyPolicy" and policy["apiVersion"] == "trustctl/v1"
    assert levels(policy) == {
        "db.failover": "suggest",
        "k8s.restart_pod": "auto_notify",
        "k8s.rollback": "suggest",
    }
    assert policy["metadata"]["inputs"][0]["rows"] == 110
    assert "trustctl autonomy policy" in result.stdout
    assert "k8s.restart_pod" in result.stdout and "promoted" in result.stdout
    assert (
        f"3 groups: 1 promoted, 0 demoted, 2 unchanged, 0 new, 0 proposed; policy written to {out}"
        in result.stdout
    )
    assert "\x1b[" not in result.stdout, "NO_COLOR and a pipe: no escape codes"
    assert result.stderr == ""
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temp files"


def test_generate_prints_yaml_by_default(history_csv: Path) -> None:
    policy = yaml.safe_load(ok("generate", history_csv).stdout)
    assert levels(policy)["k8s.restart_pod"] == "auto_notify"


@pytest.mark.parametrize("fmt", list(formats.GENERATE))
def test_generate_formats_on_stdout(history_csv: Path, fmt: str) -> None:
    out = ok("generate", history_csv, "--format", fmt).stdout
    if fmt == "yaml":
        assert levels(yaml.safe_load(out))["k8s.restart_pod"] == "auto_notify"
    elif fmt == "json":
        assert levels(json.loads(out))["k8s.restart_pod"] == "auto_notify"
    elif fmt == "markdown":
        lines = out.splitlines()
        assert lines[0].startswith("**trustctl autonomy policy** as of 20")
        assert any(line.startswith("- input: ") and " sha256 `" in line for line in lines)
        table = lines.index(next(line for line in lines if line.startswith("| group |")))
        assert lines[table].startswith("| group | level | change |")
        assert "| limited by | next | reason |" in lines[table]
        assert any(
            line.startswith("| `k8s.restart_pod` | auto_notify | promoted |") for line in lines
        )
    elif fmt == "csv":
        assert "\nk8s.restart_pod,k8s.restart_pod,auto_notify,promoted," in out
    else:
        assert fmt == "table", "a new format: say here what it prints"
        header = next(line for line in out.splitlines() if "group" in line)
        assert header.split() == ["group", "level", "agree≥", "succ.≥", "next"]
        assert re.search(r"k8s\.restart_pod +↑auto_notify ", out)
        assert "3 groups:" in out


def test_generate_with_format_and_output(history_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.yaml"
    printed = ok("generate", history_csv, "-o", out, "--format", "json").stdout
    assert json.loads(printed) == load_yaml(out)


def test_generate_writes_json_when_output_ends_json(history_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "policy.json"
    ok("generate", history_csv, "-o", out)
    text = out.read_text()
    assert text.startswith("{\n") and text.endswith("}\n")
    assert levels(json.loads(text))["k8s.restart_pod"] == "auto_notify"


def test_generate_is_byte_identical(history_csv: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    ok("generate", history_csv, "-o", first)
    ok("generate", history_csv, "-o", second)
    assert first.read_bytes() == second.read_bytes()
    assert ok("generate", history_csv).stdout_bytes == ok("generate", history_csv).stdout_bytes


def test_generate_ignores_row_order(logs: LogFiles, history_csv: Path) -> None:
    rows = history()
    random.Random(5).shuffle(rows)
    shuffled = logs.csv(rows, name="shuffled.csv")
    original = yaml.safe_load(ok("generate", history_csv).stdout)
    other = yaml.safe_load(ok("generate", shuffled).stdout)
    assert other["actions"] == original["actions"]
    assert other["metadata"]["as_of"] == original["metadata"]["as_of"]


def test_as_of_defaults_to_the_latest_decision(history_csv: Path) -> None:
    policy = yaml.safe_load(ok("generate", history_csv).stdout)
    # the last db.failover decision: day 81.25 after 2026-01-01
    assert policy["metadata"]["as_of"] == "2026-03-23T06:00:00Z"
    assert policy["metadata"]["ingest"]["after_as_of"] == 0


def test_as_of_excludes_later_decisions(history_csv: Path) -> None:
    policy = yaml.safe_load(ok("generate", history_csv, "--as-of", "2026-01-31T00:00:00Z").stdout)
    assert policy["metadata"]["as_of"] == "2026-01-31T00:00:00Z"
    restart = next(a for a in policy["actions"] if a["action_class"] == "k8s.restart_pod")
    assert restart["evidence"]["decisions"] == 31  # days 0..30
    assert restart["level"] == "suggest", "31 approvals are not enough for auto_notify"
    assert policy["metadata"]["ingest"]["after_as_of"] == 110 - 31 - 15 - 4  # days > 30
    assert yaml.safe_load(ok("generate", history_csv, "--as-of", "2026-01-31").stdout) == policy


def test_bad_as_of_is_a_usage_error(history_csv: Path) -> None:
    result = run("generate", history_csv, "--as-of", "last tuesday")
    assert_clean_failure(result)
    assert "--as-of" in result.stderr and "'last tuesday'" in result.stderr


# --- bad input through the CLI ------------------------------------------------------------------

BadLog = Callable[[LogFiles], tuple[Path, str]]


def _csv_case(column: str, value: str, expected: str) -> BadLog:
    def make(logs: LogFiles) -> tuple[Path, str]:
        path = logs.csv([row("a"), row("b", day=1), {**row("c", day=2), column: value}])
        return path, f"{path}:4: column '{column}': {expected}"

    return make


def _missing_column(logs: LogFiles) -> tuple[Path, str]:
    path = logs.csv([{k: v for k, v in row("a").items() if k != "mode"}])
    return path, f"{path}:1: missing required column 'mode'"


def _conflict(logs: LogFiles) -> tuple[Path, str]:
    path = logs.csv([row("a"), row("b"), row("a", day=1, human_decision="rejected")])
    return path, f"{path}:4: column 'human_decision': 'rejected' conflicts with 'approved'"


def _header_only(logs: LogFiles) -> tuple[Path, str]:
    path = logs.csv([], columns=list(row("a")))
    return path, f"{path}:1: no decisions"


def _multi_line(logs: LogFiles) -> tuple[Path, str]:
    path = logs.csv([row("a", rationale="one\ntwo\nthree"), row("b", outcome="great")])
    return path, f"{path}:5: column 'outcome': 'great' is not one of"


def _not_executed(logs: LogFiles) -> tuple[Path, str]:
    path = logs.csv([row("a", executed="false", outcome="success")])
    return path, f"{path}:2: column 'outcome': an action that was not executed"


def _parquet(logs: LogFiles) -> tuple[Path, str]:
    path = logs.parquet([row("a"), row("b", system_tier="5")], "bad.parquet")
    return path, f"{path}:row 1: column 'system_tier': '5' is not a system tier 1..4"


def _jsonl(logs: LogFiles) -> tuple[Path, str]:
    path = logs.text("bad.jsonl", json.dumps(row("a")) + "\n\n" + json.dumps(row("b", mode="x")))
    return path, f"{path}:3: column 'mode': 'x' is not one of"


def _unknown_format(logs: LogFiles) -> tuple[Path, str]:
    path = logs.text("decisions.xlsx", "")
    return path, f"{path}: unknown log format"


BAD_LOGS: dict[str, BadLog] = {
    "executed": _csv_case("executed", "maybe", "'maybe' is not true/false"),
    "timestamp": _csv_case("timestamp", "soon", "'soon' is not an ISO-8601 timestamp"),
    "human_decision": _csv_case("human_decision", "meh", "'meh' is not one of approved"),
    "severity": _csv_case("severity", "bad", "'bad' is not one of minor"),
    "risk_tier": _csv_case("risk_tier", "0", "'0' is not a risk tier 1..3"),
    "ai_confidence": _csv_case("ai_confidence", "1.5", "'1.5' is not a number in [0, 1]"),
    "action_class": _csv_case("action_class", "a b", "'a b' must match"),
    "decision_id": _csv_case("decision_id", "", "empty; an id is required"),
    "missing_column": _missing_column,
    "conflict": _conflict,
    "header_only": _header_only,
    "multi_line": _multi_line,
    "not_executed": _not_executed,
    "parquet": _parquet,
    "jsonl": _jsonl,
    "unknown_format": _unknown_format,
}


@pytest.mark.parametrize("case", sorted(BAD_LOGS))
def test_bad_input_exits_2_and_writes_nothing(logs: LogFiles, tmp_path: Path, case: str) -> None:
    path, expected = BAD_LOGS[case](logs)
    out = tmp_path / "policy.yaml"
    result = run("generate", path, "-o", out)
    assert_clean_failure(result)
    assert expected in result.stderr, result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("case", ["executed", "conflict", "parquet"])
def test_bad_input_leaves_an_existing_policy_untouched(
    logs: LogFiles, tmp_path: Path, case: str
) -> None:
    path, expected = BAD_LOGS[case](logs)
    out = tmp_path / "policy.yaml"
    out.write_bytes(b"# the committed policy\r\nkeep: me\n")
    before = sorted(tmp_path.iterdir())
    result = run("generate", path, "-o", out)
    assert_clean_failure(result)
    assert expected in result.stderr
    assert out.read_bytes() == b"# the committed policy\r\nkeep: me\n"
    assert sorted(tmp_path.iterdir()) == before, "no temporary file left behind"


@pytest.mark.parametrize("command", ["check", "explain", "validate"])
def test_bad_logs_exit_2_in_every_command(logs: LogFiles, tmp_path: Path, command: str) -> None:
    good = logs.csv(history(), name="good.csv")
    policy = tmp_path / "policy.yaml"
    ok("generate", good, "-o", policy)
    path, expected = BAD_LOGS["executed"](logs)
    args: dict[str, list[str | Path]] = {
        "check": ["check", path, "--policy", policy],
        "explain": ["explain", "k8s.restart_pod", path],
        "validate": ["validate", path],
    }
    result = run(*args[command])
    assert_clean_failure(result)
    assert expected in result.stderr


def test_long_error_lines_are_not_wrapped(logs: LogFiles) -> None:
    deep = "a-rather-long-directory-name-that-makes-the-path-long/" * 3
    path = logs.csv([row("a", executed="maybe")], name=deep + "decisions.csv")
    result = run("generate", path)
    assert_clean_failure(result)
    assert result.stderr == f"error: {path}:2: column 'executed': 'maybe' is not true/false\n"


def test_output_into_a_missing_directory_is_a_usage_error(
    history_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "no" / "such" / "policy.yaml"
    result = run("generate", history_csv, "-o", out)
    assert_clean_failure(result)
    assert str(out) in result.stderr and "cannot write" in result.stderr


# --- skipping bad rows -------------------------------------------------------------------------


def test_skip_writes_the_bad_rows_out(logs: LogFiles, tmp_path: Path) -> None:
    rows = [
        *history(),
        {**row("bad-1", day=3, executed="maybe"), "ticket": "OPS-1"},
        {**row("bad-2", day=4), "ticket": "OPS-2"},
        {**row("bad-2", day=5, outcome="failure"), "ticket": "OPS-3"},
    ]
    path = logs.csv(rows)
    out, bad = tmp_path / "policy.yaml", tmp_path / "bad.jsonl"
    result = ok("generate", path, "--on-bad-rows", "skip", "--bad-rows-out", bad, "-o", out)
    assert "warning: skipped 2 decision(s) (3 row(s)) with bad data" in result.stderr
    ingest = load_yaml(out)["metadata"]["ingest"]
    assert (ingest["skipped_decisions"], ingest["skipped_rows"]) == (2, 3)
    assert ingest["decisions"] == 110
    written = [json.loads(line) for line in bad.read_text().splitlines()]
    assert [w["location"] for w in written] == [f"{path}:112", f"{path}:113", f"{path}:114"]
    assert written[0]["errors"] == ["column 'executed': 'maybe' is not true/false"]
    assert written[0]["record"]["ticket"] == "OPS-1"
    assert written[0]["record"]["executed"] == "maybe"
    assert written[1]["errors"] == ["another row of this decision is bad"]
    assert "conflicts with 'success'" in written[2]["errors"][0]


def test_skip_without_bad_rows_writes_an_empty_file(history_csv: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    result = ok("generate", history_csv, "--on-bad-rows", "skip", "--bad-rows-out", bad)
    assert bad.read_text() == ""
    assert "skipped" not in result.stderr


def test_a_policy_that_cannot_be_written_leaves_no_bad_rows_file(
    logs: LogFiles, tmp_path: Path
) -> None:
    path = logs.csv([*history(), row("bad-1", day=3, executed="maybe")])
    out, bad = tmp_path / "missing" / "policy.yaml", tmp_path / "bad.jsonl"
    result = run("generate", path, "--on-bad-rows", "skip", "--bad-rows-out", bad, "-o", out)
    assert result.exit_code == 2, result.output
    assert f"error: {out}: cannot write" in result.stderr
    assert not bad.exists()


def test_bad_rows_out_needs_skip(history_csv: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    result = run("generate", history_csv, "--bad-rows-out", bad)
    assert_clean_failure(result)
    assert "--bad-rows-out needs --on-bad-rows skip" in result.stderr
    assert not bad.exists()


def test_naive_timestamps_are_noted(logs: LogFiles) -> None:
    path = logs.csv([row("a", timestamp="2026-01-01T10:00:00"), row("b")])
    result = ok("generate", path)
    assert "note: 1 timestamp(s) had no time zone and were read as UTC" in result.stderr


# --- check ------------------------------------------------------------------------------------


@pytest.fixture
def committed(history_csv: Path, tmp_path: Path) -> Path:
    """The policy generated from :func:`history`, as committed."""
    path = tmp_path / "committed.yaml"
    ok("generate", history_csv, "-o", path)
    return path


def _edit_level(policy: Path, action_class: str, level: str) -> None:
    data = load_yaml(policy)
    for action in data["actions"]:
        if action["action_class"] == action_class:
            action["level"] = level
    policy.write_text(yaml.safe_dump(data, sort_keys=False))


def test_check_passes_on_a_fresh_policy(history_csv: Path, committed: Path) -> None:
    result = ok("check", history_csv, "--policy", committed)
    ledger = committed.with_suffix(".ledger.jsonl")
    assert f"{committed}: up to date (3 groups; ledger {ledger}: 4 entries, chain intact)" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("action_class", "level", "why"),
    [
        ("db.failover", "full", "risk_tier"),
        ("k8s.rollback", "auto_notify", "upper bound"),
    ],
)
def test_check_finds_an_edited_level(
    history_csv: Path, committed: Path, action_class: str, level: str, why: str
) -> None:
    _edit_level(committed, action_class, level)
    result = run("check", history_csv, "--policy", committed)
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines() == [
        f"policy: {committed}: {action_class}: level {level} is not in the ledger (last entry: "
        "suggest on 2026-03-23) — edited by hand?",
        f"{committed}: 1 problem(s) (policy)",
    ]
    assert "Traceback" not in result.output
    # Without the ledger's record, the evidence still says why the level cannot stand.
    committed.with_suffix(".ledger.jsonl").unlink()
    result = run("check", history_csv, "--policy", committed)
    assert result.exit_code == 1, result.output
    line = next(x for x in result.stdout.splitlines() if f": {action_class}: " in x)
    assert f"drift: {committed}: {action_class}: would be demoted {level} → suggest: " in line
    assert why in line


def test_check_malformed_policy_names_the_key(history_csv: Path, committed: Path) -> None:
    _edit_level(committed, "k8s.rollback", "turbo")
    result = run("check", history_csv, "--policy", committed)
    assert_clean_failure(result)
    assert f"{committed}: actions.2.level:" in result.stderr


def test_check_policy_that_is_not_yaml(history_csv: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("actions: [\n")
    result = run("check", history_csv, "--policy", broken)
    assert_clean_failure(result)
    assert str(broken) in result.stderr


def test_check_unknown_top_level_key(history_csv: Path, committed: Path) -> None:
    data = load_yaml(committed)
    data["extra"] = 1
    committed.write_text(yaml.safe_dump(data))
    result = run("check", history_csv, "--policy", committed)
    assert_clean_failure(result)
    assert f"{committed}: extra:" in result.stderr


def test_check_needs_the_policy_option(history_csv: Path) -> None:
    result = run("check", history_csv)
    assert result.exit_code == 2
    assert "--policy" in result.output and "Traceback" not in result.output


# --- diff -------------------------------------------------------------------------------------


@pytest.fixture
def two_policies(history_csv: Path, tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", history_csv, "--as-of", "2026-01-31T00:00:00Z", "-o", old)
    ok("generate", history_csv, "-o", new)
    return old, new


def test_diff_table(two_policies: tuple[Path, Path]) -> None:
    out = ok("diff", *two_policies).stdout
    assert "policy changes" in out
    line = next(x for x in out.splitlines() if "k8s.restart_pod" in x)
    assert "promoted" in line and "suggest" in line and "auto_notify" in line
    levels = out.split("next level: other distance")[0]
    assert "k8s.rollback" not in levels and "db.failover" not in levels


def test_diff_markdown(two_policies: tuple[Path, Path]) -> None:
    out = ok("diff", *two_policies, "--format", "markdown").stdout
    # The same body as `update --pr-body` (test_update.py checks its parts).
    assert out.startswith("## trustctl: 1 level change(s) (1 promoted)\n")
    change = "- **k8s.restart_pod**: suggest ↑ auto_notify (promoted)\n  - why: promoted suggest"
    assert change in out


def test_diff_json(two_policies: tuple[Path, Path]) -> None:
    found = json.loads(ok("diff", *two_policies, "--format", "json").stdout)
    assert [m["name"] for m in found["metadata"]] == ["as_of"]
    changes = found["levels"]
    assert len(changes) == 1
    change = changes[0]
    assert (change["label"], change["kind"], change["old"], change["new"]) == (
        "k8s.restart_pod",
        "promoted",
        "suggest",
        "auto_notify",
    )
    assert change["reason"].startswith("promoted suggest → auto_notify")


def test_diff_of_equal_policies(two_policies: tuple[Path, Path]) -> None:
    _, new = two_policies
    assert ok("diff", new, new).stdout == "no autonomy level changes\n"
    markdown = ok("diff", new, new, "--format", "markdown").stdout
    assert markdown.startswith("## trustctl: no level changes\n")
    assert "### Level changes\n\nNone.\n" in markdown
    assert json.loads(ok("diff", new, new, "--format", "json").stdout) == {
        "metadata": [],
        "levels": [],
        "distances": [],
        "proposals": [],
    }


def test_diff_of_a_missing_file(two_policies: tuple[Path, Path], tmp_path: Path) -> None:
    result = run("diff", two_policies[0], tmp_path / "missing.yaml")
    assert_clean_failure(result)
    assert "missing.yaml" in result.stderr


# --- explain ----------------------------------------------------------------------------------


def test_explain_shows_reason_rules_and_disagreements(history_csv: Path) -> None:
    out = ok("explain", "k8s.rollback", history_csv).stdout
    assert out.startswith("k8s.rollback: suggest (unchanged)")
    assert "reason: stays at suggest: 40 reviewed < 50 needed" in out
    assert "promote.auto_notify.agreement.min_decisions" in out
    assert "promote.auto_notify.agreement.threshold" in out
    assert "FAIL" in out
    assert "32 approved of 40 reviewed" in out
    assert "recent disagreements" in out
    assert "rb-039" in out and "rollback 39 would drop the hotfix" in out
    assert out.index("rb-039") < out.index("rb-034"), "most recent first"


def test_explain_unknown_class_lists_the_known_ones(history_csv: Path) -> None:
    result = run("explain", "k8s.nothing", history_csv)
    assert_clean_failure(result)
    assert "'k8s.nothing'" in result.stderr
    assert "known classes: db.failover, k8s.restart_pod, k8s.rollback" in result.stderr


# --- validate ---------------------------------------------------------------------------------


def _rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text("apiVersion: trustctl/v1\nkind: TrustRules\n" + body)
    return path


def test_validate_good_inputs(history_csv: Path, committed: Path, tmp_path: Path) -> None:
    rules = _rules_file(tmp_path, "window: 90d\n")
    out = ok("validate", history_csv, "--rules", rules, "--policy", committed).stdout
    assert f"rules: ok ({rules})" in out
    assert f"policy: ok ({committed}, 3 groups)" in out
    assert "logs: ok (1 file(s), 110 rows, 110 decisions)" in out
    assert ok("validate").stdout == "rules: ok (built-in defaults)\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("promote:\n  full:\n    success: {threshold: 1.5}\n", "promote.full.success.threshold"),
        ("windoww: 10d\n", "windoww"),
        ("initial_level: turbo\n", "initial_level"),
        ("bounds: {confidence: 0}\n", "bounds.confidence"),
        ("window: forever\n", "window"),
        ("window: 0d\n", "window: must be > 0"),
        ("window: 99999999999999d\n", "window: at most 36500d"),
        ("group_by: [system_tier, action_class]\n", "group_by: must start with 'action_class'"),
    ],
)
def test_validate_bad_rules_names_the_key(tmp_path: Path, body: str, expected: str) -> None:
    rules = _rules_file(tmp_path, body)
    result = run("validate", "--rules", rules)
    assert_clean_failure(result)
    assert f"error: {rules}: {expected}" in result.stderr, result.stderr


def test_bad_rules_stop_generate_too(history_csv: Path, tmp_path: Path) -> None:
    rules = _rules_file(tmp_path, "promote:\n  full:\n    success: {threshold: 1.5}\n")
    out = tmp_path / "policy.yaml"
    result = run("generate", history_csv, "--rules", rules, "-o", out)
    assert_clean_failure(result)
    assert "promote.full.success.threshold" in result.stderr
    assert not out.exists()


def test_validate_bad_policy_and_logs(tmp_path: Path, logs: LogFiles) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("apiVersion: trustctl/v1\nkind: TrustRules\n")
    result = run("validate", "--policy", policy)
    assert_clean_failure(result)
    assert f"{policy}: kind:" in result.stderr
    path, expected = BAD_LOGS["conflict"](logs)
    result = run("validate", path)
    assert_clean_failure(result)
    assert expected in result.stderr


# --- the application ------------------------------------------------------------------------


def test_version() -> None:
    result = ok("--version")
    assert result.stdout == f"trustctl {__version__}\n" == "trustctl 0.1.0\n"


def _command_names() -> list[str]:
    group = typer.main.get_command(app)
    commands = getattr(group, "commands", {})
    assert isinstance(commands, Mapping)
    return sorted(commands)


def test_every_command_is_registered() -> None:
    assert {"generate", "check", "diff", "explain", "validate", "sample"} <= set(_command_names())


@pytest.mark.parametrize("command", [None, *_command_names()])
def test_help_of_every_command(command: str | None) -> None:
    result = ok(*([command] if command else []), "--help")
    assert "Usage:" in result.stdout
    if command:
        assert command in result.stdout


def test_no_arguments_shows_help() -> None:
    result = run()
    assert "Usage:" in result.output and "generate" in result.output


def test_python_dash_m() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "trustctl", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "trustctl 0.1.0\n"


def test_an_unexpected_exception_is_an_internal_error(
    history_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trustctl.record

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(trustctl.record, "evaluate", explode)
    out = tmp_path / "policy.yaml"
    result = run("generate", history_csv, "-o", out)
    assert result.exit_code == 3
    assert result.stderr.startswith("internal error: RuntimeError: boom")
    assert "please report it" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_internal_error_in_validate(history_csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trustctl.ingest

    def explode(*args: object, **kwargs: object) -> None:
        raise KeyError("column")

    monkeypatch.setattr(trustctl.ingest, "load_decisions", explode)
    result = run("validate", history_csv)
    assert result.exit_code == 3
    assert "internal error: KeyError" in result.stderr and "Traceback" not in result.output


def test_sample_into_an_existing_file_is_a_usage_error(tmp_path: Path) -> None:
    existing = tmp_path / "decisions.csv"
    existing.write_text("keep\n")
    result = run("sample", "-o", existing, "--decisions", "20")
    assert_clean_failure(result)
    assert f"error: {existing}: not a directory" in result.stderr
    assert existing.read_text() == "keep\n"


def test_the_command_layer_does_not_rely_on_assert() -> None:
    """``python -O`` strips asserts: checks the commands need are written as code."""
    package = Path(trustctl._terminal.__file__ or "").parent
    modules = [package / "_terminal.py", *sorted(package.glob("cli*.py"))]
    assert len(modules) > 2, modules
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)], path


def test_sample_command(tmp_path: Path) -> None:
    pytest.importorskip("trustctl.sample")
    folder = tmp_path / "sample"
    result = ok("sample", "-o", folder, "--decisions", "300", "--seed", "3")
    written = sorted(folder.iterdir())
    assert written and "wrote 300 decisions" in result.stdout
    first = [p.read_bytes() for p in written]
    ok("sample", "-o", folder, "--decisions", "300", "--seed", "3")
    assert [p.read_bytes() for p in sorted(folder.iterdir())] == first, "same seed, same bytes"
    assert "300 decisions" in ok("validate", folder).stdout


# --- a reader that closes stdout early (| head) ------------------------------------------------


# Every registered format reaches stdout through one ``sys.stdout.write`` (trustctl.formats):
# one of generate's formats stands for all of them; check and explain print line by line.
@pytest.mark.parametrize("command", ["generate-table", "check-drift", "explain", "diff"])
def test_a_closed_stdout_exits_141_quietly(
    history_csv: Path, committed: Path, tmp_path: Path, command: str
) -> None:
    """Exit 141 (as if killed by SIGPIPE), never 1 (``check``'s drift) or 3, and no traceback."""
    stale = tmp_path / "stale.yaml"
    stale.write_bytes(committed.read_bytes())
    _edit_level(stale, "db.failover", "full")
    args: dict[str, list[str | Path]] = {
        "generate-table": ["generate", history_csv, "--format", "table"],
        "check-drift": ["check", history_csv, "--policy", stale],
        "explain": ["explain", "k8s.rollback", history_csv],
        "diff": ["diff", stale, committed],
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "trustctl", *map(str, args[command])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command has written anything: every write fails
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, stderr
    assert stderr == ""


def test_the_console_leaves_a_broken_pipe_to_the_command_wrapper() -> None:
    console = trustctl._terminal.out()
    with pytest.raises(BrokenPipeError):
        console.on_broken_pipe()
    assert console.quiet


def test_a_group_held_at_its_cap_is_limited_by_the_cap() -> None:
    """k8s.scale, promoted onto its system_tier=2 cap, names the cap, as cap.by does."""
    policy = yaml.safe_load(ok("generate", "sample_data/").stdout)
    at_cap = [
        a
        for a in policy["actions"]
        if a["cap"]["by"] and a["level"] == a["cap"]["level"] and not a.get("pin")
    ]
    assert {a["action_class"] for a in at_cap} >= {"k8s.scale", "db.failover"}
    assert [a["limited_by"] for a in at_cap] == [a["cap"]["by"] for a in at_cap]


def _groups(table: str) -> list[str]:
    rows = table.split("─\n", 1)[1].splitlines()[:-1]
    return [line.split()[0] for line in rows if line and not line.startswith(" ")]


def test_sort_orders_the_table_and_markdown_not_the_policy() -> None:
    by_name = _groups(ok("generate", "sample_data/", "--format", "table").stdout)
    assert by_name == sorted(by_name)
    by_level = _groups(
        ok("generate", "sample_data/", "--format", "table", "--sort", "level").stdout
    )
    assert by_level[:3] == ["cert.renew", "k8s.restart_pod", "k8s.scale"]  # auto_notify
    assert by_level[-1] == "queue.redrive"  # observe
    by_next = _groups(ok("generate", "sample_data/", "--format", "table", "--sort", "next").stdout)
    # 0 clean (a sign-off), then 2, 13, 14 … clean decisions; the capped at the end
    assert by_next[:4] == ["k8s.restart_pod", "k8s.cordon_node", "k8s.rollback", "dns.update"]
    assert by_next[-1] == "queue.redrive"
    markdown = ok("generate", "sample_data/", "--format", "markdown", "--sort", "next").stdout
    rows = [line.split("`")[1] for line in markdown.splitlines() if line.startswith("| `")]
    assert rows == by_next
    policy = ok("generate", "sample_data/", "--sort", "level").stdout
    assert policy == ok("generate", "sample_data/").stdout


def test_sort_orders_csv_and_json_too() -> None:
    for order in ("name", "level", "next"):
        table = _groups(ok("generate", "sample_data/", "--format", "table", "--sort", order).stdout)
        csv_text = ok("generate", "sample_data/", "--format", "csv", "--sort", order).stdout
        assert [line.split(",")[0] for line in csv_text.splitlines()[1:]] == table, order
        data = json.loads(
            ok("generate", "sample_data/", "--format", "json", "--sort", order).stdout
        )
        assert [a["action_class"] for a in data["actions"]] == table, order
    # the default order is the policy's own: JSON on stdout is the policy as -o writes it
    plain = ok("generate", "sample_data/", "--format", "json").stdout
    assert plain == ok("generate", "sample_data/", "--format", "json", "--sort", "name").stdout


def _services_by_tier(action_class: str) -> dict[str, set[str]]:
    """Each system tier of the class's rows in the sample, with the services named there."""
    found: dict[str, set[str]] = {}
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            if row["action_class"] == action_class and row["system_tier"]:
                found.setdefault(row["system_tier"], set()).update({row["service"]} - {""})
    return found


def test_a_capped_groups_next_names_its_tier_and_services_in_every_format() -> None:
    scale, flags = _services_by_tier("k8s.scale"), _services_by_tier("feature_flag.disable")
    assert len(scale) > 1 and len(flags) == 1  # k8s.scale spans tiers; the flags one does not
    expected = {
        "k8s.scale": f"capped at auto_notify by system_tier=2 (services: "
        f"{', '.join(sorted(scale['2']))}); adding system_tier to group_by would split it, "
        "each tier judged apart",
        "feature_flag.disable": f"capped at suggest by system_tier=3 (services: "
        f"{', '.join(sorted(flags['3']))})",
    }
    policy = json.loads(ok("generate", "sample_data/", "--format", "json").stdout)
    needs = {a["action_class"]: a["next"]["needs"] for a in policy["actions"]}
    rows = csv.DictReader(io.StringIO(ok("generate", "sample_data/", "--format", "csv").stdout))
    by_group = {r["group"]: r for r in rows}
    markdown = ok("generate", "sample_data/", "--format", "markdown").stdout
    wide = ok("generate", "sample_data/", "--format", "table", "--wide").stdout
    assert "…" not in wide
    for group, text in expected.items():
        assert needs[group] == text
        assert by_group[group]["needs"] == text
        assert next(line for line in markdown.splitlines() if f"`{group}`" in line).count(text)
        assert f"{group} " in wide and "(services:" in wide  # cells wrap, never cut
        explained = ok("explain", group, "sample_data/", "--format", "markdown").stdout
        assert f"- next: –: {text}" in explained
