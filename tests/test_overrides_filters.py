"""``--set`` and ``--where`` on every command that evaluates: equal to the edited file or log."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import failure, ok, policy_yaml, run
from conftest import SAMPLE_CSV, sample_rows

from trustctl.overrides import effective_sha256
from trustctl.rules import load_rules

SAMPLE = SAMPLE_CSV.parent


def _policy(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    return data


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- --set -----------------------------------------------------------------------------------

SETS = [
    ("promote.auto_notify.agreement.threshold=0.97", "promote:\n  auto_notify:\n    agreement:\n"
     "      min_decisions: 50\n      threshold: 0.97\n"),
    ("window=90d", "window: 90d\n"),
    ("caps.system_tier.3=auto_notify", "caps:\n  system_tier:\n    3: auto_notify\n"),
    ("promote.auto_notify.agreement.min_decisions=100", "promote:\n  auto_notify:\n"
     "    agreement:\n      min_decisions: 100\n      threshold: 0.95\n"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "file_text"), SETS)
def test_set_equals_a_rules_file_with_the_same_change(
    override: str, file_text: str, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(file_text)
    by_set = _policy(policy_yaml(SAMPLE, "--set", override))
    by_file = _policy(policy_yaml(SAMPLE, "--rules", rules))
    assert by_set["actions"] == by_file["actions"]
    assert by_set["metadata"]["rules"]["overrides"] == [override]
    assert by_set["metadata"]["rules"]["effective_sha256"] == effective_sha256(
        load_rules(rules).rules
    )
    assert "overrides" not in by_file["metadata"]["rules"]


def test_set_changes_something_and_lays_over_a_rules_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("window: 90d\n")
    both = tmp_path / "both.yaml"
    both.write_text("window: 90d\ncooldown: 14d\n")
    by_set = _policy(policy_yaml(SAMPLE, "--rules", rules, "--set", "cooldown=14d"))
    assert by_set["actions"] == _policy(policy_yaml(SAMPLE, "--rules", both))["actions"]
    assert by_set["metadata"]["rules"]["path"] == str(rules)
    plain = _policy(policy_yaml(SAMPLE))
    stricter = _policy(policy_yaml(SAMPLE, "--set", "promote.auto_notify.agreement.threshold=0.99"))
    assert plain["actions"] != stricter["actions"]


# --- --where ---------------------------------------------------------------------------------


def _blanked_later_rows() -> tuple[list[str], list[list[str]]]:
    """The sample with ``service`` left empty in every event row after a decision's first."""
    header, rows = sample_rows()
    at = header.index("service")
    seen: set[str] = set()
    for values in rows:
        if values[0] in seen:
            values[at] = ""
        seen.add(values[0])
    return header, rows


def test_where_equals_the_log_without_that_services_decisions(tmp_path: Path) -> None:
    header, rows = _blanked_later_rows()
    at = header.index("service")
    assert sum(1 for r in rows if r[at] == "") > 500  # the later rows do not repeat it
    dropped = {r[0] for r in rows if r[at] == "ci-runners"}
    log = _write_csv(tmp_path / "all.csv", header, rows)
    without = _write_csv(tmp_path / "without.csv", header, [r for r in rows if r[0] not in dropped])
    filtered = _policy(policy_yaml(log, "--where", "service!=ci-runners"))
    removed = _policy(policy_yaml(without))
    assert filtered["actions"] == removed["actions"]
    assert filtered["metadata"]["as_of"] == removed["metadata"]["as_of"]
    assert filtered["metadata"]["filters"] == ["service!=ci-runners"]
    # grep's way (dropping only the rows that name the service) keeps half-decisions:
    grepped = _write_csv(tmp_path / "grep.csv", header, [r for r in rows if r[at] != "ci-runners"])
    assert _policy(policy_yaml(grepped))["actions"] != removed["actions"]


@pytest.mark.parametrize(
    ("expr", "kept"),
    [
        ("system_tier<=2", lambda r, h: r[h.index("system_tier")] in ("1", "2")),
        ("service in search,catalog", lambda r, h: r[h.index("service")] in ("search", "catalog")),
        ("timestamp>=2026-09-01", lambda r, h: r[h.index("timestamp")] >= "2026-09-01"),
        ("agent_version=agent-2.4.0", lambda r, h: r[h.index("agent_version")] == "agent-2.4.0"),
    ],
)
def test_where_by_each_operator_equals_the_log_cut_by_hand(
    expr: str, kept: Any, tmp_path: Path
) -> None:
    header, rows = sample_rows()
    first: dict[str, list[str]] = {}
    for values in rows:
        first.setdefault(values[0], values)
    keep = {d for d, values in first.items() if kept(values, header)}
    assert 0 < len(keep) < len(first)
    cut = _write_csv(tmp_path / "cut.csv", header, [r for r in rows if r[0] in keep])
    filtered = _policy(policy_yaml(SAMPLE, "--where", expr))
    assert filtered["actions"] == _policy(policy_yaml(cut))["actions"]


def test_where_is_the_same_in_low_memory_and_on_evidence_files(tmp_path: Path) -> None:
    expr = "service!=ci-runners"
    plain = _policy(policy_yaml(SAMPLE, "--where", expr))
    low = _policy(policy_yaml(SAMPLE, "--where", expr, "--low-memory"))
    assert low["actions"] == plain["actions"]
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", SAMPLE, "-o", evidence)
    from_evidence = _policy(policy_yaml(evidence, "--evidence", "--where", expr))
    assert from_evidence["actions"] == plain["actions"]
    assert from_evidence["metadata"]["filters"] == [expr]
    said = failure(run("generate", evidence, "--evidence", "--where", "reviewer=x"))
    assert "evidence files keep only" in said and "reviewer" in said


# --- bad input on every evaluating command -----------------------------------------------------

BAD = [
    (["--set", "promote.auto_notify.agreement.threshhold=0.9"], "did you mean"),
    (["--set", "window=ninety"], "window"),
    (["--set", "promote.auto_notify.agreement.threshold=1.5"], "threshold: must be < 1"),
    (["--set", "no_equals"], "KEY=VALUE"),
    (["--where", "servce=x"], "did you mean 'service'"),
    (["--where", "system_tier<=nine"], "not a tier"),
    (["--where", "outcome>failure"], "has no order"),
    (["--where", "service~x"], "expected COLUMN OP VALUE"),
]


def _commands(tmp_path: Path) -> dict[str, tuple[list[str | Path], Path | None]]:
    policy = tmp_path / "policy.yaml"
    ok("generate", SAMPLE, "-o", policy)
    return {
        "generate": (["generate", SAMPLE, "-o", tmp_path / "out.yaml"], tmp_path / "out.yaml"),
        "check": (["check", SAMPLE, "--policy", policy], None),
        "explain": (["explain", "k8s.scale", SAMPLE], None),
        "history": (["history", SAMPLE], None),
    }


def test_bad_overrides_and_filters_exit_2_on_every_command(tmp_path: Path) -> None:
    for name, (args, written) in _commands(tmp_path).items():
        for bad, said in BAD:
            message = failure(run(*args, *bad))
            assert said in message, (name, bad, message)
            assert written is None or not written.exists(), (name, bad)


def test_every_evaluating_command_honours_set_and_where(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    changes = ["--set", "caps.risk_tier.1=suggest", "--where", "service!=search"]
    ok("generate", SAMPLE, "-o", policy, *changes)
    ok("check", SAMPLE, "--policy", policy, *changes)
    assert run("check", SAMPLE, "--policy", policy).exit_code == 1
    explained = ok("explain", "k8s.scale", SAMPLE, "--set", "window=90d").stdout
    assert explained != ok("explain", "k8s.scale", SAMPLE).stdout
    history = ok("history", SAMPLE, "--where", "service!=search", "--format", "csv").stdout
    assert history != ok("history", SAMPLE, "--format", "csv").stdout
