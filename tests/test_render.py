"""Rendering: log and rules data is shown exactly as written, and the review table's cells."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from pathlib import Path

import pytest
from clirun import ok
from conftest import LogFiles, history, row
from rich.console import Console

from trustctl import render
from trustctl.evaluate import evaluate
from trustctl.levels import Level
from trustctl.rules import load_rules
from trustctl.verdict import (
    AtTop,
    CooldownEnds,
    MoreClean,
    MoreVerified,
    Need,
    Next,
    PinnedBy,
    Verdict,
)


def _rules(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text("apiVersion: trustctl/v1\nkind: TrustRules\n" + body)
    return path


@pytest.fixture
def bracketed(logs: LogFiles) -> Path:
    """:func:`history` plus a rejected rollback whose data looks like rich markup."""
    odd = row(
        "[/bold]",
        day=85,
        action_class="k8s.rollback",
        service="[prod]",
        human_decision="rejected",
        executed="false",
        outcome="",
        reviewer="[bold]eve",
        rationale="[jira-12] :fire: [JIRA-12]",
        incident_id="INC-[red]",
    )
    return logs.csv([*history(), odd], name="bracketed.csv")


def test_explain_prints_markup_like_data_literally(bracketed: Path, tmp_path: Path) -> None:
    rules = _rules(tmp_path, "group_by: [action_class, service]\n")
    out = ok("explain", "k8s.rollback", bracketed, "--rules", rules).stdout
    assert "k8s.rollback service=[prod]: suggest" in out
    for text in ("[/bold]", "[bold]eve", "[jira-12]", ":fire:", "[JIRA-12]", "(INC-[red])"):
        assert text in out, text
    assert "🔥" not in out


def test_the_review_table_prints_markup_like_data_literally(
    bracketed: Path, tmp_path: Path
) -> None:
    rules = _rules(tmp_path, "group_by: [action_class, service]\n")
    out = ok("generate", bracketed, "--rules", rules, "--format", "table").stdout
    assert "k8s.rollback service=[prod]" in out
    assert "k8s.rollback service=checkout" in out


def test_pins_are_printed_literally(history_csv: Path, tmp_path: Path) -> None:
    rules = _rules(
        tmp_path,
        "pins:\n"
        "  - action_class: db.*\n"
        "    level: observe\n"
        '    reason: "[cab-7] change freeze; by order of :lock:"\n'
        '    owner: "night shift by [b]rota[/b]"\n',
    )
    table = ok("generate", history_csv, "--rules", rules, "--format", "table", "--wide").stdout
    line = next(x for x in table.splitlines() if "db.failover" in x)
    assert line.split()[1:3] == ["observe", "↓"] and line.split()[-2:] == ["pin", "pinned"]
    out = ok("explain", "db.failover", history_csv, "--rules", rules).stdout
    assert "observe by night shift by [b]rota[/b]: [cab-7] change freeze; by order of :lock:" in (
        out
    )


def _verdict(history_csv: Path, action_class: str) -> Verdict:
    result = evaluate([history_csv], load_rules(None))
    return next(v for v in result.verdicts if v.state.key[0] == action_class)


def _next(verdict: Verdict, level: Level | None, needs: tuple[Need, ...], clean: int | None) -> str:
    return render.next_text(replace(verdict, next=Next(level, needs, clean)))


COOLDOWN = CooldownEnds(dt.datetime(2026, 3, 30, 6, tzinfo=dt.timezone.utc))


def test_next_cell_counts_clean_decisions(history_csv: Path) -> None:
    rollback = _verdict(history_csv, "k8s.rollback")
    needs = (MoreClean("agreement", 12, 0.95, 50), COOLDOWN)
    assert _next(rollback, Level.AUTO_NOTIFY, needs, 12) == "auto_notify: 12 clean"


def test_next_cell_shows_the_first_need_whole(history_csv: Path) -> None:
    rollback = _verdict(history_csv, "k8s.rollback")
    cooldown = "the cooldown to end on 2026-03-30T06:00:00Z"
    assert _next(rollback, Level.AUTO_NOTIFY, (COOLDOWN,), 0) == f"auto_notify: {cooldown}"
    first = _next(rollback, Level.AUTO_NOTIFY, (MoreVerified(3, 0.05), COOLDOWN), 0)
    assert first.startswith("auto_notify: 3 more verified executions to bring")
    assert "cooldown" not in first
    long = _next(rollback, None, (PinnedBy("y" * 200), COOLDOWN), None)
    assert long == "pinned by " + "y" * 200 + "; the pin must be removed or expire"


def test_next_cell_names_the_cap_and_its_tier(history_csv: Path) -> None:
    failover = _verdict(history_csv, "db.failover")
    assert failover.cap.level is Level.SUGGEST and failover.level is Level.SUGGEST
    assert render.next_text(failover) == "capped at suggest by risk_tier=3"
    restart = _verdict(history_csv, "k8s.restart_pod")
    top = replace(restart, level=Level.FULL)
    assert render.next_text(replace(top, next=Next(None, (AtTop(),), None))) == (
        "already at the top of the ladder"
    )


def test_diff_table_cells_are_literal() -> None:
    from trustctl import diff_formats
    from trustctl.diff import LevelChange

    change = LevelChange(
        key=("k8s.rollback", "[prod]"),
        label="k8s.rollback service=[prod]",
        kind="promoted",
        old="suggest",
        new="auto_notify",
        reason="[jira-1] ok",
    )
    stream = io.StringIO()
    Console(file=stream, width=120).print(diff_formats.level_table([change]))
    text = stream.getvalue()
    assert "service=[prod]" in text and "[jira-1] ok" in text
