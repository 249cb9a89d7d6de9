"""Logs that follow an earlier one (sample --start/--days/--id-prefix), and a log read twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from scipy import integrate

from tests.clirun import failure, ok, run
from trustctl.sample import SPAN_DAYS
from trustctl.sample_window import generate_window, share_of_last_days

START = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)


def test_share_of_last_days_matches_the_density_integrated() -> None:
    # Decisions are at p = sqrt(1 + 3u) - 1: density (2/3)(1 + p) on [0, 1].
    for days in (1, 7, 30, 90, SPAN_DAYS):
        expected, _ = integrate.quad(lambda p: 2 / 3 * (1 + p), 1 - days / SPAN_DAYS, 1)
        assert share_of_last_days(days) == pytest.approx(expected, rel=1e-12)


def test_a_window_has_new_ids_later_dates_and_about_the_decisions_asked() -> None:
    frame = generate_window(300, 48, START, 7, "w48-")
    at = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    assert at.min() >= pd.Timestamp(START)
    assert at.max() < pd.Timestamp(START + dt.timedelta(days=7))
    ids = frame["decision_id"].drop_duplicates()
    assert ids.str.fullmatch(r"w48-\d{7}").all()
    assert list(ids) == [f"w48-{n:07d}" for n in range(1, len(ids) + 1)]
    assert 240 <= len(ids) <= 360
    assert frame.equals(generate_window(300, 48, START, 7, "w48-"))


def test_the_default_rate_is_the_default_samples_end(tmp_path: Path) -> None:
    frame = generate_window(None, 7, START, 7, "w48-")
    expected = 6000 * share_of_last_days(7)
    assert abs(frame["decision_id"].nunique() - expected) < 4 * expected**0.5


def test_weeks_that_follow_the_shipped_sample_read_together(tmp_path: Path) -> None:
    ok("sample", "-o", tmp_path / "w48", "--start", "2026-11-20", "--id-prefix", "w48-")
    result = ok(
        "sample", "-o", tmp_path / "w49", "--start", "2026-11-27", "--days", "7",
        "--id-prefix", "w49-", "--decisions", "200", "--seed", "49",
    )  # fmt: skip
    assert result.stdout.startswith("wrote ")
    ok("validate", "sample_data/", tmp_path / "w48", tmp_path / "w49")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days: between 1 and 180, got 0"),
        (["--id-prefix", "w 48"], "--id-prefix: letters, digits and . _ : - only"),
        (["--start", "2026-13-01"], "--start:"),
    ],
)
def test_bad_window_options_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    assert message in failure(run("sample", "-o", tmp_path, *args))
    assert not (tmp_path / "decisions.csv").exists()


def test_a_log_read_twice_is_named_once_before_its_conflicts(tmp_path: Path) -> None:
    ok("sample", "-o", tmp_path / "w47", "--decisions", "200", "--seed", "1")
    ok("sample", "-o", tmp_path / "w48", "--decisions", "200", "--seed", "2")
    lines = failure(run("generate", tmp_path / "w47", tmp_path / "w48")).splitlines()
    assert lines[0] == (
        f"error: 200 of 200 decision ids in {tmp_path / 'w48' / 'decisions.csv'} also appear "
        f"in {tmp_path / 'w47' / 'decisions.csv'} — the same log twice?"
    )
    assert "conflicts with" in lines[1]
    assert sum("same log twice" in line for line in lines) == 1


def test_a_few_shared_ids_are_only_conflicts(tmp_path: Path) -> None:
    ok("sample", "-o", tmp_path / "w47", "--decisions", "200", "--seed", "1")
    ok("sample", "-o", tmp_path / "w48", "--days", "180", "--decisions", "200", "--seed", "2",
       "--id-prefix", "d-")  # fmt: skip
    frame = pd.read_csv(tmp_path / "w48" / "decisions.csv", dtype=str, keep_default_na=False)
    renamed = frame["decision_id"].str.replace("d-", "x-")
    frame["decision_id"] = renamed.where(frame.index > 40, frame["decision_id"])
    frame.to_csv(tmp_path / "w48" / "decisions.csv", index=False)
    stderr = failure(run("generate", tmp_path / "w47", tmp_path / "w48"))
    assert "same log twice" not in stderr
    assert "conflicts with" in stderr
