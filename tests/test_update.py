"""trustctl update: the weekly job in one step — rewrite and exit 1 only when a level changes."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.clirun import failure, ok, run

SAMPLE = Path("sample_data/decisions.csv").resolve()
RULES = Path("policies/rules.yaml").resolve()


@pytest.fixture
def week(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """logs/w47.csv (the shipped sample) and policy.yaml made from it, in the working directory."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    shutil.copy(SAMPLE, tmp_path / "logs" / "w47.csv")
    first = run("update", "logs/", "--policy", "policy.yaml")
    assert first.exit_code == 1, first.output
    return tmp_path


def _next_week(root: Path) -> None:
    ok("sample", "-o", root / "w48", "--start", "2026-11-20", "--id-prefix", "w48-", "--seed", "48")
    shutil.move(root / "w48" / "decisions.csv", root / "logs" / "w48.csv")


def test_the_first_run_writes_the_policy_and_asks_for_a_pull_request(week: Path) -> None:
    text = (week / "policy.yaml").read_text(encoding="utf-8")
    ok("generate", "logs/", "-o", "expected.yaml")
    assert text == (week / "expected.yaml").read_text(encoding="utf-8")


def test_nothing_new_changes_nothing_and_exits_0(week: Path) -> None:
    before = (week / "policy.yaml").read_bytes()
    result = ok("update", "logs/", "--policy", "policy.yaml", "--summary-json", "run.json")
    assert result.stdout == "policy.yaml: no level changes (12 groups); nothing rewritten\n"
    assert (week / "policy.yaml").read_bytes() == before
    assert json.loads((week / "run.json").read_text())["changed"] is False


def test_a_level_change_rewrites_the_policy_exits_1_and_writes_the_body(week: Path) -> None:
    _next_week(week)
    result = run(
        "update", "logs/", "--policy", "policy.yaml", "--pr-body", "body.md",
        "--summary-json", "run.json",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == (
        "policy.yaml: rewritten: 2 level change(s) (2 promoted)"
    )
    body = (week / "body.md").read_text(encoding="utf-8")
    assert "- Window end (as_of): 2026-11-19T21:13:30Z → 2026-11-26T22:19:23Z" in body
    assert "  - `logs/w48.csv` (366 rows, 315 decisions)" in body
    assert "- **dns.update**: suggest ↑ auto_notify (promoted)" in body
    assert "  - agreement: 99/100 approved, lower bound 0.953, upper 1.000" in body
    assert "### Closest to promotion" in body and "$ trustctl explain dns.update" in body
    summary = json.loads((week / "run.json").read_text(encoding="utf-8"))
    assert summary["changed"] is True
    assert [c["group"] for c in summary["changes"]] == ["dns.update", "k8s.cordon_node"]
    assert ok("check", "logs/", "--policy", "policy.yaml").exit_code == 0
    again = (week / "policy.yaml").read_bytes()
    ok("update", "logs/", "--policy", "policy.yaml")
    assert (week / "policy.yaml").read_bytes() == again


def test_a_demotion_names_the_incidents_reviewers_and_rationales(week: Path) -> None:
    policy = (week / "policy.yaml").read_text(encoding="utf-8")
    # The policy of a week when the tier cap was not there yet: auto_notify, consistently.
    entry = "- action_class: feature_flag.disable\n  level: {0}\n  previous_level: {0}\n"
    raised = policy.replace(entry.format("suggest"), entry.format("auto_notify"))
    assert raised != policy
    # A policy kept without a ledger (with one, this edit is refused as tampering).
    raised = re.sub(r"  ledger:\n    seq: \d+\n    hash: \w+\n", "", raised)
    (week / "policy.ledger.jsonl").unlink()
    (week / "policy.yaml").write_text(raised, encoding="utf-8")
    result = run("update", "logs/", "--policy", "policy.yaml", "--pr-body", "body.md")
    assert result.exit_code == 1, result.output
    body = (week / "body.md").read_text(encoding="utf-8")
    assert "- **feature_flag.disable**: auto_notify ↓ suggest (demoted)" in body
    assert (
        "  - record at the old level (from 2026-09-06): 164/167 approved, upper bound 0.996; "
        "163/164 succeeded, upper bound 1.000"
    ) in body
    assert (
        "  - `d-0005841` 2026-11-16 rejected, reviewer j.moreau@example.com, "
        '“runbook says "page the owner first"”'
    ) in body


def test_a_level_edited_by_hand_fails_the_job(week: Path) -> None:
    policy = (week / "policy.yaml").read_text(encoding="utf-8")
    entry = "- action_class: cert.renew\n  level: "
    edited = policy.replace(entry + "auto_notify", entry + "full")
    assert edited != policy
    (week / "policy.yaml").write_text(edited, encoding="utf-8")
    stderr = failure(run("update", "logs/", "--policy", "policy.yaml", "--pr-body", "body.md"))
    assert stderr == (
        "error: policy.yaml: cert.renew: level full, but the policy says unchanged from "
        "auto_notify — edited by hand?\n"
    )
    assert (week / "policy.yaml").read_text(encoding="utf-8") == edited
    assert not (week / "body.md").exists()


def test_diff_markdown_is_the_same_body_without_the_logs(week: Path) -> None:
    shutil.copy(week / "policy.yaml", week / "before.yaml")
    _next_week(week)
    run("update", "logs/", "--policy", "policy.yaml", "--pr-body", "body.md")
    body = (week / "body.md").read_text(encoding="utf-8")
    diff = ok("diff", "before.yaml", "policy.yaml", "--format", "markdown").stdout
    assert diff.split("### Reproduce")[0] == body.split("### Reproduce")[0]


def test_bad_input_is_exit_2_and_writes_nothing(week: Path) -> None:
    before = (week / "policy.yaml").read_bytes()
    (week / "logs" / "bad.csv").write_text("decision_id\nx\n", encoding="utf-8")
    failure(run("update", "logs/", "--policy", "policy.yaml", "--pr-body", "body.md"))
    assert (week / "policy.yaml").read_bytes() == before
    assert not (week / "body.md").exists()


def test_a_new_proposal_is_a_change_rewritten_with_its_ledger_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules.yaml").write_text(
        Path(RULES).read_text(encoding="utf-8").replace("expires: 14d", "expires: 3d"),
        encoding="utf-8",
    )
    weekly = ("update", SAMPLE, "--policy", "policy.yaml", "--rules", "rules.yaml")
    assert run(*weekly, "--as-of", "2026-11-03").exit_code == 1  # the first policy
    ledger = (tmp_path / "policy.ledger.jsonl").read_text(encoding="utf-8")
    # k8s.restart_pod earns full on 2026-11-10; full needs a sign-off: only a proposal.
    result = run(
        *weekly, "--as-of", "2026-11-10", "--pr-body", "body.md", "--summary-json", "s.json"
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == (
        "policy.yaml: rewritten: 1 proposal(s) (1 proposed)\n"
        "  k8s.restart_pod: auto_notify ⇡ full (proposed)\n"
    )
    added = (tmp_path / "policy.ledger.jsonl").read_text(encoding="utf-8").removeprefix(ledger)
    assert [json.loads(line)["kind"] for line in added.splitlines()] == ["proposed"]
    body = (tmp_path / "body.md").read_text(encoding="utf-8")
    assert "### Waiting for sign-off" in body
    assert "- **k8s.restart_pod**: auto_notify ⇡ full (proposed: `trustctl approve`" in body
    assert "$ trustctl explain k8s.restart_pod" in body
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert (summary["changed"], summary["changes"]) == (True, [])
    assert summary["proposals"] == [
        {"group": "k8s.restart_pod", "kind": "proposed", "level": "auto_notify", "proposed": "full"}
    ]
    assert ok("check", SAMPLE, "--policy", "policy.yaml", "--rules", "rules.yaml",
              "--as-of", "2026-11-10").exit_code == 0  # fmt: skip
    # Still waiting two days later: nothing to do.
    assert ok(*weekly, "--as-of", "2026-11-12").stdout.endswith("nothing rewritten\n")
    # Lapsed after 3 days and proposed again (still earned): a new proposal, a change.
    again = run(*weekly, "--as-of", "2026-11-13T12:00")
    assert again.exit_code == 1, again.output
    assert "k8s.restart_pod: auto_notify ⇡ full (proposed)" in again.stdout


def test_rules_equal_in_effect_are_no_change_as_check_sees_them(week: Path) -> None:
    before = (week / "policy.yaml").read_bytes()
    rules = Path(RULES)  # the built-in rules, written out
    weekly = ("update", "logs/", "--policy", "policy.yaml", "--rules", rules, "--pr-body", "b.md")
    assert ok(*weekly).stdout.endswith("nothing rewritten\n")
    assert (week / "policy.yaml").read_bytes() == before
    body = (week / "b.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(rules.read_bytes()).hexdigest()[:12]
    assert f"- Rules: the same rules in effect (the built-in rules → sha256 {digest})\n" in body
    assert ok("check", "logs/", "--policy", "policy.yaml", "--rules", rules).exit_code == 0


def test_other_rules_are_a_change_named_by_key_so_check_passes_after_the_job(week: Path) -> None:
    strict = week / "strict.yaml"
    strict.write_text("demote:\n  full:\n    success: {threshold: 0.96}\n", encoding="utf-8")
    weekly = ("update", "logs/", "--policy", "policy.yaml", "--rules", strict, "--pr-body", "b.md")
    result = run(*weekly)
    assert result.exit_code == 1, result.output
    assert result.stdout == "policy.yaml: rewritten: rules changed; no level changes\n"
    body = (week / "b.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(strict.read_bytes()).hexdigest()[:12]
    assert (
        f"- Rules changed: the built-in rules → sha256 {digest}\n"
        "  - `demote.full.success.threshold`: 0.97 → 0.96\n\n### Level changes" in body
    )
    assert ok("check", "logs/", "--policy", "policy.yaml", "--rules", strict).exit_code == 0
    assert ok(*weekly).exit_code == 0
    # The file the policy records has changed since: its rules, and so the keys, are unknown.
    strict.write_text("demote:\n  full:\n    success: {threshold: 0.95}\n", encoding="utf-8")
    other = week / "other.yaml"
    other.write_text("cooldown: 8d\n", encoding="utf-8")
    result = run(*weekly[:5], other, *weekly[6:])
    assert result.exit_code == 1, result.output
    body = (week / "b.md").read_text(encoding="utf-8")
    assert f"  - the keys cannot be named: `{strict}` no longer holds the rules recorded\n" in body


def test_changed_keys_are_named_as_set_names_them() -> None:
    from trustctl.rules import TrustRules
    from trustctl.rules_diff import changed_keys

    before = TrustRules()
    data = before.model_dump()
    data["window"] = "90d"
    data["group_by"] = ["action_class", "service"]
    data["risk_tiers"] = data["risk_tiers"][1:]
    after = TrustRules.model_validate(data)
    changed = changed_keys(before, after)
    assert changed[:3] == [
        ("window", "180d", "90d"),
        ("group_by.1", None, "service"),
        ("risk_tiers.0.pattern", "db.*", "data.*"),
    ]
    assert changed_keys(before, TrustRules()) == []
