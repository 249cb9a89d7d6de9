"""``whatif --replay``: equal to hand-chained weekly ``generate --as-of --previous`` runs, and
its exposure counted again from the CSV by hand."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import failure, ok, run
from conftest import SAMPLE_CSV

from trustctl import times
from trustctl.replay import replay
from trustctl.rules import load_rules
from trustctl.whatif import parse_scenario

SAMPLE = SAMPLE_CSV.parent
LOOSE = "promote:\n  auto_notify:\n    agreement: {min_decisions: 50, threshold: 0.92}\n"
SINCE = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)


def _chained(rules: Path, moments: list[dt.datetime], tmp_path: Path) -> list[dict[str, str]]:
    """Each step's levels by weekly ``generate --as-of --previous`` runs, as a CI job would."""
    levels = []
    previous: list[str | Path] = []
    for index, moment in enumerate(moments):
        policy = tmp_path / f"step{index}.yaml"
        ok(
            "generate",
            SAMPLE,
            "--rules",
            rules,
            "--as-of",
            times.stamp(moment),
            "-o",
            policy,
            *previous,
        )
        data = yaml.safe_load(policy.read_text())
        levels.append({a["action_class"]: a["level"] for a in data["actions"]})
        previous = ["--previous", policy]
    return levels


def _decisions() -> dict[str, dict[str, str]]:
    """The sample's decisions merged by hand: the earliest time, the last value given."""
    merged: dict[str, dict[str, str]] = {}
    with SAMPLE_CSV.open(newline="") as handle:
        for row in csv.DictReader(handle):
            seen = merged.setdefault(row["decision_id"], dict(row))
            seen["timestamp"] = min(seen["timestamp"], row["timestamp"])
            for name, value in row.items():
                if value and name != "timestamp":
                    seen[name] = value
    return merged


def _exposure(levels: list[dict[str, str]], moments: list[dt.datetime]) -> dict[str, Any]:
    counts: dict[str, Any] = {"decisions": 0, "automated": 0, "failures": [], "critical": []}
    for decision in _decisions().values():
        when = times.parse(decision["timestamp"])
        steps = [i for i in range(1, len(moments)) if moments[i - 1] < when <= moments[i]]
        if not steps:
            continue
        counts["decisions"] += 1
        level = levels[steps[0] - 1].get(decision["action_class"], "observe")
        if level in ("auto_notify", "full"):
            counts["automated"] += 1
            if decision["outcome"] == "failure":
                counts["failures"].append(decision["decision_id"])
                if decision["severity"] == "critical":
                    counts["critical"].append(decision["decision_id"])
    return counts


@pytest.mark.slow
def test_replay_equals_chained_weekly_generate_and_hand_counted_exposure(tmp_path: Path) -> None:
    rules = tmp_path / "loose.yaml"
    rules.write_text(LOOSE)
    scenario = parse_scenario("loose: promote.auto_notify.agreement.threshold=0.92")
    found = replay([SAMPLE], load_rules(None), [scenario], since=SINCE)
    run_ = found.scenarios[0]
    moments = [step.as_of for step in run_.history.steps]
    assert len(moments) >= 8
    chained = _chained(rules, moments, tmp_path)
    for step, expected in zip(run_.history.steps, chained, strict=True):
        got = {str(v.state.key[0]): v.level.value for v in step.verdicts}
        assert got == expected, step.as_of
    counted = _exposure(chained, moments)
    assert run_.total.decisions == counted["decisions"]
    assert run_.total.automated == counted["automated"]
    assert sorted(run_.total.failure_ids) == sorted(counted["failures"])
    assert sorted(run_.total.critical_ids) == sorted(counted["critical"])
    assert 0 < run_.total.automated < run_.total.decisions
    assert run_.total.failures > 0


@pytest.mark.slow
def test_replay_prints_each_scenarios_price() -> None:
    text = ok(
        "whatif", SAMPLE, "--replay", "--since", "2026-09-01",
        "--scenario", "loose: promote.auto_notify.agreement.threshold=0.92",
    ).stdout  # fmt: skip
    assert "replay: 13 steps from 2026-09-01T00:00:00Z" in text
    assert (
        "loose: " in text
        and "(baseline " in text
        and "failures ran before a human saw them" in text
    )
    data = json.loads(
        ok(
            "whatif", SAMPLE, "--replay", "--since", "2026-09-01", "--format", "json",
            "--scenario", "loose: promote.auto_notify.agreement.threshold=0.92",
        ).stdout
    )  # fmt: skip
    baseline, loose = data["scenarios"]
    assert loose["total"]["automated"] >= baseline["total"]["automated"]
    groups = loose["groups"]
    assert sum(g["decisions"] for g in groups.values()) == loose["total"]["decisions"]


def test_replay_refuses_an_as_of_scenario_and_a_bad_step() -> None:
    assert "as_of has no place" in failure(
        run("whatif", SAMPLE, "--replay", "--scenario", "old: as_of=2026-09-01")
    )
    assert "--every" in failure(
        run("whatif", SAMPLE, "--replay", "--every", "0d", "--scenario", "a: window=90d")
    )


@pytest.mark.slow
def test_replay_offers_every_format_whatif_offers() -> None:
    from trustctl import formats
    from trustctl.cli_whatif import WhatifFormat

    assert list(formats.REPLAY) == [f.value for f in WhatifFormat]
    for name in formats.REPLAY:
        text = ok(
            "whatif", SAMPLE, "--replay", "--since", "2026-10-15", "--format", name,
            "--scenario", "w: window=90d",
        ).stdout  # fmt: skip
        assert text.endswith("\n") and "k8s.scale" in text


def test_replay_skipping_bad_rows_equals_the_log_without_those_decisions(tmp_path: Path) -> None:
    lines = SAMPLE_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    bad = tmp_path / "with-bad" / "decisions.csv"
    bad.parent.mkdir()
    # A decision whose second row gives an unknown mode: skipped whole, first row too.
    header = lines[0].rstrip("\n").split(",")
    first = dict(zip(header, lines[1].rstrip("\n").split(","), strict=True))
    first["decision_id"] = "d-bad"
    second = dict(first, mode="sometimes")
    extra = [",".join(record[c] for c in header) + "\n" for record in (first, second)]
    bad.write_text("".join([*lines, *extra]), encoding="utf-8")
    args = ["--replay", "--since", "2026-10-01", "--scenario", "w: window=90d", "--format", "json"]
    refused = run("whatif", bad, *args)
    assert refused.exit_code == 2 and "sometimes" in refused.stderr
    skipped = run("whatif", bad, *args, "--on-bad-rows", "skip")
    assert skipped.exit_code == 0, skipped.output
    assert "warning: skipped 1 decision(s) (2 row(s)) with bad data" in skipped.stderr
    assert skipped.stdout == ok("whatif", SAMPLE_CSV, *args).stdout


def test_replay_markdown_escapes_pipes_in_cells_as_whatif_does(tmp_path: Path) -> None:
    log = tmp_path / "pipes.csv"
    log.write_text(SAMPLE_CSV.read_text(encoding="utf-8").replace("ci-runners", "ci|runners"))
    common = (
        "--format", "markdown", "--set", "group_by=[action_class, service]",
        "--scenario", "ab: where=service!=ci|runners",
    )  # fmt: skip
    replayed = ok("whatif", log, "--replay", "--since", "2026-11-05", *common).stdout
    compared = ok("whatif", log, *common).stdout
    for text in (replayed, compared):
        rows = [line for line in text.splitlines() if line.startswith("|")]
        cells = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
        assert len(cells) == 1, rows  # every row has the header's columns
        assert "| cert.renew service=ci\\|runners |" in text
        assert "- ab: where service!=ci\\|runners" in text


def test_each_groups_exposure_under_a_key_of_several_columns_counted_by_hand() -> None:
    rules = load_rules(None)
    keyed = rules.model_copy(
        update={
            "rules": rules.rules.model_copy(
                update={"group_by": ("action_class", "system_tier", "service")}
            )
        }
    )
    found = replay([SAMPLE], keyed, [], since=SINCE).baseline
    steps = found.history.steps
    moments = [step.as_of for step in steps]
    levels = [{v.state.key: v.level.value for v in step.verdicts} for step in steps]
    expected: dict[tuple[object, ...], list[int]] = {}
    for decision in _decisions().values():
        when = times.parse(decision["timestamp"])
        step = next((i for i in range(1, len(moments)) if moments[i - 1] < when <= moments[i]), 0)
        if not step:
            continue
        key = (decision["action_class"], int(decision["system_tier"]), decision["service"])
        counts = expected.setdefault(key, [0, 0])
        counts[0] += 1
        counts[1] += levels[step - 1].get(key, "observe") in ("auto_notify", "full")
    got = {key: [e.decisions, e.automated] for key, e in found.groups.items()}
    assert got == expected
    assert sum(a for _, a in expected.values()) > 0
