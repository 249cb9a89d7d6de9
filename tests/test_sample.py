"""The synthetic decision log: determinism, schema v1 invariants and the scenarios it tells."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustctl import sample_csv
from trustctl.errors import TrustctlError
from trustctl.levels import Level
from trustctl.sample import (
    AGENT_VERSIONS,
    COLUMNS,
    DEFAULT_END,
    SCENARIOS,
    SERVICE_TIERS,
    SPAN_DAYS,
    VERSION_CHANGE_DAYS_AGO,
    generate_sample,
    write_sample,
)

VERDICT_COLUMNS = ["human_decision", "outcome", "severity", "reviewer", "rationale", "incident_id"]
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
JUDGED = {"approved", "rejected", "modified", "overridden"}
HUMAN_BY_MODE = {
    "observe": {"", "approved", "rejected"},
    "suggest": {"approved", "rejected", "modified", "timeout"},
    "auto_notify": {"", "approved", "overridden"},
    "full": {"", "approved", "overridden"},
}
BY_CLASS = {scenario.action_class: scenario for scenario in SCENARIOS}
TIER_TEXT = {service: str(tier) for service, tier in SERVICE_TIERS.items()}


@pytest.fixture(scope="module")
def default_sample() -> pd.DataFrame:
    return generate_sample()


def instants(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)


def one_row_per_decision(frame: pd.DataFrame) -> pd.DataFrame:
    """Merge event rows: each column's single non-empty value, the proposal's instant."""
    grouped = frame.assign(at=instants(frame)).groupby("decision_id", sort=False)
    merged: pd.DataFrame = grouped.agg({**dict.fromkeys(COLUMNS[1:], "max"), "at": "min"})
    return merged


def scheduled_mode(merged: pd.DataFrame, end: dt.datetime) -> npt.NDArray[np.object_]:
    """The mode each decision's scenario prescribes at the decision's instant."""
    expected = np.full(len(merged), "", dtype=object)
    for scenario in SCENARIOS:
        of_class = (merged["action_class"] == scenario.action_class).to_numpy()
        for level, days in scenario.modes:
            since = (merged["at"] >= end - dt.timedelta(days=days)).to_numpy()
            expected[of_class & since] = level.value
    return expected


def assert_schema_v1(frame: pd.DataFrame, decisions: int, end: dt.datetime) -> None:
    assert tuple(frame.columns) == COLUMNS
    assert all(dtype == "str" for dtype in frame.dtypes)
    assert not frame.isna().any().any()
    assert frame["decision_id"].nunique() == decisions
    assert frame["decision_id"].str.fullmatch(r"d-\d{7,}").all()
    assert frame["decision_id"].value_counts().max() <= 2
    assert frame["action_class"].str.fullmatch(r"[A-Za-z0-9._:/-]{1,200}").all()
    assert frame["timestamp"].str.fullmatch(TIMESTAMP).all()
    at = instants(frame)
    assert (at >= end - dt.timedelta(days=SPAN_DAYS)).all()
    assert (at < end).all()
    order = pd.DataFrame({"at": at, "id": frame["decision_id"]})
    assert order.equals(order.sort_values(["at", "id"], kind="stable"))

    assert set(frame["mode"]) <= set(HUMAN_BY_MODE)
    assert set(frame["executed"]) <= {"true", "false"}
    assert set(frame["outcome"]) <= {"", "success", "failure", "unknown"}
    assert set(frame["severity"]) <= {"", "minor", "major", "critical"}
    assert set(frame["agent_version"]) <= set(AGENT_VERSIONS)
    assert frame["ai_confidence"].str.fullmatch(r"[01]\.\d{3}").all()
    assert frame["ai_confidence"].astype(float).between(0, 1).all()
    assert frame["incident_id"].str.fullmatch(r"(INC-\d+)?").all()
    assert (frame["system_tier"] == frame["service"].map(TIER_TEXT)).all()
    assert (frame.loc[frame["executed"] == "false", "outcome"] == "").all()
    assert (frame.loc[frame["outcome"] != "failure", "severity"] == "").all()

    # Two rows of one decision never disagree, and the proposal row carries no verdict.
    others = frame.drop(columns="timestamp").replace("", pd.NA)
    assert others.groupby("decision_id").nunique().max().max() <= 1
    streamed = frame[frame["decision_id"].duplicated(keep=False)]
    proposals = streamed.drop_duplicates("decision_id", keep="first")
    assert (proposals[VERDICT_COLUMNS] == "").all().all()
    moments = instants(streamed).groupby(streamed["decision_id"])
    gaps = (moments.max() - moments.min()).dt.total_seconds()
    assert gaps.between(60, 900).all()

    merged = one_row_per_decision(frame)
    for mode, allowed in HUMAN_BY_MODE.items():
        assert set(merged.loc[merged["mode"] == mode, "human_decision"]) <= allowed, mode
    suggest = merged[merged["mode"] == "suggest"]
    executed = suggest["human_decision"].isin(["approved", "modified"])
    assert (suggest["executed"] == executed.map({True: "true", False: "false"})).all()
    assert (merged.loc[merged["mode"].isin(["auto_notify", "full"]), "executed"] == "true").all()
    assert (merged.loc[merged["mode"] == "observe", "executed"] == "false").all()
    judged = merged["human_decision"].isin(JUDGED)
    assert ((merged["reviewer"] != "") == judged).all()

    assert (merged["mode"].to_numpy() == scheduled_mode(merged, end)).all()
    risk_tiers = {scenario.action_class: scenario.risk_tier for scenario in SCENARIOS}
    assert (merged["risk_tier"] == merged["action_class"].map(risk_tiers)).all()
    new_version = merged["at"] >= end - dt.timedelta(days=VERSION_CHANGE_DAYS_AGO)
    expected_version = new_version.map({False: AGENT_VERSIONS[0], True: AGENT_VERSIONS[1]})
    assert (merged["agent_version"] == expected_version).all()


@settings(max_examples=12, deadline=None)
@given(
    decisions=st.integers(1, 300),
    seed=st.integers(0, 2**32 - 1),
    end=st.datetimes(
        dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(dt.timezone.utc)
    ),
)
def test_any_sample_follows_schema_v1(decisions: int, seed: int, end: dt.datetime) -> None:
    assert_schema_v1(generate_sample(decisions, seed, end), decisions, end)


def test_default_sample_follows_schema_v1(default_sample: pd.DataFrame) -> None:
    assert_schema_v1(default_sample, 6000, DEFAULT_END)


def test_default_sample_exercises_every_column(default_sample: pd.DataFrame) -> None:
    assert 1.12 * 6000 < len(default_sample) < 1.18 * 6000
    assert set(default_sample["mode"]) == {"observe", "suggest", "auto_notify"}
    assert set(default_sample["human_decision"]) == {"", *JUDGED, "timeout"}
    assert set(default_sample["outcome"]) == {"", "success", "failure", "unknown"}
    assert set(default_sample["severity"]) == {"", "minor", "major", "critical"}
    assert set(default_sample["system_tier"]) == {"1", "2", "3", "4"}
    assert set(default_sample["agent_version"]) == set(AGENT_VERSIONS)
    offsets = default_sample["timestamp"].str.endswith("Z").value_counts()[False]
    assert 0.005 * len(default_sample) < offsets < 0.02 * len(default_sample)
    assert default_sample["rationale"].str.contains(",").any()
    assert default_sample["rationale"].str.contains('"').any()
    filled = default_sample.loc[default_sample["risk_tier"] != "", "action_class"]
    assert set(filled) == {"cert.renew"}


def test_offset_timestamps_name_the_same_instant(default_sample: pd.DataFrame) -> None:
    shifted = default_sample[~default_sample["timestamp"].str.endswith("Z")]
    utc = instants(shifted).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = [dt.datetime.fromisoformat(text) for text in shifted["timestamp"]]
    assert local and all(moment.utcoffset() not in (None, dt.timedelta(0)) for moment in local)
    assert list(utc) == [
        moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") for moment in local
    ]


@given(decisions=st.integers(1, 3000))
@settings(max_examples=20, deadline=None)
def test_classes_share_decisions_in_proportion(decisions: int) -> None:
    counts = generate_sample(decisions).groupby("action_class")["decision_id"].nunique()
    assert counts.sum() == decisions
    assert len(counts) == min(decisions, len(SCENARIOS))
    assert counts.max() == 1 or len(counts) == len(SCENARIOS)
    total_share = sum(scenario.share for scenario in SCENARIOS)
    for action_class, count in counts.items():
        fraction = BY_CLASS[str(action_class)].share / total_share
        # One decision is set aside per class, the rest is shared out in proportion.
        slack = 1 + abs(1 - fraction * len(SCENARIOS))
        assert abs(count - fraction * decisions) < slack, action_class


def test_every_scenario_is_present_at_2000_decisions() -> None:
    merged = one_row_per_decision(generate_sample(2000))
    assert set(merged["action_class"]) == set(BY_CLASS)
    assert len(BY_CLASS) == len(SCENARIOS)


@pytest.mark.parametrize("decisions", [2000, 6000])
def test_deploy_rollback_has_exactly_one_recent_critical_failure(decisions: int) -> None:
    merged = one_row_per_decision(generate_sample(decisions))
    recent = merged[merged["at"] >= DEFAULT_END - dt.timedelta(days=10)]
    critical = recent[recent["severity"] == "critical"]
    assert list(critical["action_class"]) == ["deploy.rollback"]
    failure = critical.iloc[0]
    assert (failure["mode"], failure["executed"], failure["outcome"]) == (
        "auto_notify",
        "true",
        "failure",
    )
    assert failure["incident_id"].startswith("INC-")
    assert failure["rationale"] != ""


def test_scenarios_tell_their_stories(default_sample: pd.DataFrame) -> None:
    merged = one_row_per_decision(default_sample)
    recent = merged[merged["at"] >= DEFAULT_END - dt.timedelta(days=VERSION_CHANGE_DAYS_AGO)]
    by_class = {str(name): rows for name, rows in recent.groupby("action_class")}

    def agreement(action_class: str) -> tuple[float, int]:
        human = by_class[action_class]["human_decision"]
        judged = human[human.isin(JUDGED)]
        return float((judged == "approved").mean()), len(judged)

    scale_agreement, scale_reviewed = agreement("k8s.scale")
    assert scale_agreement > 0.97 and scale_reviewed >= 150
    flush_agreement, _ = agreement("cache.flush")
    assert flush_agreement < 0.9
    assert (by_class["dns.update"]["human_decision"] == "timeout").mean() > 0.2
    renewed = by_class["cert.renew"]
    assert renewed["outcome"].isin(["", "unknown"]).mean() > 0.3
    restarts = by_class["k8s.restart_pod"]
    assert (restarts["mode"] == Level.AUTO_NOTIFY.value).all()
    assert (restarts["outcome"] == "success").sum() >= 300
    assert (restarts["outcome"] == "failure").sum() <= 1
    assert merged["action_class"].value_counts()["lb.drain"] < 50
    assert set(merged.loc[merged["action_class"] == "queue.redrive", "system_tier"]) == {"4"}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", decisions=500, seed=3).read_bytes()
    again = write_sample(tmp_path / "b", decisions=500, seed=3).read_bytes()
    other = write_sample(tmp_path / "c", decisions=500, seed=4).read_bytes()
    assert first == again
    assert first != other


def test_write_sample_writes_the_frame_as_csv_and_nothing_else(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "sample_data"
    path = write_sample(directory, decisions=800, seed=11)
    assert path == directory / "decisions.csv"
    assert sorted(directory.iterdir()) == [path]
    frame = generate_sample(800, seed=11)
    text = path.read_text(encoding="utf-8")
    assert '"' in text  # some rationales needed quoting
    assert text == frame.to_csv(index=False)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_write_sample_replaces_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "decisions.csv").write_text("stale\n")
    path = write_sample(tmp_path, decisions=20)
    assert path.read_text().startswith(",".join(COLUMNS) + "\n")
    assert sorted(tmp_path.iterdir()) == [path]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "decisions.csv").write_text("old\n")

    def broken(frame: pd.DataFrame, stream: BinaryIO) -> None:
        stream.write(b"decision_id,")
        raise OSError("disk full")

    monkeypatch.setattr(sample_csv, "_write_csv", broken)
    with pytest.raises(TrustctlError, match=f"{re.escape(str(tmp_path))}/decisions.csv: cannot"):
        write_sample(tmp_path, decisions=20)
    assert [p.name for p in tmp_path.iterdir()] == ["decisions.csv"]
    assert (tmp_path / "decisions.csv").read_text() == "old\n"


def test_writing_into_a_file_names_it(tmp_path: Path) -> None:
    existing = tmp_path / "notes.txt"
    existing.write_text("keep\n")
    with pytest.raises(TrustctlError, match=f"{re.escape(str(existing))}: not a directory"):
        write_sample(existing, decisions=20)
    assert existing.read_text() == "keep\n"
    with pytest.raises(TrustctlError, match="cannot write"):
        write_sample(existing / "below", decisions=20)
    assert sorted(tmp_path.iterdir()) == [existing]


def test_a_directory_in_the_way_of_decisions_csv_is_reported(tmp_path: Path) -> None:
    (tmp_path / "decisions.csv").mkdir()
    with pytest.raises(TrustctlError, match=r"decisions\.csv: not a regular file"):
        write_sample(tmp_path, decisions=20)
    assert [p.name for p in tmp_path.iterdir()] == ["decisions.csv"]


@pytest.mark.parametrize("decisions", [0, -5])
def test_too_few_decisions_are_refused(decisions: int, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        generate_sample(decisions)
    with pytest.raises(ValueError, match="at least 1"):
        write_sample(tmp_path, decisions)
    assert list(tmp_path.iterdir()) == []


def test_naive_end_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_sample(10, end=dt.datetime(2026, 1, 1))
