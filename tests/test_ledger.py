"""The ledger file: canonical JSON, the hash chain, reading with FILE:LINE, replaying state."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from trustctl.errors import LedgerError, TrustctlError
from trustctl.files import write_together
from trustctl.ledger import (
    Event,
    History,
    Ledger,
    broken_link,
    canonical,
    chain,
    read,
    replay,
)
from trustctl.levels import Level

AT = "2026-11-19T21:13:30Z"
LATER = "2026-11-26T21:13:30Z"


def event(kind: str = "promoted", at: str = AT, **fields: Any) -> Event:
    data: dict[str, Any] = {
        "at": at,
        "kind": kind,
        "group": {"action_class": "k8s.scale"},
        "from": "suggest",
        "to": "auto_notify",
        "rule": "promote.auto_notify",
        "reason": "promoted suggest → auto_notify: 275 of 279 reviewed approved",
        "evidence": {"agreed": 275, "reviewed": 279, "agreement_lower": "0.967512"},
        "inputs_sha256": "ab" * 32,
        "rules_sha256": "cd" * 32,
        "version": "trustctl 0.1.0",
        "actor": "trustctl",
    }
    data.update(fields)
    return Event.model_validate(data)


def initial(level: str = "suggest", at: str = AT, action_class: str = "k8s.scale") -> Event:
    return event(
        "initial",
        at=at,
        group={"action_class": action_class},
        **{"from": None, "to": level},
        rule="initial",
        reason=f"starts at {level}: the mode of its latest decision",
        evidence=None,
        history=History(source="log", since=None, last_promoted=None, last_demoted=None, cap=None),
    )


def write(tmp_path: Path, *events: Event) -> Path:
    path = tmp_path / "policy.ledger.jsonl"
    path.write_bytes(b"".join(e.line() for e in chain(events, None)))
    return path


def story(tmp_path: Path) -> Path:
    """Five lines: initial, promoted, proposed, approved, demoted."""
    return write(
        tmp_path,
        initial(),
        event(),
        event(
            "proposed",
            at=LATER,
            **{"from": "auto_notify", "to": "full"},
            rule="approval.required_for",
            expires="2026-12-10T21:13:30Z",
        ),
        event(
            "approved",
            at=LATER,
            **{"from": "auto_notify", "to": "full"},
            rule="approval",
            reason="reviewed in the weekly meeting",
            actor="Dana Reyes",
        ),
        event(
            "demoted",
            at="2026-12-03T00:00:00Z",
            **{"from": "full", "to": "suggest"},
            rule="demote.critical_failure_to",
            reason="critical failure on decision d-9",
        ),
    )


# --- canonical JSON and hashes ----------------------------------------------------------------


def test_canonical_json_sorts_keys_has_no_spaces_and_writes_utf8() -> None:
    assert canonical({"b": 1, "a": "→ ≥", "c": None}) == '{"a":"→ ≥","b":1,"c":null}'.encode()


def test_a_line_is_its_canonical_json_and_the_hash_covers_everything_else(
    tmp_path: Path,
) -> None:
    lines = story(tmp_path).read_bytes().splitlines()
    for number, raw in enumerate(lines, start=1):
        data = json.loads(raw)
        # The README's recipe, verbatim: drop "hash", re-serialise canonically, sha256.
        claimed = data.pop("hash")
        body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(body.encode("utf-8")).hexdigest() == claimed
        assert data["seq"] == number
        assert raw == json.dumps(
            {**data, "hash": claimed}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    first, second = (json.loads(raw) for raw in lines[:2])
    assert first["prev"] is None and second["prev"] == first["hash"]


def test_every_line_has_every_member_and_no_float(tmp_path: Path) -> None:
    members = {
        "seq", "at", "kind", "group", "from", "to", "rule", "reason", "evidence",
        "inputs_sha256", "rules_sha256", "version", "actor", "history", "expires", "prev",
        "hash",
    }  # fmt: skip

    def floats(value: Any) -> bool:
        if isinstance(value, dict):
            return any(floats(v) for v in value.values())
        return isinstance(value, float)

    for raw in story(tmp_path).read_bytes().splitlines():
        data = json.loads(raw)
        assert set(data) == members
        assert not floats(data)


def test_same_events_same_bytes(tmp_path: Path) -> None:
    first = story(tmp_path).read_bytes()
    assert story(tmp_path).read_bytes() == first


# --- reading ---------------------------------------------------------------------------------


def test_read_round_trips_and_a_missing_file_is_an_empty_ledger(tmp_path: Path) -> None:
    path = story(tmp_path)
    ledger = read(path)
    assert ledger.exists and len(ledger.entries) == 5 and ledger.data() == path.read_bytes()
    assert ledger.head is not None and ledger.head.seq == 5
    assert broken_link(ledger) is None
    empty = read(tmp_path / "none.ledger.jsonl")
    assert not empty.exists and empty.head is None
    with pytest.raises(LedgerError, match="does not exist"):
        read(tmp_path / "none.ledger.jsonl", missing_ok=False)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", r"policy.ledger.jsonl:3: not a JSON line"),
        (b"[1, 2]\n", r"policy.ledger.jsonl:3: a ledger line is a JSON object"),
        (b'{"seq": 3, "seq": 3}\n', r"policy.ledger.jsonl:3: not a JSON line: .*twice"),
        (b"\xff\n", r"policy.ledger.jsonl:3: not a JSON line"),
        (b"\n", r"policy.ledger.jsonl:3: not a JSON line"),
    ],
)
def test_a_line_that_is_no_entry_is_bad_input_naming_file_and_line(
    tmp_path: Path, line: bytes, message: str
) -> None:
    path = story(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:2], line, *lines[3:]]))
    with pytest.raises(LedgerError, match=message):
        read(path)


def test_a_bad_field_is_named(tmp_path: Path) -> None:
    path = story(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    data = json.loads(lines[1])
    data["to"], data["at"] = "fullest", "yesterday"
    path.write_bytes(lines[0] + json.dumps(data).encode() + b"\n")
    with pytest.raises(LedgerError) as caught:
        read(path)
    message = str(caught.value)
    assert "policy.ledger.jsonl:2: to: " in message
    assert "policy.ledger.jsonl:2: at: 'yesterday' is not a UTC time" in message


# --- the chain -------------------------------------------------------------------------------


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _rehash(data: dict[str, Any]) -> bytes:
    data = {k: v for k, v in data.items() if k != "hash"}
    data["hash"] = hashlib.sha256(canonical(data)).hexdigest()
    return canonical(data) + b"\n"


def test_an_edited_line_is_named(tmp_path: Path) -> None:
    path = story(tmp_path)
    lines = _lines(path)
    lines[1] = lines[1].replace(b'"to":"auto_notify"', b'"to":"full"')
    path.write_bytes(b"".join(lines))
    link = broken_link(read(path))
    assert link is not None and link.line == 2 and "hash does not match" in str(link)


def test_an_edited_line_with_its_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    path = story(tmp_path)
    lines = _lines(path)
    data = json.loads(lines[1])
    data["to"] = "full"
    lines[1] = _rehash(data)
    path.write_bytes(b"".join(lines))
    link = broken_link(read(path))
    assert link is not None and link.line == 3 and "prev does not match" in link.message


def test_a_reformatted_line_is_named(tmp_path: Path) -> None:
    path = story(tmp_path)
    lines = _lines(path)
    lines[0] = json.dumps(json.loads(lines[0]), ensure_ascii=False).encode() + b"\n"
    path.write_bytes(b"".join(lines))
    link = broken_link(read(path))
    assert link is not None and link.line == 1
    assert "canonical JSON" in link.message


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ("delete the second line", 2),
        ("delete the first line", 1),
        ("swap lines 3 and 4", 3),
        ("insert a copy of line 2 after it", 3),
    ],
)
def test_removed_moved_and_inserted_lines_are_named(tmp_path: Path, change: str, line: int) -> None:
    path = story(tmp_path)
    lines = _lines(path)
    if change == "delete the second line":
        del lines[1]
    elif change == "delete the first line":
        del lines[0]
    elif change == "swap lines 3 and 4":
        lines[2], lines[3] = lines[3], lines[2]
    else:
        lines.insert(2, lines[1])
    path.write_bytes(b"".join(lines))
    link = broken_link(read(path))
    assert link is not None and link.line == line, link


def test_an_inserted_line_with_a_valid_hash_and_renumbered_chain_needs_a_rewrite(
    tmp_path: Path,
) -> None:
    """Inserting a well-formed line breaks the chain unless every later line is rewritten."""
    path = story(tmp_path)
    entries = list(read(path).entries)
    forged = event(at=AT, **{"from": "auto_notify", "to": "full"}, rule="promote.full")
    rewritten = chain([*entries[:2], forged, *entries[2:]], None)
    lines = _lines(path)
    path.write_bytes(b"".join([*lines[:2], rewritten[2].line(), *lines[2:]]))
    link = broken_link(read(path))
    assert link is not None and link.line == 4
    path.write_bytes(b"".join(e.line() for e in rewritten))
    assert broken_link(read(path)) is None  # a whole rewrite: only verify and git catch it


def test_time_must_not_go_backwards(tmp_path: Path) -> None:
    path = write(tmp_path, initial(at=LATER), event(at=AT, rule="promote.auto_notify"))
    link = broken_link(read(path))
    assert link is not None and link.line == 2 and "before line 1" in link.message


def test_appending_continues_the_chain(tmp_path: Path) -> None:
    path = write(tmp_path, initial())
    ledger, added = read(path).with_events([event()])
    assert [e.seq for e in added] == [2] and added[0].prev == ledger.entries[0].hash
    path.write_bytes(ledger.data())
    assert broken_link(read(path)) is None
    fresh, first = Ledger(path=tmp_path / "new.jsonl").with_events([initial()])
    assert first[0].seq == 1 and first[0].prev is None and fresh.head == first[0]


# --- replay ----------------------------------------------------------------------------------


def test_replay_gives_level_dates_proposals_and_pins(tmp_path: Path) -> None:
    entries = read(story(tmp_path)).entries
    key = ("k8s.scale",)
    after_promotion = replay(entries[:2], ("action_class",))[key]
    assert after_promotion.level is Level.AUTO_NOTIFY
    assert after_promotion.since == AT and after_promotion.last_promoted == AT
    proposed = replay(entries[:3], ("action_class",))[key]
    assert proposed.level is Level.AUTO_NOTIFY and proposed.proposal is not None
    assert proposed.proposal.level is Level.FULL and proposed.proposal.since == LATER
    assert proposed.proposal.expires == "2026-12-10T21:13:30Z"
    approved = replay(entries[:4], ("action_class",))[key]
    assert approved.level is Level.FULL and approved.proposal is None
    assert approved.since == LATER and approved.last_promoted == LATER
    final = replay(entries, ("action_class",))[key]
    assert final.level is Level.SUGGEST and final.last_demoted == "2026-12-03T00:00:00Z"
    assert final.last_promoted == LATER and final.entries == (1, 2, 3, 4, 5)


def test_replay_records_rejections_and_pins(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        initial("auto_notify"),
        event("proposed", **{"from": "auto_notify", "to": "full"}, expires=LATER),
        event("rejected", **{"from": "auto_notify", "to": "full"}, rule="approval",
              reason="wait for the Q4 freeze", actor="Dana Reyes", expires=LATER),
        event("pinned", **{"from": None, "to": "suggest"}, rule="pins",
              reason="PCI audit", actor="sre-lead"),
    )  # fmt: skip
    state = replay(read(path).entries, ("action_class",))[("k8s.scale",)]
    assert state.proposal is None and state.rejection is not None
    assert (state.rejection.by, state.rejection.until) == ("Dana Reyes", LATER)
    assert state.pin is not None and state.pin.owner == "sre-lead"
    assert state.level is Level.AUTO_NOTIFY


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([event()], "line 1: promoted for a group with no initial entry"),
        ([initial(), initial()], "line 2: a second initial entry"),
        ([initial(), event(**{"from": "full"})], "line 2: promoted from full, but the group is"),
        (
            [initial("auto_notify"), event("approved", **{"from": "auto_notify", "to": "full"})],
            "line 2: approves full, which is not proposed",
        ),
    ],
)
def test_an_impossible_history_is_refused(
    tmp_path: Path, events: list[Event], message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        replay(read(write(tmp_path, *events)).entries, ("action_class",))


def test_a_ledger_of_another_grouping_is_refused(tmp_path: Path) -> None:
    entries = read(write(tmp_path, initial())).entries
    with pytest.raises(LedgerError, match="groups by"):
        replay(entries, ("action_class", "system_tier"))


# --- writing the policy and the ledger together ------------------------------------------


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    policy, ledger = tmp_path / "policy.yaml", tmp_path / "policy.ledger.jsonl"
    policy.write_text("old policy\n")
    ledger.write_text("old ledger\n")
    return policy, ledger


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_write_together_replaces_both(tmp_path: Path) -> None:
    policy, ledger = _pair(tmp_path)
    new = tmp_path / "new.jsonl"
    write_together([(policy, b"new policy\n"), (ledger, b"new ledger\n"), (new, b"x\n")])
    assert (ledger.read_text(), policy.read_text(), new.read_text()) == (
        "new ledger\n",
        "new policy\n",
        "x\n",
    )
    assert _leftovers(tmp_path) == []


def test_when_the_second_rename_fails_the_first_file_is_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, ledger = _pair(tmp_path)
    fresh = tmp_path / "fresh.jsonl"
    real = os.replace
    calls: list[str] = []

    def second_fails(source: Any, target: Any) -> None:
        calls.append(str(target))
        if len(calls) == 3:  # renamed last first: the ledger, then fresh, then the policy
            raise OSError(errno.ENOSPC, "No space left on device")
        real(source, target)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(TrustctlError, match=r"policy.yaml: cannot write: No space left"):
        write_together([(policy, b"new policy\n"), (fresh, b"x\n"), (ledger, b"new ledger\n")])
    assert calls[:3] == [str(ledger), str(fresh), str(policy)]
    assert (ledger.read_text(), policy.read_text()) == ("old ledger\n", "old policy\n")
    assert not fresh.exists(), "a file that did not exist is removed again"
    assert _leftovers(tmp_path) == []


def test_a_read_only_directory_changes_neither_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger's folder is writable, the policy's is read-only: neither file changes."""
    writable, read_only = tmp_path / "ledgers", tmp_path / "policies"
    writable.mkdir()
    read_only.mkdir()
    ledger, policy = writable / "p.ledger.jsonl", read_only / "p.yaml"
    ledger.write_text("old ledger\n")
    policy.write_text("old policy\n")
    read_only.chmod(0o555)
    real = tempfile.mkstemp

    def refuse_read_only(*args: Any, **kwargs: Any) -> Any:
        # As root the mode bits do not stop a write: say what the kernel says to a user.
        if Path(kwargs["dir"]) == read_only:
            raise OSError(errno.EACCES, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse_read_only)
    try:
        with pytest.raises(TrustctlError, match=r"p.yaml: cannot write: Permission denied"):
            write_together([(policy, b"new policy\n"), (ledger, b"new ledger\n")])
    finally:
        read_only.chmod(0o755)
    assert (ledger.read_text(), policy.read_text()) == ("old ledger\n", "old policy\n")
    assert _leftovers(writable) == [] and _leftovers(read_only) == []


def test_an_interrupt_between_the_renames_restores_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, ledger = _pair(tmp_path)
    real = os.replace
    calls: list[str] = []

    def interrupted(source: Any, target: Any) -> None:
        calls.append(str(target))
        if Path(target) == policy and len(calls) == 2:
            raise KeyboardInterrupt
        real(source, target)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_together([(policy, b"new policy\n"), (ledger, b"new ledger\n")])
    assert (ledger.read_text(), policy.read_text()) == ("old ledger\n", "old policy\n")
    assert _leftovers(tmp_path) == []


def test_the_readme_worked_example_re_hashes() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The ledger", 1)[1]
    line = section.split("```json\n", 1)[1].split("\n```", 1)[0]
    data = json.loads(line)
    claimed = data.pop("hash")
    assert hashlib.sha256(canonical(data)).hexdigest() == claimed
    assert canonical({**data, "hash": claimed}) == line.encode("utf-8")
    assert f"`{claimed[:8]}…{claimed[-4:]}`" in section
