"""Tables fit an 80-column terminal by default, no cell cut short; ``--wide`` has every column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from clirun import ok, run

ROOT = Path(__file__).resolve().parent.parent
SPLIT = ROOT / "tests" / "golden" / "rules-split.yaml"


def _fits(text: str, width: int = 80) -> None:
    assert "…" not in text, text
    too_long = [line for line in text.splitlines() if len(line.rstrip()) > width]
    assert not too_long, too_long


@pytest.mark.parametrize("rules", [None, SPLIT])
def test_the_policy_table_fits_80_columns_and_wide_has_every_column(
    rules: Path | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    given = ["--rules", str(rules)] if rules else []
    table = ok("generate", "sample_data/", *given, "--format", "table").stdout
    _fits(table)
    assert table.splitlines()[1].split() == ["group", "level", "agree≥", "succ.≥", "next"]
    assert "⇡auto_notify" in table and "↑auto_notify" in table and "↓suggest" in table
    wide = ok("generate", "sample_data/", *given, "--format", "table", "--wide").stdout
    for heading in ("agreement", "success", "unverif.", "crit.", "limited by", "change"):
        assert heading in wide
    assert max(len(line) for line in wide.splitlines()) >= 120


def test_a_pipe_without_columns_gets_80_not_160(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS")
    table = ok("generate", "sample_data/", "--format", "table").stdout
    _fits(table)
    wide = ok("generate", "sample_data/", "--format", "table", "--wide").stdout
    assert max(len(line) for line in wide.splitlines()) == 160


def test_diff_and_history_tables_fit_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", "sample_data/", "--as-of", "2026-09-01", "-o", old)
    ok("generate", "sample_data/", "--previous", old, "-o", new)
    _fits(ok("diff", old, new).stdout)
    _fits(ok("history", "sample_data/", "--since", "2026-10-01", "--every", "21d").stdout)


def test_diff_and_history_take_wide_and_check_cuts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", "sample_data/", "--as-of", "2026-09-01", "-o", old)
    ok("generate", "sample_data/", "--previous", old, "-o", new)
    narrow = ok("diff", old, new).stdout
    wide = ok("diff", old, new, "--wide").stdout
    assert "…" not in wide and max(len(line) for line in wide.splitlines()) > 80
    assert len(wide.splitlines()) < len(narrow.splitlines())  # fewer wrapped lines
    args = ("history", "sample_data/", "--since", "2026-10-01", "--every", "21d")
    table = ok(*args).stdout
    _fits(table)
    assert table.splitlines()[0].split()[4:6] == ["agree≥", "succ.≥"]
    history_wide = ok(*args, "--wide").stdout
    assert "…" not in history_wide
    heads = history_wide.splitlines()[0].split()
    assert heads[4:6] == ["agreement", "success"]
    row = next(line for line in history_wide.splitlines() if " k8s.scale " in line)
    assert re.search(r"\d+/\d+ \[0\.\d{3}, [01]\.\d{3}\]", row), row
    # check prints a line per problem, never a table: never wrapped, never cut
    ok("generate", "sample_data/", "--as-of", "2026-09-01", "-o", tmp_path / "stale.yaml")
    checked = run("check", "sample_data/", "--policy", tmp_path / "stale.yaml")
    assert checked.exit_code == 1
    lines = checked.stdout.splitlines()
    assert all(
        line.split(":")[0] in ("drift", "rules", str(tmp_path / "stale.yaml")) for line in lines
    )
    assert "…" not in checked.stdout


def test_banded_groups_fit_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # A banded label ("k8s.rollback confidence>=0.5,<0.9") is the widest cell: it wraps at
    # its space rather than cutting the dates and numbers beside it.
    monkeypatch.setenv("COLUMNS", "80")
    bands = ("--set", "confidence_bands=[0.5,0.9]")
    table = ok("generate", "sample_data/", *bands, "--format", "table").stdout
    _fits(table)
    history = ok("history", "sample_data/", *bands, "--since", "2026-10-01", "--every", "21d")
    _fits(history.stdout)
    assert re.search(r"^2026-10-\d\d ", history.stdout, re.MULTILINE), history.stdout
    assert "confidence>=0.9" in history.stdout
