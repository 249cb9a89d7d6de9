"""``generate --format csv``: one row per group, the same numbers as the policy itself."""

from __future__ import annotations

import csv
import io
import json

from clirun import ok
from conftest import SAMPLE_CSV

from trustctl.policy_csv import COLUMNS


def test_each_row_is_its_groups_policy_entry() -> None:
    policy = json.loads(ok("generate", SAMPLE_CSV, "--format", "json").stdout)
    table = list(csv.DictReader(io.StringIO(ok("generate", SAMPLE_CSV, "--format", "csv").stdout)))
    assert list(table[0]) == ["group", "action_class", *COLUMNS]
    assert [r["group"] for r in table] == [a["action_class"] for a in policy["actions"]]
    for row, action in zip(table, policy["actions"], strict=True):
        agreement, success = action["evidence"]["agreement"], action["evidence"]["success"]
        assert (row["level"], row["change"], row["reason"]) == (
            action["level"],
            action["change"],
            action["reason"],
        )
        assert [int(row[k]) for k in ("agreed", "reviewed", "timeouts")] == [
            agreement["agreed"],
            agreement["reviewed"],
            agreement["timeouts"],
        ]
        assert [float(row["agreement_lower"]), float(row["agreement_upper"])] == [
            agreement["lower"],
            agreement["upper"],
        ]
        assert [int(row[k]) for k in ("succeeded", "verified", "unverified")] == [
            success["succeeded"],
            success["verified"],
            success["unverified"],
        ]
        assert int(row["critical_failures"]) == action["evidence"]["critical_failures"]
        assert row["limited_by"] == (action["limited_by"] or "")
        assert row["next_level"] == (action["next"]["level"] or "")
        needed = action["next"]["clean_decisions_needed"]
        assert row["clean_decisions_needed"] == ("" if needed is None else str(needed))
        assert row["needs"] == action["next"]["needs"]


def test_group_by_columns_come_after_the_label(tmp_path: object) -> None:
    text = ok(
        "generate", SAMPLE_CSV, "--set", "group_by=[action_class, system_tier]", "--format", "csv"
    )
    table = list(csv.DictReader(io.StringIO(text.stdout)))
    assert list(table[0])[:3] == ["group", "action_class", "system_tier"]
    assert {r["system_tier"] for r in table} >= {"1", "2"}
    assert any(r["group"] == f"{r['action_class']} system_tier={r['system_tier']}" for r in table)
