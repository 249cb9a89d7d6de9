"""A write interrupted between the ledger's rename and the policy's: the next run completes it
when the logs give exactly the entries the policy lacks, and refuses anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import failure, ok, run
from trustctl.ledger import chain, read
from trustctl.levels import Level
from trustctl.sample import generate_sample

FIRST = "2026-08-01T00:00:00Z"
ARGS = ("generate", "log.csv", "--previous", "policy.yaml", "-o", "policy.yaml")


@pytest.fixture
def interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes, bytes]:
    """The old policy beside the new ledger, as a kill between the two renames leaves them;
    and the policy and ledger the uninterrupted run wrote."""
    monkeypatch.chdir(tmp_path)
    generate_sample(12_000, seed=3).to_csv("log.csv", index=False)
    ok("generate", "log.csv", "--as-of", FIRST, "-o", "policy.yaml")
    old, first = Path("policy.yaml").read_bytes(), read(Path("policy.ledger.jsonl")).entries
    ok(*ARGS)
    new, ledger = Path("policy.yaml").read_bytes(), Path("policy.ledger.jsonl").read_bytes()
    assert len(read(Path("policy.ledger.jsonl")).entries) > len(first)  # the run had changes
    Path("policy.yaml").write_bytes(old)
    return old, new, ledger


def test_the_policy_behind_is_a_stale_head_for_check(interrupted: tuple[bytes, ...]) -> None:
    result = run("check", "log.csv", "--policy", "policy.yaml")
    assert result.exit_code == 1, result.output
    assert "records ledger head" in result.output


def test_the_next_run_completes_the_interrupted_one(interrupted: tuple[bytes, ...]) -> None:
    _, new, ledger = interrupted
    ok(*ARGS)
    assert Path("policy.yaml").read_bytes() == new
    assert Path("policy.ledger.jsonl").read_bytes() == ledger
    ok("check", "log.csv", "--policy", "policy.yaml")


def test_update_completes_it_too(interrupted: tuple[bytes, ...]) -> None:
    _, new, ledger = interrupted
    result = run("update", "log.csv", "--policy", "policy.yaml")
    assert result.exit_code == 1, result.output  # the policy file changes: a pull request
    assert Path("policy.yaml").read_bytes() == new
    assert Path("policy.ledger.jsonl").read_bytes() == ledger


def test_entries_ahead_that_the_logs_do_not_give_are_refused(
    interrupted: tuple[bytes, ...],
) -> None:
    old, _, _ = interrupted
    book = read(Path("policy.ledger.jsonl"))
    recorded = len(book.entries) - sum(1 for e in book.entries if e.at != book.entries[-1].at)
    kept = book.entries[: len(book.entries) - recorded]
    forged = [
        e.model_copy(update={"to_level": Level.FULL}) if i == 0 else e
        for i, e in enumerate(book.entries[len(kept) :])
    ]
    assert forged[0].to_level is not book.entries[len(kept)].to_level
    lines = [e.line() for e in kept] + [e.line() for e in chain(forged, kept[-1])]
    Path("policy.ledger.jsonl").write_bytes(b"".join(lines))
    ledger_before = Path("policy.ledger.jsonl").read_bytes()
    message = failure(run(*ARGS))
    assert "not an interrupted write" in message, message
    assert f"lines {len(kept) + 1}-" in message
    assert Path("policy.yaml").read_bytes() == old
    assert Path("policy.ledger.jsonl").read_bytes() == ledger_before


def test_a_hand_edited_policy_behind_its_ledger_is_still_refused(
    interrupted: tuple[bytes, ...],
) -> None:
    old, _, ledger = interrupted
    text = old.decode()
    assert "  level: suggest\n  previous_level: suggest\n" in text
    edited = text.replace("  level: suggest\n", "  level: full\n", 1).encode()
    Path("policy.yaml").write_bytes(edited)
    message = failure(run(*ARGS))
    assert "disagree" in message
    assert Path("policy.yaml").read_bytes() == edited
    assert Path("policy.ledger.jsonl").read_bytes() == ledger


def test_validate_reads_the_ledger_beside_the_policy(interrupted: tuple[bytes, ...]) -> None:
    _, new, _ = interrupted
    assert "records ledger head" in failure(run("validate", "--policy", "policy.yaml"))
    Path("policy.yaml").write_bytes(new)
    shown = ok("validate", "--policy", "policy.yaml").stdout
    entries = len(read(Path("policy.ledger.jsonl")).entries)
    assert f"ledger: ok (policy.ledger.jsonl, {entries} entries, the policy's head)" in shown
    Path("policy.ledger.jsonl").rename("elsewhere.jsonl")
    message = failure(run("validate", "--policy", "policy.yaml"))
    assert "but policy.ledger.jsonl does not exist" in message
