"""Calibration of ai_confidence against independently computed values."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from clirun import ok
from conftest import SAMPLE_CSV

from trustctl import bounds
from trustctl.calibration import CUTS, calibrate
from trustctl.evaluate import evaluate
from trustctl.explain import explain
from trustctl.ingest import load_decisions
from trustctl.rules import load_rules
from trustctl.schema import HUMAN_CODES

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "calibration_reference.json").read_text()
)
_JUDGED = [HUMAN_CODES[h] for h in ("approved", "rejected", "modified", "overridden")]


def _lower(k: int, n: int) -> float:
    return bounds.lower_bound(k, n, 0.95, "clopper-pearson", (1.0, 1.0))


@pytest.fixture(scope="module")
def frame():  # type: ignore[no-untyped-def]
    return load_decisions([SAMPLE_CSV]).frame


@pytest.mark.parametrize("action_class", sorted(REFERENCE))
def test_calibration_matches_the_reference(frame, action_class: str) -> None:  # type: ignore[no-untyped-def]
    rows = frame[(frame["action_class"] == action_class) & frame["human_decision"].isin(_JUDGED)]
    found = calibrate(
        rows["ai_confidence"].to_numpy(),
        (rows["human_decision"] == HUMAN_CODES["approved"]).to_numpy(),
        _lower,
    )
    expected = REFERENCE[action_class]
    assert found is not None
    assert found.decisions == expected["decisions"]
    assert found.brier == pytest.approx(expected["brier"], abs=1e-12)
    assert found.ece == pytest.approx(expected["ece"], abs=1e-12)
    for got, want in zip(found.bins, expected["bins"], strict=True):
        assert got.count == want["count"]
        assert got.mean_confidence == pytest.approx(want["mean_confidence"], abs=1e-12)
        assert got.approval_rate == pytest.approx(want["approval_rate"], abs=1e-12)
    for got_cut, want_cut in zip(found.cuts, expected["cuts"], strict=True):
        assert (got_cut.cut, got_cut.reviewed, got_cut.approved) == (
            want_cut["cut"],
            want_cut["reviewed"],
            want_cut["approved"],
        )
        assert got_cut.lower == pytest.approx(want_cut["lower"], abs=1e-9)


def test_edges_and_cuts_are_the_decimals() -> None:
    # 0.3 sits in the bin [0.3, 0.4) and passes the cut 0.55 only from 0.55 on.
    found = calibrate(np.array([0.3, 0.55, 0.5499, 1.0]), np.array([1, 1, 0, 1], bool), _lower)
    assert found is not None
    assert [b.count for b in found.bins] == [0, 0, 0, 1, 0, 2, 0, 0, 0, 1]
    assert [c.reviewed for c in found.cuts][:2] == [3, 2]
    assert CUTS[0] == 0.5 and CUTS[-1] == 0.95 and len(CUTS) == 10


def test_no_confidence_means_no_calibration() -> None:
    assert calibrate(np.array([np.nan]), np.array([True]), _lower) is None


def test_explain_shows_each_class_calibration_as_the_reference_computes_it() -> None:
    rules = load_rules(None)
    evaluation = evaluate([SAMPLE_CSV], rules)
    for action_class, expected in REFERENCE.items():
        [item] = explain(evaluation, action_class, rules.rules.window_span)
        found = item.calibration
        assert found is not None
        assert found.decisions == expected["decisions"]  # the sample lies within the window
        assert found.brier == pytest.approx(expected["brier"], abs=1e-12)
        assert found.ece == pytest.approx(expected["ece"], abs=1e-12)
        for got, want in zip(found.cuts, expected["cuts"], strict=True):
            assert (got.reviewed, got.approved) == (want["reviewed"], want["approved"])
            assert got.lower == pytest.approx(want["lower"], abs=1e-9)


def test_explain_prints_the_calibration_table() -> None:
    out = ok("explain", "k8s.scale", SAMPLE_CSV).stdout
    assert "calibration of ai_confidence: 866 judged decisions" in out
    assert "≥ 0.90" in out


def test_explain_json_has_the_calibration_the_reference_computes() -> None:
    """The JSON carries what text and markdown show: figures to 6 places, bounds rounded down."""
    found = json.loads(ok("explain", "k8s.scale", SAMPLE_CSV, "--format", "json").stdout)
    got = found["groups"][0]["calibration"]
    want = REFERENCE["k8s.scale"]
    assert got["decisions"] == want["decisions"] == 866
    assert got["brier"] == pytest.approx(want["brier"], abs=5e-7)
    assert got["ece"] == pytest.approx(want["ece"], abs=5e-7)
    assert [b["count"] for b in got["bins"]] == [b["count"] for b in want["bins"]]
    assert [(b["low"], b["high"]) for b in got["bins"]][-1] == (0.9, 1.0)
    for cut, expected in zip(got["cuts"], want["cuts"], strict=True):
        assert (cut["cut"], cut["reviewed"], cut["approved"]) == (
            expected["cut"],
            expected["reviewed"],
            expected["approved"],
        )
        assert expected["lower"] - 1e-6 <= cut["lower"] <= expected["lower"]


def test_explain_json_calibration_is_null_without_confidence(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with log.open("w", encoding="utf-8", newline="") as out:
        names = [name for name in rows[0] if name != "ai_confidence"]
        writer = csv.DictWriter(out, names, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    found = json.loads(ok("explain", "k8s.scale", log, "--format", "json").stdout)
    assert found["groups"][0]["calibration"] is None
