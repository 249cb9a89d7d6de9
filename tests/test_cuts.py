"""The logs as known at many moments from one read equal the logs read again at each moment."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLE_CSV, START, LogFiles, row

from trustctl import segments
from trustctl.cuts import reads_at
from trustctl.errors import TrustctlError
from trustctl.filters import parse_filter
from trustctl.ingest import load_decisions, load_timeline
from trustctl.inputs import Logs


def _streams(count: int) -> list[dict[str, str]]:
    """Decisions told in one to four rows hours or days apart: a required field, the
    service, the verdict or a critical outcome may come only in a later row."""
    rng = random.Random(11)
    rows = []
    for index in range(count):
        name = f"d-{index:04d}"
        day = rng.uniform(0, 60)
        later = [day + rng.choice([0, 0.01, 0.3, 1.5, 4.0]) for _ in range(3)]
        service = rng.choice(["checkout", "search", "ci-runners"])
        critical = rng.random() < 0.05
        outcome = "failure" if critical else rng.choice(["success", "success", "unknown"])
        executed = rng.choice(["true", "true", "false"])
        first = row(
            name,
            day,
            action_class=rng.choice(["k8s.restart_pod", "k8s.scale"]),
            mode=rng.choice(["suggest", "auto_notify"]),
            human_decision="",
            executed="" if rng.random() < 0.3 else executed,
            outcome="",
            service="" if rng.random() < 0.4 else service,
            reviewer="",
        )
        verdict = row(
            name,
            later[0],
            action_class="",
            mode="",
            human_decision=rng.choice(["approved", "approved", "rejected", "timeout"]),
            executed=executed,
            outcome="",
            service=service,
        )
        result = row(
            name,
            later[0] + later[1] - day,
            action_class="",
            mode="",
            human_decision="",
            executed="",
            outcome=outcome if executed == "true" else "",
            severity="critical" if critical and executed == "true" else "",
            service="",
            reviewer="",
        )
        rows.append(first)
        if rng.random() < 0.7:
            rows.append(verdict)
            if rng.random() < 0.6:
                rows.append(result)
        elif first["executed"] == "":
            first["executed"] = executed
    rng.shuffle(rows)
    return rows


def _moments(first: float, last: float, hours: float) -> list[dt.datetime]:
    moment, found = START + dt.timedelta(days=first), []
    while moment <= START + dt.timedelta(days=last):
        found.append(moment)
        moment += dt.timedelta(hours=hours)
    return found


def _reread(path: Path, moment: dt.datetime, where: tuple[object, ...]) -> segments.Segments:
    try:
        return Logs([path], where=where).read(moment).segments  # type: ignore[arg-type]
    except TrustctlError:  # no decision met the filters yet
        return segments.empty()


@pytest.mark.parametrize(
    "where", [(), ("service!=ci-runners",), ("service=",), ("human_decision=approved",)]
)
def test_each_moment_equals_the_logs_read_again_then(logs: LogFiles, where: tuple[str]) -> None:
    path = logs.csv(_streams(300))
    filters = tuple(parse_filter(text) for text in where)
    decisions = load_timeline([path])
    moments = _moments(-1, 66, 13)
    arriving = 0
    for moment, read in zip(moments, reads_at(decisions, moments, filters), strict=True):
        again = _reread(path, moment, filters)
        pd.testing.assert_frame_equal(read.segments.to_frame(), again.to_frame())
        assert decisions.arriving is not None
        arriving += len(decisions.arriving.at(moment))
    assert arriving > 100  # most moments had decisions still arriving


def test_the_sample_at_weekly_moments(tmp_path: Path) -> None:
    decisions = load_timeline([SAMPLE_CSV])
    latest = pd.Timestamp(decisions.frame["recorded_at"].max()).to_pydatetime()
    moments = [latest - dt.timedelta(days=7 * k, hours=k) for k in range(12, -1, -1)]
    for moment, read in zip(moments, reads_at(decisions, moments), strict=True):
        again = Logs([SAMPLE_CSV]).read(moment)
        pd.testing.assert_frame_equal(read.segments.to_frame(), again.segments.to_frame())


def test_without_the_rows_of_arriving_decisions_it_is_refused() -> None:
    with pytest.raises(ValueError, match="load_timeline"):
        next(reads_at(load_decisions([SAMPLE_CSV]), [START]))
