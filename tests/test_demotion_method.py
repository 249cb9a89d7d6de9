"""``bounds.demotion_method``: the demotion checks' upper bounds by their own method, so a
weekly job can promote on anytime-valid bounds and still demote at one-look speed.

Clopper-Pearson bounds are computed here with ``scipy.stats.beta``; the anytime bound is
checked against independent quadrature in ``test_anytime.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from logbuilder import LogBuilder, day, previous_policy, run, verdict
from scipy.stats import beta

from trustctl import bounds
from trustctl.errors import RulesError
from trustctl.oc import operating_characteristics
from trustctl.oc_report import table
from trustctl.rules import parse_rules

POD = "k8s.restart_pod"
ANYTIME = {"bounds": {"method": "anytime"}}
SPLIT = {"bounds": {"method": "anytime", "demotion_method": "clopper-pearson"}}


def test_a_record_the_one_look_bound_demotes_and_the_anytime_one_does_not(
    tmp_path: Path,
) -> None:
    # 40 of 50 reviewed approved at auto_notify: Clopper-Pearson's upper bound is below the
    # 0.90 demotion threshold, the anytime one above it.
    assert beta.ppf(0.95, 41, 10) < 0.9 <= bounds.upper_bound(40, 50, 0.95, "anytime", (1, 1))
    log = LogBuilder().reviewed(2, POD, 40, 10, mode="auto_notify")
    previous = previous_policy(
        tmp_path, [{"action_class": POD, "level": "auto_notify", "since": day(1)}], as_of=day(1)
    )
    held = verdict(run(tmp_path, log, rule_data=ANYTIME, previous=previous, as_of=day(5)), POD)
    assert held.level.value == "auto_notify"
    split = run(tmp_path, log, rule_data=SPLIT, previous=previous, as_of=day(5))
    demoted = verdict(split, POD)
    assert (demoted.level.value, demoted.change) == ("suggest", "demoted")
    assert demoted.demotion_agreement.upper == pytest.approx(beta.ppf(0.95, 41, 10), abs=1e-12)
    # Promotion still uses the anytime bound.
    assert demoted.agreement.lower == bounds.lower_bound(40, 50, 0.95, "anytime", (1, 1))
    assert split.policy["metadata"]["bounds"]["demotion_method"] == "clopper-pearson"


def test_without_it_the_policy_metadata_is_unchanged(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(2, POD, 40)
    assert "demotion_method" not in run(tmp_path, log, as_of=day(5)).policy["metadata"]["bounds"]


def test_oc_demotes_as_fast_as_one_look_bounds_with_it() -> None:
    def drift(data: dict[str, object]) -> object:
        report = operating_characteristics(
            parse_rules(data, "<test>"), volumes=(25,), weeks=8, gates=("demote",), runs=2000
        )
        return report.drifts, report.steady

    assert drift(SPLIT) == drift({})
    assert drift(SPLIT) != drift(ANYTIME)
    report = operating_characteristics(
        parse_rules(SPLIT, "<test>"), volumes=(25,), weeks=2, gates=("auto_notify",)
    )
    assert "Bounds: anytime (demotion: clopper-pearson) at 95%." in table(report)


def test_an_unknown_demotion_method_is_refused() -> None:
    with pytest.raises(RulesError, match=r"bounds\.demotion_method"):
        parse_rules({"bounds": {"demotion_method": "wald"}}, "r.yaml")
