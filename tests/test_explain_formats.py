"""explain --format text|markdown|json, --recent N, roll-ups and counted marks, 80 columns."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from clirun import ok

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "decisions.csv"
DISAGREE = {"rejected", "modified", "overridden"}


def _explained(*args: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ok("explain", *args, "--format", "json").stdout)
    return found


def _decisions(action_class: str) -> dict[str, dict[str, str]]:
    """The sample's decisions of one class, their event rows merged by hand: the first
    timestamp, and the human verdict and reviewer wherever a row gives them."""
    merged: dict[str, dict[str, str]] = {}
    with SAMPLE.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["action_class"] != action_class:
                continue
            seen = merged.setdefault(row["decision_id"], dict(row))
            seen["timestamp"] = min(seen["timestamp"], row["timestamp"])
            for name in ("human_decision", "reviewer", "rationale"):
                seen[name] = row[name] or seen[name]
    return merged


def test_roll_ups_count_the_windows_disagreements_as_the_csv_does() -> None:
    found = _explained("k8s.rollback", "sample_data/")
    as_of = dt.datetime.fromisoformat(found["as_of"].replace("Z", "+00:00"))
    start = (as_of - dt.timedelta(days=180)).date() + dt.timedelta(days=1)  # whole UTC days
    disagreed = [
        d
        for d in _decisions("k8s.rollback").values()
        if d["human_decision"] in DISAGREE and start.isoformat() <= d["timestamp"][:10]
    ]
    group = found["groups"][0]["disagreements"]
    assert group["in_window"] == len(disagreed) == 13
    by_reviewer = Counter(d["reviewer"] for d in disagreed)
    assert dict(map(tuple, group["by"]["reviewer"])) == dict(by_reviewer)
    assert sum(count for _, count in group["by"]["rationale"]) == len(disagreed)


def test_recent_lists_that_many_newest_first_each_marked_counted_or_not() -> None:
    found = _explained("k8s.rollback", "sample_data/", "--recent", "12")["groups"][0]
    recent = found["disagreements"]["recent"]
    assert len(recent) == 12
    assert [r["timestamp"] for r in recent] == sorted(
        (r["timestamp"] for r in recent), reverse=True
    )
    counted_from = found["action"]["evidence"]["counted_from"][:10]
    for r in recent:
        if r["timestamp"][:10] != counted_from:  # that day counts only decisions at the level
            assert r["counted"] == (r["timestamp"][:10] > counted_from), r
    assert {r["counted"] for r in recent} == {True, False}
    assert len(_explained("k8s.rollback", "sample_data/", "--recent", "2")["groups"][0][
        "disagreements"]["recent"]) == 2  # fmt: skip
    text = ok("explain", "k8s.rollback", "sample_data/", "--recent", "12").stdout
    assert "d-0003862*" in text and "* not counted: before the evidence clock" in text


def test_below_100_columns_long_text_is_key_value_lines_that_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for action_class in ("k8s.rollback", "k8s.restart_pod", "db.failover"):
        text = ok("explain", action_class, "sample_data/").stdout
        assert "…" not in text and "┃" not in text
        assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
        assert "\nrules:\n  " in text and "\nrecent disagreements:\n  d-" in text
        assert "\nhistory (ledger, newest first):\n  line " in text
    wide = ok("explain", "k8s.rollback", "sample_data/", "--wide").stdout
    assert "┃ rule" in wide and "┃ decision" in wide


def test_markdown_has_the_rules_and_the_counted_column() -> None:
    text = ok("explain", "k8s.rollback", "sample_data/", "--format", "markdown").stdout
    assert text.startswith("### `k8s.rollback`: suggest (unchanged)\n")
    assert "| rule | result | numbers |" in text
    assert "| `promote.auto_notify.agreement.threshold` | FAIL |" in text
    assert "| decision | time | human | outcome | reviewer | counted | rationale |" in text
    assert "- by reviewer: j.moreau@example.com (4); m.okafor@example.com (4)" in text
