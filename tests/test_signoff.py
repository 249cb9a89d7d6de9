"""The ledger end to end: idempotent runs, every tampering caught, sign-off, pins, atomic writes."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import LogFiles, row
from typer.testing import CliRunner, Result

from trustctl.cli import app

runner = CliRunner()
T = "2026-06-09T12:00:00Z"
"""The latest decision of :func:`rows`: every run's ``as_of`` unless told."""


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def rows() -> list[dict[str, Any]]:
    """Three classes over 160 days.

    - ``k8s.restart_pod``: at ``auto_notify``, 320 clean decisions: earns ``full`` (proposed);
    - ``k8s.scale``: at ``suggest``, 60 clean decisions: promoted to ``auto_notify`` at once;
    - ``k8s.rollback``: at ``suggest``, every fifth proposal rejected: stays.
    """
    found = [
        row(f"rp-{i:03d}", day=i * 0.45, mode="auto_notify", action_class="k8s.restart_pod")
        for i in range(320)
    ]
    found += [row(f"sc-{i:03d}", day=i * 2, action_class="k8s.scale") for i in range(60)]
    found += [
        row(
            f"rb-{i:03d}",
            day=i * 3 + 0.5,
            action_class="k8s.rollback",
            human_decision="rejected" if i % 5 == 4 else "approved",
            executed="false" if i % 5 == 4 else "true",
            outcome="" if i % 5 == 4 else "success",
        )
        for i in range(53)
    ]
    found.append(row("last", day=159.5, action_class="k8s.rollback"))
    return found


@pytest.fixture
def log(logs: LogFiles) -> Path:
    return logs.csv(rows())


@pytest.fixture
def policy(log: Path, tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    ok("generate", log, "-o", path)
    return path


def ledger_of(policy: Path) -> Path:
    return policy.with_suffix(".ledger.jsonl")


def entries(policy: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in ledger_of(policy).read_text().splitlines()]


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def action(policy: Path, name: str) -> dict[str, Any]:
    return next(a for a in load(policy)["actions"] if a["action_class"] == name)


def kinds(policy: Path) -> list[tuple[str, str, str | None, str | None]]:
    return [(e["kind"], e["group"]["action_class"], e["from"], e["to"]) for e in entries(policy)]


def snapshot(policy: Path) -> tuple[bytes, bytes]:
    return policy.read_bytes(), ledger_of(policy).read_bytes()


# --- the first run and the second ----------------------------------------------------------


def test_the_first_run_starts_the_ledger_and_proposes_full(policy: Path) -> None:
    assert kinds(policy) == [
        ("initial", "k8s.restart_pod", None, "auto_notify"),
        ("proposed", "k8s.restart_pod", "auto_notify", "full"),
        ("initial", "k8s.rollback", None, "suggest"),
        ("initial", "k8s.scale", None, "suggest"),
        ("promoted", "k8s.scale", "suggest", "auto_notify"),
    ]
    first, proposal, *_, promotion = entries(policy)
    assert first["history"]["source"] == "log" and first["actor"] == "trustctl"
    assert proposal["rule"] == "approval.required_for" and proposal["at"] == T
    assert proposal["expires"] == "2026-06-23T12:00:00Z"
    assert proposal["evidence"]["verified"] == 320 and proposal["evidence"]["success_lower"]
    assert promotion["rule"] == "promote.auto_notify"
    pod = action(policy, "k8s.restart_pod")
    assert (pod["level"], pod["change"], pod["limited_by"]) == (
        "auto_notify",
        "proposed",
        "approval",
    )
    assert pod["proposed"]["level"] == "full" and pod["proposed"]["since"] == T
    assert action(policy, "k8s.scale")["level"] == "auto_notify"
    meta = load(policy)["metadata"]
    assert meta["ledger"] == {"seq": 5, "hash": entries(policy)[-1]["hash"]}
    assert meta["summary"]["proposed"] == 1 and meta["summary"]["promoted"] == 1


@pytest.mark.parametrize("previous", [False, True])
def test_a_second_identical_run_changes_nothing(log: Path, policy: Path, previous: bool) -> None:
    before = snapshot(policy)
    extra = ["--previous", policy] if previous else []
    ok("generate", log, *extra, "-o", policy)
    assert snapshot(policy) == before


def test_a_later_run_appends_only_what_changed(log: Path, policy: Path) -> None:
    ok("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-16")
    assert len(entries(policy)) == 5, "nothing new: the proposal still waits"
    pod = action(policy, "k8s.restart_pod")
    assert pod["change"] == "proposed" and pod["proposed"]["since"] == T
    assert action(policy, "k8s.scale")["change"] == "unchanged"


def test_previous_without_a_ledger_keeps_working(log: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", log, "--as-of", "2026-03-01", "-o", old)
    ledger_of(old).unlink()
    data = load(old)
    del data["metadata"]["ledger"]
    old.write_text(yaml.safe_dump(data, sort_keys=False))
    ok("generate", log, "--previous", old, "-o", new)
    starts = [e for e in entries(new) if e["kind"] == "initial"]
    assert {e["history"]["source"] for e in starts} == {"previous policy"}
    ok("check", log, "--policy", new)
    before = snapshot(new)
    ok("generate", log, "--previous", new, "-o", new)
    assert snapshot(new) == before


# --- check: every tampering --------------------------------------------------------------------


def _edit(path: Path, name: str, **fields: Any) -> None:
    data = load(path)
    for entry in data["actions"]:
        if entry["action_class"] == name:
            entry.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def check(log: Path, policy: Path, *extra: str) -> list[str]:
    result = run("check", log, "--policy", policy, *extra)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.stdout.splitlines()


def test_check_passes_on_the_policy_and_its_ledger(log: Path, policy: Path) -> None:
    out = ok("check", log, "--policy", policy).stdout
    assert (
        out
        == f"{policy}: up to date (3 groups; ledger {ledger_of(policy)}: 5 entries, chain intact)\n"
    )


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        (
            "k8s.rollback",
            {"level": "auto_notify"},
            "k8s.rollback: level auto_notify is not in the ledger (last entry: suggest on "
            "2026-06-09) — edited by hand?",
        ),
        (
            "k8s.scale",
            {"level": "suggest"},
            "k8s.scale: level suggest is not in the ledger (last entry: auto_notify on "
            "2026-06-09) — edited by hand?",
        ),
        (
            "k8s.scale",
            {"since": "2026-01-01T00:00:00Z"},
            f"k8s.scale: since 2026-01-01T00:00:00Z is not in the ledger ({T})",
        ),
        (
            "k8s.rollback",
            {"pin": {"level": "observe", "owner": "mallory", "reason": "x", "expires": None,
                     "active": True}},
            "k8s.rollback: pin at observe by mallory is not in the ledger — added by hand?",
        ),
        (
            "k8s.rollback",
            {"proposed": {"level": "auto_notify", "since": T, "reason": "x", "expires": None}},
            f"k8s.rollback: proposal to auto_notify of {T} is not in the ledger",
        ),
        (
            "k8s.restart_pod",
            {"proposed": None},
            f"k8s.restart_pod: the ledger records a proposal to full of {T} that the policy "
            "does not show",
        ),
    ],
)  # fmt: skip
def test_check_names_a_policy_field_the_ledger_does_not_record(
    log: Path, policy: Path, name: str, fields: dict[str, Any], message: str
) -> None:
    _edit(policy, name, **fields)
    out = check(log, policy)
    assert any(line.startswith(f"policy: {policy}: {message}") for line in out), out
    assert out[-1].startswith(f"{policy}: ")


def test_check_names_a_pin_removed_from_the_policy_only(log: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "pins:\n  - {action_class: k8s.rollback, level: observe, owner: alice, "
        "reason: incident review}\n"
    )
    policy = tmp_path / "pinned.yaml"
    ok("generate", log, "--rules", rules, "-o", policy)
    pinned = [e for e in entries(policy) if e["kind"] == "pinned"]
    assert [(e["actor"], e["to"], e["reason"]) for e in pinned] == [
        ("alice", "observe", "incident review")
    ]
    ok("check", log, "--rules", rules, "--policy", policy)
    _edit(policy, "k8s.rollback", pin=None)
    out = check(log, policy, "--rules", str(rules))
    assert f"policy: {policy}: k8s.rollback: the ledger records a pin at observe by alice" in out[0]


def _lines(policy: Path) -> list[bytes]:
    return ledger_of(policy).read_bytes().splitlines(keepends=True)


def _rehash(data: dict[str, Any]) -> bytes:
    body = {k: v for k, v in data.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    body["hash"] = hashlib.sha256(text.encode()).hexdigest()
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    ("tamper", "line", "message"),
    [
        ("edit", 5, "its hash does not match its content (edited?)"),
        ("edit and rehash", 3, "prev does not match the hash of line 2"),
        ("delete", 3, "seq 4 where 3 was due"),
        ("swap", 2, "seq 3 where 2 was due"),
        ("insert", 3, "seq 2 where 3 was due"),
    ],
)
def test_check_names_the_first_broken_line(
    log: Path, policy: Path, tamper: str, line: int, message: str
) -> None:
    lines = _lines(policy)
    if tamper == "edit":
        lines[4] = lines[4].replace(b'"to":"auto_notify"', b'"to":"full"')
    elif tamper == "edit and rehash":
        data = json.loads(lines[1])
        data["to"] = "auto_notify"
        lines[1] = _rehash(data) + b"\n"
    elif tamper == "delete":
        del lines[2]
    elif tamper == "swap":
        lines[1], lines[2] = lines[2], lines[1]
    else:
        lines.insert(2, lines[1])
    ledger_of(policy).write_bytes(b"".join(lines))
    out = check(log, policy)
    assert (
        out[0]
        == f"chain: {ledger_of(policy)}: line {line}: {message}" + out[0].split(message, 1)[1]
    )
    assert "the chain is broken" in out[0]
    result = run("verify", "--policy", policy, log)
    assert result.exit_code == 1 and f"line {line}: {message}" in result.stdout
    generate = run("generate", log, "--previous", policy, "-o", policy)
    assert generate.exit_code == 2 and f"line {line}: " in generate.stderr


def test_check_names_a_removed_last_line_by_the_head(log: Path, policy: Path) -> None:
    ledger_of(policy).write_bytes(b"".join(_lines(policy)[:-1]))
    out = check(log, policy)
    assert out[0].startswith(f"head: {policy}: records ledger head 5 ")
    assert "has head 4 " in out[0]


def test_a_forged_promotion_with_valid_hashes_is_caught_by_the_logs(
    log: Path, policy: Path
) -> None:
    """Rewrite the chain and the policy consistently: only re-deriving from the logs tells."""
    lines = [json.loads(raw) for raw in _lines(policy)]
    forged = dict(lines[2], kind="promoted", **{"from": "suggest", "to": "auto_notify"})
    forged.update(history=None, rule="promote.auto_notify", reason="promoted, trust me")
    lines.insert(3, forged)
    prev = None
    rewritten = []
    for seq, data in enumerate(lines, start=1):
        data.update(seq=seq, prev=prev)
        raw = _rehash(data)
        prev = json.loads(raw)["hash"]
        rewritten.append(raw + b"\n")
    ledger_of(policy).write_bytes(b"".join(rewritten))
    data = load(policy)
    data["metadata"]["ledger"] = {"seq": len(lines), "hash": prev}
    for entry in data["actions"]:
        if entry["action_class"] == "k8s.rollback":
            entry.update(level="auto_notify", since=T, last_promoted=T)
    policy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    out = check(log, policy)
    assert out[0].startswith(
        f"drift: {policy}: line 4: promoted k8s.rollback suggest → auto_notify at {T}: "
        "not supported by the logs: stays at suggest: "
    )
    result = run("verify", "--policy", policy, log)
    assert result.exit_code == 1, result.output
    assert f"entry: {ledger_of(policy)}: line 4: promoted k8s.rollback suggest → auto_notify" in (
        result.stdout
    )
    assert "lower bound" in result.stdout


def test_check_names_changed_rules_and_drift(log: Path, policy: Path, tmp_path: Path) -> None:
    rules = tmp_path / "strict.yaml"
    rules.write_text(
        "promote:\n  auto_notify:\n    agreement: {min_decisions: 500, threshold: 0.99}\n"
    )
    out = check(log, policy, "--rules", str(rules))
    assert f"rules: {policy}: rules changed since the policy was made" in out[0]


def test_check_compares_the_rules_in_effect_not_the_files(log: Path, tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parent.parent / "policies" / "rules.yaml"  # = built-in
    with_file = tmp_path / "with-file.yaml"
    ok("generate", log, "--rules", shipped, "-o", with_file)
    assert "up to date" in ok("check", log, "--policy", with_file).stdout
    built_in = tmp_path / "built-in.yaml"
    ok("generate", log, "-o", built_in)
    assert "up to date" in ok("check", log, "--policy", built_in, "--rules", shipped).stdout
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "promote:\n  auto_notify:\n    agreement: {min_decisions: 500, threshold: 0.95}\n"
    )
    with_strict = tmp_path / "with-strict.yaml"
    ok("generate", log, "--rules", strict, "-o", with_strict)
    out = check(log, with_strict)
    assert out[0].startswith(f"rules: {with_strict}: rules changed since the policy was made")
    strict.write_text(shipped.read_text())  # the file has changed: its old rules are unknown
    assert check(log, with_strict, "--rules", shipped)[0].startswith(f"rules: {with_strict}:")


def test_check_formats(log: Path, policy: Path) -> None:
    _edit(policy, "k8s.rollback", level="full")
    result = run("check", log, "--policy", policy, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["findings"][0]["class"] == "policy"
    assert data["findings"][0]["group"] == "k8s.rollback"
    result = run("check", log, "--policy", policy, "--format", "markdown")
    assert result.exit_code == 1
    assert result.stdout.startswith(f"### trustctl check: `{policy}`\n")
    assert "| policy | `" in result.stdout and "`k8s.rollback`" in result.stdout


def test_check_without_a_ledger_says_so(log: Path, policy: Path) -> None:
    ledger_of(policy).unlink()
    out = check(log, policy)
    assert out[0] == (
        f"ledger: {policy}: no ledger at {ledger_of(policy)}: nothing records how its levels "
        "were reached although the policy records its head 5 — deleted?"
    )


# --- verify ----------------------------------------------------------------------------------


def test_verify_re_derives_every_automatic_entry(log: Path, policy: Path) -> None:
    out = ok("verify", "--policy", policy, log).stdout
    assert out == (
        f"{ledger_of(policy)}: 5 entries, chain intact, head matches {policy}; 5 automatic "
        "entries re-derived from the logs\n"
    )
    assert "not re-derived" in ok("verify", "--policy", policy).stdout


def test_verify_needs_the_rules_the_entries_were_made_with(
    log: Path, policy: Path, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("cooldown: 8d\n")
    result = run("verify", "--policy", policy, log, "--rules", rules)
    assert result.exit_code == 1 and "pass them with --rules" in result.stdout


def test_verify_refuses_a_missing_ledger(policy: Path) -> None:
    ledger_of(policy).unlink()
    result = run("verify", "--policy", policy)
    assert result.exit_code == 2 and "the ledger does not exist" in result.stderr


# --- sign-off ----------------------------------------------------------------------------------


def test_approve_applies_the_proposal_and_records_who(log: Path, policy: Path) -> None:
    out = ok(
        "approve", "k8s.restart_pod", log, "--policy", policy, "--by", "Dana Reyes",
        "--reason", "260 clean runs reviewed",
    ).stdout  # fmt: skip
    assert out.startswith("k8s.restart_pod: auto_notify → full approved by Dana Reyes;")
    last = entries(policy)[-1]
    assert (last["kind"], last["actor"], last["reason"]) == (
        "approved", "Dana Reyes", "260 clean runs reviewed",
    )  # fmt: skip
    pod = action(policy, "k8s.restart_pod")
    assert (pod["level"], pod["change"], pod["since"]) == ("full", "promoted", T)
    assert "proposed" not in pod and "approved by Dana Reyes" in pod["reason"]
    ok("check", log, "--policy", policy)
    ok("verify", "--policy", policy, log)
    before = snapshot(policy)
    ok("generate", log, "--previous", policy, "-o", policy)
    assert snapshot(policy) == before
    again = run("approve", "k8s.restart_pod", log, "--policy", policy, "--by", "D", "--reason", "r")
    assert again.exit_code == 1 and "no promotion waits for sign-off" in again.stderr


def test_approve_refuses_what_the_logs_no_longer_earn(
    logs: LogFiles, log: Path, policy: Path
) -> None:
    failure = row(
        "boom", day=160, mode="auto_notify", action_class="k8s.restart_pod",
        outcome="failure", severity="critical",
    )  # fmt: skip
    later = logs.csv([*rows(), failure], name="later.csv")
    log.unlink()
    before = snapshot(policy)
    result = run(
        "approve", "k8s.restart_pod", later, "--policy", policy, "--by", "D", "--reason", "r"
    )
    assert result.exit_code == 1, result.output
    assert "no promotion waits for sign-off: demoted auto_notify → suggest: critical failure" in (
        result.stderr
    )
    assert snapshot(policy) == before


def test_demotions_never_wait(logs: LogFiles, log: Path, policy: Path) -> None:
    failure = row(
        "boom", day=160, mode="auto_notify", action_class="k8s.restart_pod",
        outcome="failure", severity="critical",
    )  # fmt: skip
    later = logs.csv([*rows(), failure], name="later.csv")
    log.unlink()
    ok("generate", later, "--previous", policy, "-o", policy)
    last = entries(policy)[-1]
    assert (last["kind"], last["from"], last["to"], last["actor"]) == (
        "demoted", "auto_notify", "suggest", "trustctl",
    )  # fmt: skip
    pod = action(policy, "k8s.restart_pod")
    assert pod["level"] == "suggest" and "proposed" not in pod
    ok("check", later, "--policy", policy)


def test_reject_holds_the_group_until_the_rejection_expires(log: Path, policy: Path) -> None:
    out = ok(
        "reject", "k8s.restart_pod", "--policy", policy, "--by", "Dana Reyes",
        "--reason", "wait for the freeze",
    ).stdout  # fmt: skip
    assert out.startswith("k8s.restart_pod: auto_notify → full rejected by Dana Reyes;")
    last = entries(policy)[-1]
    assert (last["kind"], last["actor"], last["expires"]) == (
        "rejected", "Dana Reyes", "2026-06-23T12:00:00Z",
    )  # fmt: skip
    pod = action(policy, "k8s.restart_pod")
    assert (pod["level"], pod["change"], pod["limited_by"]) == (
        "auto_notify",
        "unchanged",
        "approval",
    )
    assert "rejected by Dana Reyes" in pod["reason"] and "proposed" not in pod
    before = snapshot(policy)
    ok("generate", log, "--previous", policy, "-o", policy)
    assert snapshot(policy) == before, "the same run, with the rejection: byte for byte"
    ok("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-20")
    assert (
        len(entries(policy)) == 6 and action(policy, "k8s.restart_pod")["limited_by"] == "approval"
    )
    ok("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-24")
    assert entries(policy)[-1]["kind"] == "proposed"
    assert action(policy, "k8s.restart_pod")["change"] == "proposed"
    ok("verify", "--policy", policy, log)


def test_a_proposal_lapses_and_is_proposed_again_if_still_earned(log: Path, policy: Path) -> None:
    ok("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-24")
    assert kinds(policy)[-2:] == [
        ("expired", "k8s.restart_pod", "auto_notify", "full"),
        ("proposed", "k8s.restart_pod", "auto_notify", "full"),
    ]
    assert entries(policy)[-2]["rule"] == "approval.expires"
    ok("verify", "--policy", policy, log)


def test_sign_off_is_off_with_an_empty_list(log: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("approval: {required_for: []}\n")
    policy = tmp_path / "p.yaml"
    ok("generate", log, "--rules", rules, "-o", policy)
    assert ("promoted", "k8s.restart_pod", "auto_notify", "full") in kinds(policy)


@pytest.mark.parametrize(("by", "reason"), [("", "r"), ("trustctl", "r"), ("Dana", " ")])
def test_sign_off_needs_a_name_and_a_reason(policy: Path, by: str, reason: str) -> None:
    result = run("reject", "k8s.restart_pod", "--policy", policy, "--by", by, "--reason", reason)
    assert result.exit_code == 2 and result.stderr.startswith("error: --")


def test_sign_off_refuses_a_tampered_policy(policy: Path) -> None:
    _edit(policy, "k8s.rollback", level="full")
    result = run("reject", "k8s.restart_pod", "--policy", policy, "--by", "D", "--reason", "r")
    assert result.exit_code == 2 and "level full is not in the ledger" in result.stderr


def test_a_pin_leaving_the_rules_is_recorded(log: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "pins:\n  - {action_class: k8s.scale, level: suggest, owner: alice, reason: audit}\n"
    )
    policy = tmp_path / "p.yaml"
    ok("generate", log, "--rules", rules, "-o", policy, "--as-of", "2026-06-01")
    rules.write_text("{}\n")
    ok("generate", log, "--rules", rules, "--previous", policy, "-o", policy)
    recorded = [(e["kind"], e["actor"]) for e in entries(policy) if e["rule"] == "pins"]
    assert recorded == [("pinned", "alice"), ("unpinned", "alice")]


def test_explain_shows_the_history_newest_first(log: Path, policy: Path) -> None:
    ok("reject", "k8s.restart_pod", "--policy", policy, "--by", "Dana", "--reason", "freeze")
    out = ok("explain", "k8s.restart_pod", log, "--previous", policy).stdout
    history = out.split("history (ledger, newest first)", 1)[1]
    assert history.index("rejected") < history.index("proposed") < history.index("initial")
    assert "Dana" in history and "freeze" in history


# --- atomic writes -----------------------------------------------------------------------------


def test_a_read_only_directory_changes_neither_file(
    log: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(policy)
    real = tempfile.mkstemp

    def read_only(*args: Any, **kwargs: Any) -> Any:
        if Path(kwargs["dir"]) == policy.parent:
            raise OSError(errno.EROFS, "Read-only file system")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = run("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-24")
    assert result.exit_code == 2 and "Read-only file system" in result.stderr
    assert snapshot(policy) == before


def test_a_failing_second_write_restores_the_first(
    log: Path, policy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(policy)
    real = os.replace

    def policy_fails(source: Any, target: Any) -> None:
        if Path(target) == policy:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(source, target)

    monkeypatch.setattr(os, "replace", policy_fails)
    result = run("generate", log, "--previous", policy, "-o", policy, "--as-of", "2026-06-24")
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert snapshot(policy) == before
    assert sorted(p.name for p in policy.parent.iterdir() if p.name.startswith(".")) == []


def test_the_ledger_is_an_output_like_any_other(log: Path, tmp_path: Path) -> None:
    before = log.read_bytes()
    result = run("generate", log, "-o", tmp_path / "p.yaml", "--ledger", log)
    assert result.exit_code == 2 and "is the input" in result.stderr
    assert log.read_bytes() == before and not (tmp_path / "p.yaml").exists()
