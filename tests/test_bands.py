"""``confidence_bands``: each group split by the AI's own confidence, on every evidence path.

The expected counts are counted here from the log's rows with Python's ``float`` and ``>=``,
not by trustctl; every path (logs counted from compact columns, decisions read whole,
``--low-memory``, evidence files, the DuckDB query) must give the same policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from clirun import failure, ok, run
from logbuilder import LogBuilder

from trustctl.bands import Bands
from trustctl.errors import RulesError
from trustctl.overrides import effective_sha256
from trustctl.rules import TrustRules, parse_rules

BANDS = ("--set", "confidence_bands=[0.9]")
JUST_BELOW = "0.8999999999999999"  # the double just below 0.9


# --- the bands themselves --------------------------------------------------------------------


def test_a_cut_belongs_to_the_band_above_it() -> None:
    bands = Bands((0.9,))
    values = np.array([0.0, float(JUST_BELOW), 0.9, np.nextafter(0.9, 1), 1.0, np.nan])
    assert bands.names(values).tolist() == ["<0.9", "<0.9", ">=0.9", ">=0.9", ">=0.9", "none"]
    assert float(JUST_BELOW) < 0.9 and np.nextafter(0.9, 0) == float(JUST_BELOW)


def test_several_cuts_name_each_interval_in_text_order() -> None:
    bands = Bands((0.05, 0.5, 0.55))
    assert bands.labels == ("<0.05", ">=0.05,<0.5", ">=0.5,<0.55", ">=0.55", "none")
    assert list(bands.labels) == sorted(bands.labels)  # codes sort as the names do
    values = np.array([0.04, 0.05, 0.5, 0.549, 0.55, np.nan])
    assert bands.codes(values).tolist() == [0, 1, 2, 2, 3, 4]
    assert Bands().labels == ("",) and not Bands()


# --- the rules key ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([0.9, 0.5], "confidence_bands.1: 0.5 must be above 0.9 (cuts are strictly increasing)"),
        ([0.5, 0.5], "confidence_bands.1: 0.5 must be above 0.5"),
        ([1.0], "confidence_bands.0: must be < 1"),
        ([0.5, 0], "confidence_bands.1: must be > 0"),
        (0.9, "confidence_bands: Input should be a valid tuple"),
        (["high"], "confidence_bands.0: Input should be a valid number"),
    ],
)
def test_bad_cuts_are_refused_with_the_key(value: Any, message: str) -> None:
    with pytest.raises(RulesError) as raised:
        parse_rules({"confidence_bands": value}, "r.yaml")
    assert message in str(raised.value)


def test_a_mistyped_key_gets_the_closest(tmp_path: Path) -> None:
    rules = tmp_path / "r.yaml"
    rules.write_text("confidence_band: [0.9]\n", encoding="utf-8")
    message = failure(run("validate", "--rules", rules))
    assert "confidence_band: Extra inputs are not permitted; did you mean 'confidence_bands'?" in (
        message
    )
    message = failure(run("generate", "sample_data/", "--set", "confidence_band=[0.9]"))
    assert "did you mean 'confidence_bands'?" in message


def test_rules_without_bands_keep_their_hash() -> None:
    # The built-in rules' canonical JSON before confidence_bands existed.
    before = "b0f0f6ee61ec3e3923196fe458d1e8312cfd770fc38bb57155cf6b749819f4cc"
    assert effective_sha256(TrustRules()) == before
    assert effective_sha256(parse_rules({"confidence_bands": []}, "r")) == before
    assert effective_sha256(parse_rules({"confidence_bands": [0.9]}, "r")) != before


# --- a log with every boundary ---------------------------------------------------------------


def _banded_log() -> LogBuilder:
    """k8s.scale at 0.9 exactly (earns auto_notify), just below 0.9 (does not), and without a
    confidence; an event stream whose confidence comes in a later row; reviews at
    auto_notify with review_sampled."""
    log = LogBuilder()
    log.clean(1, "k8s.scale", 70)
    log.reviewed(2, "k8s.scale", 60, 6)
    log.reviewed(3, "k8s.scale", 4, 1)
    log.clean(4, "k8s.scale", 1)
    confidences = ["0.9"] * 70 + [JUST_BELOW] * 66 + [""] * 5 + ["0.95"]
    for row, confidence in zip(log.rows, confidences, strict=True):
        row["ai_confidence"] = confidence
    # The same decision's outcome row, recorded later, without a confidence.
    last = dict(log.rows[-1], human_decision="", timestamp="2026-01-05T12:00:00Z")
    log.rows[-1]["outcome"] = ""
    log.rows.append(last)
    start = len(log.rows)
    log.reviewed(5, "cache.flush", 40, 5, mode="auto_notify", review_sampled="true")
    log.reviewed(5.5, "cache.flush", 10, 10, mode="auto_notify", review_sampled="false")
    log.reviewed(6, "cache.flush", 3, 3, mode="auto_notify")
    for index, row in enumerate(log.rows[start:]):
        row["ai_confidence"] = ("0.2", "0.91", "")[index % 3]
    return log


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _banded_log().write(tmp_path_factory.mktemp("bands") / "decisions.csv", shuffle=3)


def _policy(*args: str | Path) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(ok("generate", *args).stdout)
    return found


def _by_group(policy: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(a["action_class"], a["confidence"]): a for a in policy["actions"]}


def test_each_band_earns_its_own_level_on_counts_made_by_hand(log_csv: Path) -> None:
    policy = _policy(log_csv, *BANDS)
    assert policy["metadata"]["group_by"] == ["action_class", "confidence"]
    found = _by_group(policy)
    # Counted from the rows: a decision's confidence is the one its rows give.
    rows = _banded_log().rows
    given = {r["decision_id"]: r["ai_confidence"] for r in rows if r["ai_confidence"]}
    by_band: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row["human_decision"] in ("approved", "rejected") and row["action_class"] == "k8s.scale":
            text = given.get(row["decision_id"], "")
            band = "none" if not text else (">=0.9" if float(text) >= 0.9 else "<0.9")
            by_band.setdefault(("k8s.scale", band), []).append(row["human_decision"])
    assert sorted(by_band) == [("k8s.scale", "<0.9"), ("k8s.scale", ">=0.9"), ("k8s.scale", "none")]
    for key, verdicts in by_band.items():
        agreement = found[key]["evidence"]["agreement"]
        assert (agreement["agreed"], agreement["reviewed"]) == (
            verdicts.count("approved"),
            len(verdicts),
        ), key
    assert found[("k8s.scale", ">=0.9")]["evidence"]["agreement"]["reviewed"] == 71
    assert found[("k8s.scale", ">=0.9")]["level"] == "auto_notify"
    assert found[("k8s.scale", "<0.9")]["level"] == "suggest"
    assert found[("k8s.scale", "none")]["evidence"]["agreement"]["reviewed"] == 5


def test_review_sampled_counts_within_each_band(log_csv: Path) -> None:
    found = _by_group(_policy(log_csv, *BANDS))
    rows = [r for r in _banded_log().rows if r["action_class"] == "cache.flush"]
    for band, confidence in (("<0.9", "0.2"), (">=0.9", "0.91"), ("none", "")):
        mine = [r for r in rows if r["ai_confidence"] == confidence]
        sampled = [r for r in mine if r["review_sampled"] != "false"]
        agreement = found[("cache.flush", band)]["evidence"]["agreement"]
        assert agreement["reviewed"] == len(sampled)
        assert agreement["agreed"] == sum(r["human_decision"] == "approved" for r in sampled)
        assert agreement["not_sampled"] == len(mine) - len(sampled)


def test_without_bands_nothing_is_split(log_csv: Path) -> None:
    policy = _policy(log_csv)
    assert policy["metadata"]["group_by"] == ["action_class"]
    assert all("confidence" not in a for a in policy["actions"])


def _actions(policy: dict[str, Any]) -> list[Any]:
    return list(policy["actions"])


def test_every_path_gives_the_same_banded_policy(log_csv: Path, tmp_path: Path) -> None:
    counted = _policy(log_csv, *BANDS)
    merged = _policy(log_csv, *BANDS, "--where", "service!=none-such")  # decisions read whole
    low = _policy(log_csv, *BANDS, "--low-memory")
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", log_csv, "-o", evidence, *BANDS)
    from_evidence = _policy("--evidence", evidence, *BANDS)
    assert _actions(merged) == _actions(counted)
    assert _actions(low) == _actions(counted)
    assert _actions(from_evidence) == _actions(counted)
    assert pq.read_schema(evidence).names[5] == "confidence"


def test_banded_evidence_read_without_bands_adds_up(log_csv: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", log_csv, "-o", evidence, *BANDS)
    assert _actions(_policy("--evidence", evidence)) == _actions(_policy(log_csv))


def test_evidence_without_bands_is_refused_when_the_rules_have_them(
    log_csv: Path, tmp_path: Path
) -> None:
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", log_csv, "-o", evidence)
    message = failure(run("generate", "--evidence", evidence, *BANDS))
    assert message.startswith(f"error: {evidence}: has no 'confidence' column")
    assert "confidence_bands [0.9] (<0.9, >=0.9, none)" in message


def test_evidence_made_with_other_cuts_is_refused(log_csv: Path, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.parquet"
    ok("aggregate", log_csv, "-o", evidence, "--set", "confidence_bands=[0.5]")
    message = failure(run("generate", "--evidence", evidence, *BANDS))
    assert f"{evidence}: its confidence bands (<0.5, >=0.5) are not the rules'" in message
    assert "made with other cuts" in message


# --- generate, check, diff, explain end to end -----------------------------------------------


def test_generate_check_diff_and_explain_with_bands(log_csv: Path, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("confidence_bands: [0.9]\n", encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    ok("generate", log_csv, "--rules", rules, "-o", policy)
    checked = ok("check", log_csv, "--rules", rules, "--policy", policy).stdout
    assert "up to date (6 groups;" in checked
    assert ok("verify", "--policy", policy, log_csv, "--rules", rules).exit_code == 0
    table = ok("generate", log_csv, "--rules", rules, "--format", "table", "--wide").stdout
    assert "k8s.scale confidence>=0.9" in table and "k8s.scale confidence=none" in table
    markdown = ok("generate", log_csv, "--rules", rules, "--format", "markdown").stdout
    assert "k8s.scale confidence<0.9" in markdown
    rows = ok("generate", log_csv, "--rules", rules, "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("group,action_class,confidence,")
    assert any(r.startswith("k8s.scale confidence>=0.9,k8s.scale,>=0.9,auto_notify,") for r in rows)
    as_json = json.loads(ok("generate", log_csv, "--rules", rules, "--format", "json").stdout)
    assert {a["confidence"] for a in as_json["actions"]} == {"<0.9", ">=0.9", "none"}
    # Against the policy without bands: each band is a group added, the class removed.
    plain = tmp_path / "plain.yaml"
    ok("generate", log_csv, "-o", plain)
    diff = json.loads(ok("diff", plain, policy, "--format", "json").stdout)
    changes = {(c["label"], c["kind"]) for c in diff["levels"]}
    assert ("k8s.scale confidence>=0.9", "added") in changes
    assert ("k8s.scale", "removed") in changes
    assert "group_by" in ok("diff", plain, policy).stdout
    # explain: every band of the class, or the one --confidence names.
    every = json.loads(
        ok("explain", "k8s.scale", log_csv, "--rules", rules, "--format", "json").stdout
    )
    assert [g["group"] for g in every["groups"]] == [
        "k8s.scale confidence<0.9",
        "k8s.scale confidence>=0.9",
        "k8s.scale confidence=none",
    ]
    one = json.loads(
        ok(
            "explain", "k8s.scale", log_csv, "--rules", rules, "--confidence", ">=0.9",
            "--format", "json",
        ).stdout
    )  # fmt: skip
    [group] = one["groups"]
    assert group["action"]["confidence"] == ">=0.9"
    assert group["action"]["level"] == "auto_notify"
    assert group["calibration"]["decisions"] == 71  # only the band's own decisions
    text = ok("explain", "k8s.scale", log_csv, "--rules", rules, "--confidence", "none").stdout
    assert "k8s.scale confidence=none" in text and "confidence>=0.9" not in text
    message = failure(
        run("explain", "k8s.scale", log_csv, "--rules", rules, "--confidence", ">=0.8")
    )
    assert "--confidence '>=0.8': no such band of k8s.scale" in message
    assert "'<0.9', '>=0.9', 'none'" in message


def test_history_whatif_and_review_run_with_bands(log_csv: Path, tmp_path: Path) -> None:
    out = ok("history", log_csv, *BANDS, "--every", "2d", "--format", "json").stdout
    groups = {s["group"] for step in json.loads(out)["steps"] for s in step["groups"]}
    assert "k8s.scale confidence>=0.9" in groups
    scenario = ("--scenario", "p90: promote.auto_notify.agreement.threshold=0.91")
    grid = ok("whatif", log_csv, *BANDS, *scenario).stdout
    assert "k8s.scale confidence>=0.9" in grid
    replay = ok("whatif", log_csv, *BANDS, *scenario, "--replay", "--every", "2d").stdout
    assert "k8s.scale confidence>=0.9" in replay
    # A scenario's groups must be the baseline's, to stand beside them.
    other = ("--scenario", "b: confidence_bands=[0.8]")
    for extra in ((), ("--replay",)):
        message = failure(run("whatif", log_csv, *BANDS, *other, *extra))
        assert "--scenario b: its groups are not the baseline's" in message
    rules = tmp_path / "rules.yaml"
    rules.write_text("confidence_bands: [0.9]\n", encoding="utf-8")
    ok("review", log_csv, "--rules", rules, "-o", tmp_path / "review.html")
    assert "k8s.scale confidence&gt;=0.9" in (tmp_path / "review.html").read_text()
