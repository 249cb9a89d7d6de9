"""``trustctl whatif``: each scenario equals a ``generate`` with its change, from one read."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import failure, ok, policy_yaml, run
from conftest import SAMPLE_CSV, START, LogFiles, row

import trustctl.whatif
from trustctl.bounds import lower_bound
from trustctl.evaluate import evaluate
from trustctl.rules import load_rules
from trustctl.whatif import parse_scenario, whatif

SAMPLE = SAMPLE_CSV.parent

SCENARIOS = {
    "strict": ("promote.auto_notify.agreement.threshold=0.97", ["--rules", "RULES"]),
    "hundred": ("promote.auto_notify.agreement.min_decisions=100", ["--rules", "RULES"]),
    "no-ci": ("where=service!=ci-runners", ["--where", "service!=ci-runners"]),
    "sept": ("as_of=2026-09-30", ["--as-of", "2026-09-30"]),
}
RULES_FILES = {
    "strict": "promote:\n  auto_notify:\n    agreement: {min_decisions: 50, threshold: 0.97}\n",
    "hundred": "promote:\n  auto_notify:\n    agreement: {min_decisions: 100, threshold: 0.95}\n",
}


def _whatif_json(*args: str | Path) -> dict[str, Any]:
    data = json.loads(ok("whatif", SAMPLE, *args, "--format", "json").stdout)
    assert isinstance(data, dict)
    return data


def _by_group(policy_text: str) -> dict[str, dict[str, Any]]:
    return {a["action_class"]: a for a in yaml.safe_load(policy_text)["actions"]}


def test_each_scenario_equals_generate_with_the_same_change(tmp_path: Path) -> None:
    args: list[str] = []
    for name, (change, _) in SCENARIOS.items():
        args += ["--scenario", f"{name}: {change}"]
    found = _whatif_json(*args)
    baseline = _by_group(policy_yaml(SAMPLE))
    for name, (_, generate_args) in SCENARIOS.items():
        rules = tmp_path / f"{name}.yaml"
        rules.write_text(RULES_FILES.get(name, ""))
        expected = _by_group(
            policy_yaml(SAMPLE, *(str(rules) if a == "RULES" else a for a in generate_args))
        )
        got = {g["group"]: g[name] for g in found["groups"] if g[name]["level"] is not None}
        assert set(got) == set(expected), name
        for group, action in expected.items():
            assert got[group]["level"] == action["level"], (name, group)
            assert got[group]["clean_decisions_needed"] == action["next"]["clean_decisions_needed"]
            assert got[group]["reason"] == action["reason"], (name, group)
            level_changed = action["level"] != baseline[group]["level"]
            assert (got[group]["mark"] in ("↑", "↓")) == level_changed, (name, group)
    assert {g["group"]: g["baseline"]["level"] for g in found["groups"]} == {
        group: action["level"] for group, action in baseline.items()
    }


def test_scenarios_are_evaluated_from_one_read(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = trustctl.whatif.load_timeline

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(trustctl.whatif, "load_timeline", counted)
    scenarios = [
        parse_scenario(f"s{i}: promote.auto_notify.agreement.threshold=0.9{i + 1}")
        for i in range(9)
    ]
    scenarios.append(parse_scenario("early: as_of=2026-08-01, window=90d"))
    found = whatif([SAMPLE], load_rules(None), scenarios)
    assert len(calls) == 1
    assert found.reads == 1
    assert len(found.scenarios) == 10


def test_an_earlier_as_of_with_decisions_still_arriving_needs_no_second_read(
    logs: LogFiles,
) -> None:
    rows = [row(f"d-{i:03d}", day=i + 0.25) for i in range(40)]
    rows.append(row("late", day=29.999, human_decision="", executed="", outcome="", reviewer=""))
    rows.append(row("late", day=30.01, human_decision="rejected", executed="false", outcome=""))
    path = logs.csv(rows)
    cut = START + dt.timedelta(days=30)
    found = whatif([path], load_rules(None), [parse_scenario(f"then: as_of={cut.isoformat()}")])
    assert found.reads == 1
    by_hand = evaluate([path], load_rules(None), None, cut)
    assert [v.state for v in found.scenarios[0].evaluation.verdicts] == [
        v.state for v in by_hand.verdicts
    ]


def test_the_table_names_each_change_and_marks_changed_cells() -> None:
    text = ok(
        "whatif",
        SAMPLE,
        "--scenario",
        "strict: promote.auto_notify.agreement.threshold=0.97",
        "--scenario",
        "no-ci: where=service in ci-runners,search",
        "--reasons",
    ).stdout
    assert "strict: promote.auto_notify.agreement.threshold=0.97" in text
    assert "no-ci: where service in ci-runners,search" in text
    assert "↓ suggest (24)" in text  # k8s.scale: 0.967 < 0.97
    assert "strict: 0 promoted, 1 demoted" in text
    assert "strict · k8s.scale: stays at suggest" in text


def test_a_sweep_over_durations_equals_generate_at_each_value() -> None:
    found = _whatif_json("--sweep", "window=30d:90d:30d")
    for value in ("30d", "60d", "90d"):
        by_generate = json.loads(
            ok("generate", SAMPLE, "--set", f"window={value}", "--format", "json").stdout
        )
        expected = {a["action_class"]: a for a in by_generate["actions"]}
        for group in found["groups"]:
            action = expected[group["group"]]
            cell = group[value]
            assert cell["level"] == action["level"], (value, group["group"])
            assert cell["clean_decisions_needed"] == action["next"]["clean_decisions_needed"]


def test_sweep_changes_level_where_the_bound_crosses_the_threshold() -> None:
    found = _whatif_json("--sweep", "promote.auto_notify.agreement.threshold=0.91:0.99:0.01")
    baseline = _by_group(policy_yaml(SAMPLE))
    grid = [Decimal("0.91") + Decimal("0.01") * i for i in range(9)]
    changed = {g["group"]: g["changes_at"] for g in found["groups"] if g["changes_at"]}
    assert {"k8s.scale", "dns.update", "k8s.rollback"} <= set(changed)
    for group, steps in changed.items():
        agreement = baseline[group]["evidence"]["agreement"]
        bound = lower_bound(
            agreement["agreed"], agreement["reviewed"], 0.95, "clopper-pearson", (1, 1)
        )
        first_above = min(v for v in grid if v > Decimal(repr(bound)))
        assert steps == [{"value": str(first_above), "level": "suggest"}], group


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--scenario", "no colon"], "expected 'NAME: KEY=VALUE"),
        (["--scenario", "x: promote.auto_notify.agreement.threshhold=0.9"], "did you mean"),
        (["--scenario", "x: window=ninety"], "window"),
        (["--scenario", "x: where=servce=a"], "did you mean 'service'"),
        (["--scenario", "x: as_of=yesterday"], "as_of"),
        (["--scenario", "baseline: window=90d"], "'baseline' names"),
        (["--scenario", "a: window=90d", "--scenario", "a: window=60d"], "same name"),
        (["--scenario-rules", "a=/nonexistent.yaml"], "cannot read"),
        (["--sweep", "window=1:2"], "KEY=FROM:TO:STEP"),
        (["--sweep", "window=30:180:30"], "window"),
        (["--sweep", "window=30d:180:30d"], "the same unit"),
        (["--sweep", "window=7.5d:30d:7d"], "a whole number of d"),
        (["--sweep", "x=1:2:1", "--scenario", "a: window=9d"], "--sweep replaces"),
        ([], "at least one"),
        (["--scenario", "a: window=90d", "--set", "windo=1d"], "did you mean 'window'"),
    ],
)
def test_bad_scenarios_exit_2_naming_the_problem(args: list[str], said: str) -> None:
    assert said in failure(run("whatif", SAMPLE, *args))


def test_scenario_rules_start_from_their_file(tmp_path: Path) -> None:
    rules = tmp_path / "strict.yaml"
    rules.write_text(RULES_FILES["strict"])
    by_file = _whatif_json("--scenario-rules", f"strict={rules}")
    by_set = _whatif_json("--scenario", f"strict: {SCENARIOS['strict'][0]}")
    assert [g["strict"] for g in by_file["groups"]] == [g["strict"] for g in by_set["groups"]]
    assert by_file["scenarios"][0]["changes"] == [f"rules={rules}"]
