"""trustctl history: each step equals a generate --as-of --previous run chained by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from clirun import run as _run
from conftest import SAMPLE_CSV, LogFiles, row

from trustctl.ingest import load_timeline
from trustctl.policy import load_policy


def _steps(*args: object) -> list[dict[str, object]]:
    result = _run("history", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    steps: list[dict[str, object]] = json.loads(result.stdout)["steps"]
    return steps


def _chained_by_hand(logs: Path, steps: list[dict[str, object]], tmp_path: Path) -> int:
    """Run generate at each step's as_of with the step before as --previous; compare."""
    previous: Path | None = None
    compared = 0
    for index, step in enumerate(steps):
        groups = step["groups"]
        assert isinstance(groups, list)
        if not groups:
            assert previous is None  # only steps before the first decision are empty
            continue
        out = tmp_path / f"step-{index}.yaml"
        extra = [] if previous is None else ["--previous", previous]
        result = _run("generate", logs, "--as-of", step["as_of"], *extra, "-o", out)
        assert result.exit_code == 0, result.output
        by_hand = {a.action_class: a for a in load_policy(out).actions}
        assert sorted(by_hand) == sorted(g["group"] for g in groups)
        for group in groups:
            action = by_hand[group["group"]]
            agreement, success = action.evidence.agreement, action.evidence.success
            assert (group["level"], group["change"]) == (action.level.value, action.change)
            assert (group["agreed"], group["reviewed"]) == (agreement.agreed, agreement.reviewed)
            assert (group["agreement_lower"], group["agreement_upper"]) == (
                agreement.lower,
                agreement.upper,
            )
            assert (group["succeeded"], group["verified"]) == (success.succeeded, success.verified)
            assert (group["success_lower"], group["success_upper"]) == (
                success.lower,
                success.upper,
            )
        previous = out
        compared += 1
    return compared


def test_steps_equal_generate_chained_by_hand_on_the_sample(tmp_path: Path) -> None:
    steps = _steps(SAMPLE_CSV, "--since", "2026-06-03T06:00:00Z", "--every", "21d")
    assert _chained_by_hand(SAMPLE_CSV, steps, tmp_path) >= 8
    changes = {(g["group"], g["change"]) for s in steps for g in s["groups"]}  # type: ignore[union-attr]
    assert ("k8s.scale", "promoted") in changes  # the story is not flat


def test_a_decision_still_arriving_at_a_step_is_counted_as_then_known(
    logs: LogFiles, tmp_path: Path
) -> None:
    # Proposed just before the step at midnight of day 30, judged after it: pending then.
    rows = [row(f"d-{i:03d}", day=i + 0.25) for i in range(40)]
    rows.append(row("late", day=29.999, human_decision="", executed="", outcome="", reviewer=""))
    rows.append(row("late", day=30.01, human_decision="rejected", executed="false", outcome=""))
    path = logs.csv(rows)
    since = dt.datetime(2026, 1, 3, tzinfo=dt.timezone.utc)  # + 4 weeks: day 30
    arriving = load_timeline([path]).arriving
    assert arriving is not None
    assert len(arriving.first) == 1  # "late" is the one decision recorded over time
    assert not len(arriving.at(since + dt.timedelta(weeks=4)))  # executed is not known yet
    steps = _steps(path, "--since", "2026-01-03T00:00:00Z", "--every", "7d")
    assert _chained_by_hand(path, steps, tmp_path) >= 4


def test_groups_and_formats(tmp_path: Path) -> None:
    result = _run("history", SAMPLE_CSV, "--group", "k8s.scale", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["group"] for r in table} == {"k8s.scale"}
    assert len(table) >= 20
    assert all(int(r["unattended"]) >= int(r["unattended_failures"]) for r in table)


def test_the_table_fits_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = _run("history", SAMPLE_CSV, "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    assert "feature_flag.disable" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--group", "k8s.scal"],
            "error: --group 'k8s.scal': no such group; did you mean 'k8s.scale'?",
        ),
        (["--every", "0d"], "error: --every: a step of 0d never moves"),
        (["--every", "week"], "error: --every: 'week' is not a duration"),
        (
            ["--since", "2026-10-01", "--until", "2026-09-01"],
            "error: --since 2026-10-01T00:00:00Z is after --until 2026-09-01T00:00:00Z",
        ),
        (["--since", "yesterday"], "error: --since:"),
    ],
)
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = _run("history", SAMPLE_CSV, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output
