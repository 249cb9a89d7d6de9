"""``--review-minutes``: review time saved and failures that ran first, counted from the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict

import pytest
from clirun import failure, ok, run
from conftest import SAMPLE_CSV

MINUTES = 12


def _merged() -> dict[str, dict[str, str]]:
    """Each decision of the sample: its earliest time, every other field's one value."""
    decisions: dict[str, dict[str, str]] = defaultdict(dict)
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as stream:
        for record in csv.DictReader(stream):
            merged = decisions[record["decision_id"]]
            for name, value in record.items():
                if name == "timestamp":
                    merged[name] = min(merged.get(name, value), value, key=_instant)
                elif value:
                    merged[name] = value
    return decisions


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_review_counts_what_ran_without_a_human_first() -> None:
    steps = json.loads(ok("history", SAMPLE_CSV, "--format", "json").stdout)["steps"]
    first, last = _instant(steps[0]["as_of"]), _instant(steps[-1]["as_of"])
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for d in _merged().values():
        if not first < _instant(d["timestamp"]) <= last:
            continue
        counts = expected[d["action_class"]]
        counts[0] += 1
        if d["executed"] == "true" and d["mode"] in ("auto_notify", "full"):
            counts[1] += 1
            counts[2] += d.get("outcome") == "failure"
            counts[3] += d.get("outcome") == "failure" and d.get("severity") == "critical"
    page = ok("review", SAMPLE_CSV, "--review-minutes", str(MINUTES), "--format", "markdown")
    lines = page.stdout.split("## Economics")[1].split("\n## ")[0].splitlines()
    table = [line.split(" | ") for line in lines if line.startswith("| ") and "---" not in line]
    shown = {cells[0].lstrip("| "): cells for cells in table[1:]}
    assert set(shown) == set(expected)
    for group, (decisions, automated, failed, critical) in expected.items():
        cells = shown[group]
        assert int(cells[1]) == decisions, group
        assert cells[2].split(" ")[0] == str(automated), group
        saved = automated * MINUTES
        assert cells[3] == (f"{saved:,.0f} min" if saved < 120 else f"{saved / 60:,.1f} h")
        assert cells[4] == str(failed) + (f" ({critical} critical)" if critical else "")
    assert sum(c[1] for c in expected.values()) > 0


def test_without_the_minutes_there_is_no_economics_section() -> None:
    page = ok("review", SAMPLE_CSV, "--group", "k8s.scale", "--format", "markdown").stdout
    assert "Economics" not in page


@pytest.mark.parametrize("minutes", ["0", "-3", "1e9"])
def test_bad_minutes_exit_2(minutes: str) -> None:
    assert "--review-minutes" in failure(run("review", SAMPLE_CSV, "--review-minutes", minutes))


def test_the_replay_prices_each_scenario_in_review_time() -> None:
    args = ["--replay", "--since", "2026-10-01", "--scenario", "p90: window=90d"]
    data = json.loads(
        ok("whatif", SAMPLE_CSV, *args, "--review-minutes", "7.5", "--format", "json").stdout
    )
    for scenario in data["scenarios"]:
        total = scenario["total"]
        assert total["review_minutes_saved"] == total["automated"] * 7.5
        for group in scenario["groups"].values():
            assert group["review_minutes_saved"] == group["automated"] * 7.5
    baseline, p90 = (s["total"]["automated"] * 7.5 / 60 for s in data["scenarios"])
    assert (
        f"{p90:,.1f} h of human review saved ({p90 - baseline:,.1f} h more"
        in (data["scenarios"][1]["summary"])
    )
    plain = json.loads(ok("whatif", SAMPLE_CSV, *args, "--format", "json").stdout)
    assert "review_minutes_saved" not in plain["scenarios"][0]["total"]


def test_review_minutes_price_a_replay_only() -> None:
    result = run("whatif", SAMPLE_CSV, "--scenario", "a: window=90d", "--review-minutes", "5")
    assert "add --replay" in failure(result)
