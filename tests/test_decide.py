"""Promotion, demotion, hysteresis, cooldown, caps, pins, the next block and idempotency.

Every bound a test relies on is computed here with ``scipy.stats.beta`` (one-sided 95%
Clopper-Pearson: lower = ``beta.ppf(0.05, k, n - k + 1)``, upper = ``beta.ppf(0.95, k + 1,
n - k)``), never with trustctl's own functions.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import pytest
from logbuilder import LogBuilder, day, entry, iso, previous_policy, run, save, verdict
from scipy.stats import beta

from trustctl.errors import PolicyError
from trustctl.evaluate import Evaluation
from trustctl.reasons import check_text, needs_text, reason_text
from trustctl.verdict import Bound

POD = "k8s.restart_pod"  # risk tier 1 by the default patterns: no cap below full


def lower(k: int, n: int) -> float:
    return 0.0 if k == 0 else float(beta.ppf(0.05, k, n - k + 1))


def upper(k: int, n: int) -> float:
    return 1.0 if k == n else float(beta.ppf(0.95, k + 1, n - k))


def level(evaluation: Evaluation, action_class: str = POD) -> str:
    return verdict(evaluation, action_class).level.value


# --- promotion to auto_notify -------------------------------------------------------------------


def test_one_failure_needs_93_decisions(tmp_path: Path) -> None:
    assert lower(92, 93) >= 0.95 > lower(91, 92)
    assert level(run(tmp_path, LogBuilder().reviewed(1, POD, 92, 1), as_of=day(10))) == (
        "auto_notify"
    )
    assert level(run(tmp_path, LogBuilder().reviewed(1, POD, 91, 1), as_of=day(10))) == "suggest"


def test_no_evidence_is_insufficient_data_never_a_pass(tmp_path: Path) -> None:
    log = LogBuilder().add(1, POD, 80, executed=False)  # proposals nobody judged
    v = verdict(run(tmp_path, log, as_of=day(10)), POD)
    assert (v.level.value, v.limited_by) == ("suggest", "insufficient_data")
    assert v.agreement.rate is None
    assert (v.agreement.lower, v.agreement.upper) == (0.0, 1.0)


def test_reason_names_the_numbers_of_the_issue_example(tmp_path: Path) -> None:
    # The issue's example sentence says 63 of 64 gives a lower bound of 0.951; the exact
    # Clopper-Pearson bound is 0.928, so 63 of 64 must NOT promote.
    assert f"{lower(63, 64):.3f}" == "0.928"
    v = verdict(run(tmp_path, LogBuilder().reviewed(1, POD, 63, 1), as_of=day(10)), POD)
    assert v.level.value == "suggest"
    assert "63 of 64 reviewed approved (98.4%); 95% lower bound 0.928 < 0.95" in reason_text(
        v.reason
    )
    # 64 of 64 passes, and the promotion reason names rate, bound, threshold and count
    promoted = verdict(run(tmp_path, LogBuilder().reviewed(1, POD, 64), as_of=day(10)), POD)
    assert reason_text(promoted.reason) == (
        "promoted suggest → auto_notify: 64 of 64 reviewed approved (100.0%); "
        f"95% lower bound {math.floor(lower(64, 64) * 1000) / 1000:.3f} ≥ 0.95; "
        "64 reviewed ≥ 50 needed"
    )


def test_printed_bound_never_contradicts_the_comparison(tmp_path: Path) -> None:
    # 58 of 58: lower bound 0.94966, which three decimals would show as 0.950 < 0.95
    assert f"{lower(58, 58):.3f}" == "0.950"
    v = verdict(run(tmp_path, LogBuilder().reviewed(1, POD, 58), as_of=day(10)), POD)
    shown = re.search(r"lower bound (\d\.\d+) < 0\.95", reason_text(v.reason))
    assert shown is not None, reason_text(v.reason)
    assert float(shown.group(1)) < 0.95
    # rounded down, never up: the text never claims more than the exact bound
    assert 0 <= lower(58, 58) - float(shown.group(1)) < 1e-3


def test_beta_method_uses_the_posterior_quantile(tmp_path: Path) -> None:
    rules = {"bounds": {"method": "beta", "prior": [1, 1]}}
    # Beta(1 + k, 1 + n - k) 5% quantile: 58/58 → Beta(59, 1) passes, 57/57 fails
    assert beta.ppf(0.05, 59, 1) >= 0.95 > beta.ppf(0.05, 58, 1)
    ok = run(tmp_path, LogBuilder().reviewed(1, POD, 58), rule_data=rules, as_of=day(10))
    no = run(tmp_path, LogBuilder().reviewed(1, POD, 57), rule_data=rules, as_of=day(10))
    assert (level(ok), level(no)) == ("auto_notify", "suggest")
    assert entry(ok, POD)["evidence"]["agreement"]["lower"] == round(beta.ppf(0.05, 59, 1), 6)


def test_posterior_probability_is_reported(tmp_path: Path) -> None:
    e = entry(run(tmp_path, LogBuilder().reviewed(1, POD, 48, 2), as_of=day(10)), POD)
    agreement = e["evidence"]["agreement"]
    assert agreement["threshold"] == 0.95
    assert agreement["p_at_least_threshold"] == round(float(beta.sf(0.95, 49, 3)), 6)
    assert agreement["mean"] == round(49 / 52, 6)


# --- promotion to full ----------------------------------------------------------------------


def _to_full(clean: int, unverified: int, **kwargs: Any) -> LogBuilder:
    log = LogBuilder().clean(1, POD, clean, mode="auto_notify", spacing=10)
    return log.add(
        2, POD, unverified, mode="auto_notify", human="approved", executed=True, **kwargs
    )


#: Today's gates for full, with unverified outcomes excluded from the success rate.
EXCLUDE = {
    "promote": {
        "full": {
            "agreement": {"min_decisions": 50, "threshold": 0.95},
            "success": {
                "min_decisions": 200,
                "threshold": 0.99,
                "max_unverified": 0.05,
                "unverified": "exclude",
            },
        }
    }
}


def test_unverified_outcomes_count_as_failures_by_default(tmp_path: Path) -> None:
    # The worked example: 299 verified successes and 15 executions nobody verified.
    # Excluded, the rate is 299 of 299 and the share 15/314 = 4.8% ≤ 5%: full. Counted as
    # the failures they may be, it is 299 of 314 (95.2%): lower bound 0.927 < 0.99.
    assert lower(299, 299) >= 0.99 > lower(299, 314)
    excluded = verdict(run(tmp_path, _to_full(299, 15), rule_data=EXCLUDE, as_of=day(10)), POD)
    assert excluded.level.value == "full"
    assert "299 of 299 verified succeeded (100.0%, unverified excluded)" in (
        reason_text(excluded.reason)
    )
    counted = verdict(run(tmp_path, _to_full(299, 15), as_of=day(10)), POD)
    assert (counted.level.value, counted.change) == ("auto_notify", "unchanged")
    bound = [c.finding for c in counted.checks if c.rule == "promote.full.success.threshold"]
    assert isinstance(bound[0], Bound)
    assert (bound[0].k, bound[0].n, bound[0].unverified) == (299, 314, "count_as_failure")
    assert (
        f"299 of 314 executed succeeded (95.2%, unverified counted as failures); 95% lower "
        f"bound {math.floor(lower(299, 314) * 1000) / 1000:.3f} < 0.99"
    ) in reason_text(counted.reason)
    # Clean executions needed: the bound of (299 + m) of (314 + m) must reach 0.99.
    m = counted.next.clean_decisions_needed
    assert m is not None and lower(299 + m, 314 + m) >= 0.99 > lower(298 + m, 313 + m)
    assert f"{m} more verified successes (success lower bound ≥ 0.99 over ≥ 200 executed)" in (
        needs_text(counted.next)
    )


def test_unknown_outcomes_are_unverified_too(tmp_path: Path) -> None:
    log = _to_full(299, 16, outcome="unknown")
    v = verdict(run(tmp_path, log, rule_data=EXCLUDE, as_of=day(10)), POD)
    assert (v.level.value, v.state.evidence.unverified) == ("auto_notify", 16)


def test_at_most_one_level_per_run(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 400, spacing=10)
    evaluation = run(tmp_path, log, as_of=day(10))
    v = verdict(evaluation, POD)
    assert (v.previous_level.value, v.level.value) == ("suggest", "auto_notify")
    assert v.next.level is not None and v.next.level.value == "full"
    assert needs_text(v.next).endswith("the cooldown to end on 2026-01-18T00:00:00Z")
    # the next run promotes again once the cooldown is over
    later = run(tmp_path, log, previous=save(tmp_path, evaluation), as_of=day(17))
    assert (level(later), verdict(later, POD).change) == ("full", "promoted")


def test_observe_promotes_to_suggest_by_its_own_gate(tmp_path: Path) -> None:
    assert lower(29, 29) >= 0.8  # 29 fails on promote.suggest.agreement.min_decisions (30)
    log = LogBuilder().reviewed(1, POD, 30, mode="observe")
    assert level(run(tmp_path, log, as_of=day(10))) == "suggest"
    log = LogBuilder().reviewed(1, POD, 29, mode="observe")
    assert level(run(tmp_path, log, as_of=day(10))) == "observe"


# --- demotion -------------------------------------------------------------------------------


def test_critical_failure_demotes_at_once_several_levels(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 300, mode="full", spacing=10)
    log.add(5, POD, mode="full", outcome="failure", severity="critical")
    v = verdict(run(tmp_path, log, as_of=day(6)), POD)
    assert (v.previous_level.value, v.level.value, v.change) == ("full", "suggest", "demoted")
    assert reason_text(v.reason).startswith(
        "demoted full → suggest: critical failure on decision d000300"
    )
    assert v.last_demoted == day(6)


def test_critical_failure_target_comes_from_the_rules(tmp_path: Path) -> None:
    log = LogBuilder().add(5, POD, mode="auto_notify", outcome="failure", severity="critical")
    rules = {"demote": {"critical_failure_to": "observe"}}
    assert level(run(tmp_path, log, rule_data=rules, as_of=day(6))) == "observe"


def test_critical_failure_before_the_last_promotion_does_not_demote(tmp_path: Path) -> None:
    log = LogBuilder().add(2, POD, mode="suggest", outcome="failure", severity="critical")
    log.clean(3, POD, 5, mode="auto_notify")  # promoted after the failure
    v = verdict(run(tmp_path, log, as_of=day(20)), POD)
    assert (v.level.value, v.change) == ("auto_notify", "unchanged")
    assert v.state.last_promoted == day(3)


def test_critical_failure_on_the_promotion_instant_demotes(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 5, mode="suggest")
    log.add(3, POD, mode="auto_notify", outcome="failure", severity="critical")
    v = verdict(run(tmp_path, log, as_of=day(4)), POD)
    assert (v.level.value, v.change) == ("suggest", "demoted")


def test_answered_critical_failure_does_not_demote_again(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 60, mode="auto_notify")
    log.add(5, POD, mode="auto_notify", outcome="failure", severity="critical")
    first = run(tmp_path, log, as_of=day(6))
    assert verdict(first, POD).change == "demoted"
    previous = save(tmp_path, first)
    # later, with the demotion recorded: the platform still logs auto_notify (not applied yet)
    log.clean(7, POD, 3, mode="auto_notify")
    second = verdict(run(tmp_path, log, previous=previous, as_of=day(8)), POD)
    assert (second.level.value, second.change) == ("suggest", "unchanged")
    assert "already answered by the demotion of 2026-01-07T00:00:00Z" in " ".join(
        check_text(c) for c in second.checks
    )
    assert second.state.evidence.counted_from == day(6)


def test_answered_critical_failure_from_the_log_mode_history(tmp_path: Path) -> None:
    log = LogBuilder().add(5, POD, mode="auto_notify", outcome="failure", severity="critical")
    log.clean(6, POD, 3, mode="suggest")  # the platform applied the demotion
    v = verdict(run(tmp_path, log, as_of=day(8)), POD)
    assert (v.level.value, v.change) == ("suggest", "unchanged")


def test_success_upper_bound_below_097_demotes_full(tmp_path: Path) -> None:
    assert upper(93, 100) < 0.97 <= upper(94, 100)
    for succeeded, expected in ((93, "auto_notify"), (94, "full")):
        log = LogBuilder().clean(1, POD, succeeded, mode="full")
        log.add(2, POD, 100 - succeeded, mode="full", human="approved", outcome="failure")
        v = verdict(run(tmp_path, log, as_of=day(10)), POD)
        assert v.level.value == expected, reason_text(v.reason)
    assert reason_text(v.reason).startswith("stays at full")
    assert v.change == "unchanged"


def test_success_demotion_reason(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 93, mode="full")
    log.add(2, POD, 7, mode="full", human="approved", outcome="failure")
    v = verdict(run(tmp_path, log, as_of=day(10)), POD)
    assert reason_text(v.reason) == (
        "demoted full → auto_notify: 93 of 100 verified succeeded (93.0%); "
        f"95% upper bound {upper(93, 100):.3f} < 0.97"
    )


@pytest.mark.parametrize("start", ["auto_notify", "full"])
def test_agreement_upper_bound_below_090_demotes_to_suggest(tmp_path: Path, start: str) -> None:
    assert upper(84, 100) < 0.90 <= upper(85, 100)
    bad = LogBuilder().reviewed(1, POD, 84, 16, mode=start)
    v = verdict(run(tmp_path, bad, as_of=day(10)), POD)
    assert (v.level.value, v.change) == ("suggest", "demoted")
    assert f"84 of 100 reviewed approved (84.0%); 95% upper bound {upper(84, 100):.3f} < 0.9" in (
        reason_text(v.reason)
    )
    fine = LogBuilder().reviewed(1, POD, 85, 15, mode=start)
    assert level(run(tmp_path, fine, as_of=day(10))) == start


def test_hysteresis_between_090_and_095_neither_promotes_nor_demotes(tmp_path: Path) -> None:
    # 185 of 200: lower 0.887 < 0.95, upper 0.953 ≥ 0.90
    assert lower(185, 200) < 0.95 and upper(185, 200) >= 0.90
    for mode in ("suggest", "auto_notify"):
        log = LogBuilder().reviewed(1, POD, 185, 15, mode=mode)
        v = verdict(run(tmp_path, log, as_of=day(10)), POD)
        assert (v.level.value, v.change) == (mode, "unchanged")


# --- cooldown -------------------------------------------------------------------------------


def _recently_promoted() -> LogBuilder:
    # observe on day 1, suggest (a promotion in the log) from day 5: 60 clean approvals
    return LogBuilder().add(1, POD, mode="observe").reviewed(5, POD, 60)


def test_cooldown_from_the_log_mode_history(tmp_path: Path) -> None:
    log = _recently_promoted()
    blocked = verdict(run(tmp_path, log, as_of=day(12, -1)), POD)
    assert (blocked.level.value, blocked.limited_by) == ("suggest", "cooldown")
    assert "cooldown ends 2026-01-13T00:00:00Z" in reason_text(blocked.reason)
    assert needs_text(blocked.next).endswith("the cooldown to end on 2026-01-13T00:00:00Z")
    free = verdict(run(tmp_path, log, as_of=day(12)), POD)
    assert (free.level.value, free.limited_by) == ("auto_notify", None)


def test_cooldown_from_the_previous_policy_since(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 60)
    previous = previous_policy(
        tmp_path, [{"action_class": POD, "level": "suggest", "since": day(5)}], as_of=day(5)
    )
    blocked = verdict(run(tmp_path, log, previous=previous, as_of=day(11)), POD)
    assert blocked.limited_by == "cooldown"
    free = verdict(run(tmp_path, log, previous=previous, as_of=day(12)), POD)
    assert free.level.value == "auto_notify"


def test_cooldown_from_the_previous_policy_last_promoted(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 60)
    previous = previous_policy(
        tmp_path,
        [{"action_class": POD, "level": "suggest", "since": day(0), "last_promoted": day(4)}],
        as_of=day(4),
    )
    assert verdict(run(tmp_path, log, previous=previous, as_of=day(10)), POD).limited_by == (
        "cooldown"
    )
    assert level(run(tmp_path, log, previous=previous, as_of=day(11))) == "auto_notify"


def test_cooldown_never_blocks_a_demotion(tmp_path: Path) -> None:
    log = LogBuilder().add(1, POD, mode="suggest").reviewed(5, POD, 80, 20, mode="auto_notify")
    v = verdict(run(tmp_path, log, as_of=day(6)), POD)
    assert (v.level.value, v.change) == ("suggest", "demoted")


def test_cooldown_length_comes_from_the_rules(tmp_path: Path) -> None:
    log = _recently_promoted()
    rules = {"cooldown": "2d"}
    assert level(run(tmp_path, log, rule_data=rules, as_of=day(7, -1))) == "suggest"
    assert level(run(tmp_path, log, rule_data=rules, as_of=day(7))) == "auto_notify"


def test_a_weekly_cooldown_is_seven_days_whatever_the_time_of_day_of_the_last_row(
    tmp_path: Path,
) -> None:
    # Each weekly run is as of its log's last row: 14:00 the first week, 13:46 the next.
    log = LogBuilder().reviewed(1, POD, 60, mode="observe")
    log.add(7, POD, mode="observe", spacing=0).rows[-1]["timestamp"] = iso(day(7, 14 * 3600))
    first = run(tmp_path, log)
    assert (first.as_of, level(first)) == (day(7, 14 * 3600), "suggest")
    cooldown = "the cooldown to end on 2026-01-15T00:00:00Z"
    assert needs_text(verdict(first, POD).next) == cooldown
    log.add(14, POD).rows[-1]["timestamp"] = iso(day(14, 13 * 3600 + 46 * 60))
    second = run(tmp_path, log, previous=save(tmp_path, first))
    assert second.as_of - first.as_of == dt.timedelta(days=7, minutes=-14)
    assert (level(second), verdict(second, POD).change) == ("auto_notify", "promoted")
    # The day before, the cooldown still holds, at any time of day.
    held = run(tmp_path, log, previous=save(tmp_path, first), as_of=day(14, -1))
    assert (level(held), verdict(held, POD).limited_by) == ("suggest", "cooldown")


# --- caps -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action_class", "extra", "cap", "limited_by"),
    [
        ("db.migrate", {}, "suggest", "cap:risk_tier=3"),  # pattern db.*
        ("k8s.rollback", {}, "auto_notify", "cap:risk_tier=2"),  # pattern *.rollback
        (POD, {"risk_tier": 3}, "suggest", "cap:risk_tier=3"),  # the column wins
        (POD, {"system_tier": 3}, "suggest", "cap:system_tier=3"),
        (POD, {"system_tier": 4}, "observe", "cap:system_tier=4"),
    ],
)
def test_caps(
    tmp_path: Path, action_class: str, extra: dict[str, Any], cap: str, limited_by: str
) -> None:
    log = LogBuilder().clean(1, action_class, 400, mode="full", spacing=10, **extra)
    v = verdict(run(tmp_path, log, as_of=day(10)), action_class)
    assert (v.level.value, v.limited_by, v.change) == (cap, limited_by, "demoted")
    assert reason_text(v.reason).startswith(
        f"demoted full → {cap}: {limited_by.removeprefix('cap:')} allows"
    )
    assert (v.next.level, v.next.clean_decisions_needed) == (None, None)


def test_cap_blocks_promotion_and_is_named_even_when_gates_fail(tmp_path: Path) -> None:
    strong = verdict(
        run(tmp_path, LogBuilder().reviewed(1, "db.migrate", 100), as_of=day(5)), "db.migrate"
    )
    weak = verdict(
        run(tmp_path, LogBuilder().reviewed(1, "db.migrate", 3), as_of=day(5)), "db.migrate"
    )
    for v in (strong, weak):
        assert (v.level.value, v.change, v.limited_by) == (
            "suggest",
            "unchanged",
            "cap:risk_tier=3",
        )
        assert "risk_tier=3 allows at most suggest" in reason_text(v.reason)


def test_a_group_spanning_tiers_takes_the_strictest(tmp_path: Path) -> None:
    log = LogBuilder().clean(1, POD, 100, system_tier=1).clean(2, POD, 5, system_tier=3)
    log.clean(3, POD, 5, system_tier=2)
    v = verdict(run(tmp_path, log, as_of=day(5)), POD)
    assert (v.cap.level.value, v.cap.limited_by) == ("suggest", "cap:system_tier=3")
    assert v.level.value == "suggest"


def test_unknown_risk_tier_counts_as_tier_3(tmp_path: Path) -> None:
    rules = {"risk_tiers": [{"pattern": "k8s.*", "tier": 1}]}
    log = LogBuilder().clean(1, "cache.flush", 100, mode="auto_notify")
    v = verdict(run(tmp_path, log, rule_data=rules, as_of=day(5)), "cache.flush")
    assert (v.level.value, v.limited_by) == ("suggest", "cap:risk_tier=unknown")


def test_caps_come_from_the_rules(tmp_path: Path) -> None:
    rules = {"caps": {"risk_tier": {1: "auto_notify", 2: "auto_notify", 3: "observe"}}}
    log = LogBuilder().clean(1, POD, 100, mode="full")
    assert level(run(tmp_path, log, rule_data=rules, as_of=day(5))) == "auto_notify"


# --- pins -----------------------------------------------------------------------------------


def _pin(**fields: Any) -> dict[str, Any]:
    return {"pins": [{"reason": "change freeze", "owner": "sre-lead", **fields}]}


def test_active_pin_sets_the_level_whatever_the_evidence(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 10, 10)  # poor evidence
    rules = _pin(action_class="k8s.*", level="full", expires="2026-03-01")
    v = verdict(run(tmp_path, log, rule_data=rules, as_of=day(10)), POD)
    assert (v.level.value, v.limited_by) == ("full", "pin")
    assert reason_text(v.reason).startswith(
        "pinned at full by sre-lead until 2026-03-01T00:00:00Z: change freeze"
    )
    assert v.next.level is None


def test_pin_overrides_a_critical_failure(tmp_path: Path) -> None:
    log = LogBuilder().add(1, POD, mode="auto_notify", outcome="failure", severity="critical")
    rules = _pin(action_class=POD, level="auto_notify")
    v = verdict(run(tmp_path, log, rule_data=rules, as_of=day(10)), POD)
    assert (v.level.value, v.limited_by) == ("auto_notify", "pin")
    assert "the evidence alone gives suggest" in reason_text(v.reason)


def test_expired_pin_is_ignored_and_reported(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 10, 10)
    rules = _pin(action_class=POD, level="full", expires="2026-01-05T00:00:00Z")
    v = verdict(run(tmp_path, log, rule_data=rules, as_of=day(4)), POD)  # exactly at expiry
    assert v.level.value == "suggest"
    assert v.limited_by != "pin"
    assert "(pin by sre-lead expired on 2026-01-05T00:00:00Z; ignored)" in reason_text(v.reason)
    e = entry(run(tmp_path, log, rule_data=rules, as_of=day(4)), POD)
    assert e["pin"]["active"] is False


def test_pin_for_another_system_tier_does_not_apply(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 3, system_tier=1)
    rules = _pin(action_class=POD, level="observe", system_tier=2)
    v = verdict(run(tmp_path, log, rule_data=rules, as_of=day(4)), POD)
    assert (v.level.value, v.pin) == ("suggest", None)


def test_strictest_active_pin_wins(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 3)
    rules = {
        "pins": [
            {"action_class": "k8s.*", "level": "full", "reason": "a", "owner": "x"},
            {"action_class": POD, "level": "observe", "reason": "b", "owner": "y"},
        ]
    }
    assert level(run(tmp_path, log, rule_data=rules, as_of=day(4))) == "observe"


# --- agent version reset --------------------------------------------------------------------


def test_new_agent_version_must_earn_promotion_afresh(tmp_path: Path) -> None:
    # v2 arrives on day 3; its evidence counts from the first whole UTC day after that,
    # day 4 (2026-01-05): its 5 approvals of day 3 do not count, its 20 of day 4 do.
    log = LogBuilder().reviewed(1, POD, 100, agent_version="v1")
    log.reviewed(3, POD, 5, agent_version="v2").reviewed(4, POD, 20, agent_version="v2")
    v = verdict(run(tmp_path, log, as_of=day(5)), POD)
    assert (v.state.evidence.agreed, v.state.evidence.reviewed) == (20, 20)
    assert (v.level.value, v.limited_by) == ("suggest", "insufficient_data")
    assert v.next.clean_decisions_needed == 59 - 20
    assert reason_text(v.reason).endswith(
        "; evidence counted from 2026-01-05, the first whole UTC day after the change to "
        "agent version v2"
    )
    off = {"reset_on_agent_version_change": False}
    assert level(run(tmp_path, log, rule_data=off, as_of=day(5))) == "auto_notify"


# --- new and kept groups ----------------------------------------------------------------------


def test_new_group_only_with_a_previous_policy(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 60).reviewed(1, "k8s.scale", 3)
    previous = previous_policy(
        tmp_path,
        [
            {"action_class": "k8s.scale", "level": "suggest"},
            {"action_class": "x.y", "level": "observe"},
        ],
        as_of=day(0),
    )
    evaluation = run(tmp_path, log, previous=previous, as_of=day(10))
    assert verdict(evaluation, POD).change == "new"
    assert verdict(evaluation, POD).level.value == "auto_notify"
    assert verdict(evaluation, "k8s.scale").change == "unchanged"
    assert verdict(evaluation, "x.y").level.value == "observe"
    summary = evaluation.policy["metadata"]["summary"]
    assert summary == {
        "groups": 3,
        "promoted": 0,
        "demoted": 0,
        "unchanged": 2,
        "new": 1,
        "proposed": 0,
    }
    without = run(tmp_path, log, as_of=day(10))
    assert verdict(without, POD).change == "promoted"


# --- the next block -------------------------------------------------------------------------


def test_clean_decisions_needed_is_exact(tmp_path: Path) -> None:
    assert lower(45 + 77, 47 + 77) >= 0.95 > lower(45 + 76, 47 + 76)
    v = verdict(run(tmp_path, LogBuilder().reviewed(1, POD, 45, 2), as_of=day(10)), POD)
    assert v.next.level is not None and v.next.level.value == "auto_notify"
    assert v.next.clean_decisions_needed == 77
    assert needs_text(v.next).startswith("77 more clean approvals")
    # and adding exactly that many clean approvals promotes
    log = LogBuilder().reviewed(1, POD, 45, 2).reviewed(2, POD, 77)
    assert level(run(tmp_path, log, as_of=day(10))) == "auto_notify"


def test_clean_decisions_needed_respects_min_decisions(tmp_path: Path) -> None:
    rules = {"promote": {"auto_notify": {"agreement": {"min_decisions": 100, "threshold": 0.95}}}}
    v = verdict(run(tmp_path, LogBuilder().reviewed(1, POD, 30), rule_data=rules), POD)
    assert v.next.clean_decisions_needed == 70


def test_next_for_full_counts_unverified_share(tmp_path: Path) -> None:
    # 299 clean + 20 unverified at auto_notify: success gate passes, share 20/319 > 5%
    # needs e with 20 / e ≤ 0.05 → e ≥ 400 executed → 81 more
    v = verdict(run(tmp_path, _to_full(299, 20), rule_data=EXCLUDE, as_of=day(10)), POD)
    assert v.level.value == "auto_notify"
    assert v.next.clean_decisions_needed == 81
    log = _to_full(299, 20).clean(3, POD, 81, mode="auto_notify")
    assert level(run(tmp_path, log, rule_data=EXCLUDE, as_of=day(10))) == "full"
    log = _to_full(299, 20).clean(3, POD, 80, mode="auto_notify")
    assert level(run(tmp_path, log, rule_data=EXCLUDE, as_of=day(10))) == "auto_notify"


def test_next_after_a_demotion_counts_from_zero(tmp_path: Path) -> None:
    # demoted now: the evidence clock restarts, so the next promotion needs 59 clean approvals
    log = LogBuilder().reviewed(1, POD, 84, 16, mode="auto_notify")
    v = verdict(run(tmp_path, log, as_of=day(10)), POD)
    assert v.change == "demoted"
    assert v.next.level is not None and v.next.level.value == "auto_notify"
    assert v.next.clean_decisions_needed == 59
    assert "the cooldown to end on 2026-01-18T00:00:00Z" in needs_text(v.next)


def test_next_when_capped_or_at_the_top(tmp_path: Path) -> None:
    capped = entry(run(tmp_path, LogBuilder().reviewed(1, "db.migrate", 3)), "db.migrate")
    assert capped["next"] == {
        "level": None,
        "needs": "capped at suggest by risk_tier=3",
        "clean_decisions_needed": None,
    }
    top = entry(run(tmp_path, LogBuilder().clean(1, POD, 3, mode="full")), POD)
    assert (top["next"]["level"], top["next"]["clean_decisions_needed"]) == (None, None)


# --- idempotency ----------------------------------------------------------------------------


def _mixed_log() -> LogBuilder:
    return (
        LogBuilder()
        .clean(1, POD, 70)  # promoted
        .reviewed(1, "k8s.scale", 80, 20, mode="auto_notify")  # demoted by agreement
        .clean(1, "cache.flush", 30, mode="full")
        .add(2, "cache.flush", mode="full", outcome="failure", severity="critical")  # demoted
        .clean(1, "k8s.rollback", 100, mode="full")  # capped
        .reviewed(1, "k8s.drain", 185, 15, mode="auto_notify")  # hysteresis
        .reviewed(1, "db.migrate", 5)
        .reviewed(1, "svc.pinned", 5)
        .clean(1, "svc.v", 60, agent_version="v1")
        .clean(2.5, "svc.v", 10, agent_version="v2")
    )


def test_regenerating_with_the_policy_as_previous_changes_nothing(tmp_path: Path) -> None:
    rules = _pin(action_class="svc.pinned", level="auto_notify")
    log = _mixed_log()
    first = run(tmp_path, log, rule_data=rules, as_of=day(3))
    changes = {str(v.state.key[0]): v.change for v in first.verdicts}
    assert changes == {
        POD: "promoted",
        "k8s.scale": "demoted",
        "cache.flush": "demoted",
        "k8s.rollback": "demoted",
        "k8s.drain": "unchanged",
        "db.migrate": "unchanged",
        "svc.pinned": "promoted",
        "svc.v": "unchanged",
    }
    previous = save(tmp_path, first)
    second = run(tmp_path, log, rule_data=rules, previous=previous, as_of=day(3))
    assert {str(v.state.key[0]): v.change for v in second.verdicts} == dict.fromkeys(
        changes, "unchanged"
    )
    assert [a["level"] for a in second.policy["actions"]] == [
        a["level"] for a in first.policy["actions"]
    ]
    # since, last_promoted and last_demoted are carried over unchanged
    for a, b in zip(first.policy["actions"], second.policy["actions"], strict=True):
        assert (a["since"], a["last_promoted"], a["last_demoted"]) == (
            b["since"],
            b["last_promoted"],
            b["last_demoted"],
        )
    # and a third run a day later, with no new decisions, still changes nothing
    third = run(tmp_path, log, rule_data=rules, previous=save(tmp_path, second), as_of=day(4))
    assert {v.change for v in third.verdicts} == {"unchanged"}


def test_idempotent_with_sub_second_as_of(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 84, 16, mode="auto_notify", spacing=0.5)
    first = run(tmp_path, log)  # as_of: the last decision, at a half second
    assert first.as_of.microsecond == 500000
    assert entry(first, POD)["last_demoted"] == iso(first.as_of)
    second = run(tmp_path, log, previous=save(tmp_path, first))
    v = verdict(second, POD)
    assert (v.change, v.state.evidence.decisions) == ("unchanged", 0)


def test_since_is_kept_from_the_previous_policy(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 3)
    previous = previous_policy(
        tmp_path, [{"action_class": POD, "level": "suggest", "since": day(-30)}], as_of=day(0)
    )
    e = entry(run(tmp_path, log, previous=previous, as_of=day(5)), POD)
    assert e["since"] == iso(day(-30))
    changed = entry(run(tmp_path, LogBuilder().reviewed(1, POD, 60), as_of=day(5)), POD)
    assert (changed["since"], changed["last_promoted"]) == (iso(day(5)), iso(day(5)))


def test_as_of_with_time_zone_is_utc(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 3)
    as_of = dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert run(tmp_path, log, as_of=as_of).policy["metadata"]["as_of"] == "2026-01-05T00:00:00Z"


def test_since_is_null_when_no_level_change_is_known_and_adds_no_cooldown(
    tmp_path: Path,
) -> None:
    # 40 approvals: not enough for auto_notify, and the mode never changed in the log.
    log = LogBuilder().reviewed(1, POD, 40)
    first = run(tmp_path, log, as_of=day(3))
    assert verdict(first, POD).since is None
    week1 = save(tmp_path, first, "week1.yaml")
    # A week's worth of new approvals arrives two days later: nothing changed the level
    # before, so there is no cooldown to wait for.
    log.reviewed(4, POD, 20)
    second = verdict(run(tmp_path, log, previous=week1, as_of=day(5)), POD)
    assert (second.level.value, second.change, second.limited_by) == (
        "auto_notify",
        "promoted",
        None,
    )


# --- review findings: level history, demotion record ----------------------------------------


def test_previous_policy_dates_are_the_level_history_not_interleaved_modes(
    tmp_path: Path,
) -> None:
    # The platform runs this class at suggest for one service and auto_notify for another:
    # the modes alternate. Read from the log, every flip would be a demotion and the clock
    # would restart at the last one; with a previous policy its dates are the history.
    log = LogBuilder()
    for i in range(60):
        log.add(
            1 + i / 10,
            POD,
            human="approved",
            outcome="success",
            mode="suggest" if i % 2 else "auto_notify",
        )
    from_log = verdict(run(tmp_path, log, as_of=day(10)), POD)
    # The last flip down is on day 6 (decisions 50-59): the clock counts from that day,
    # and of it only the decisions at the latest mode (suggest, the odd ones): 5 of 60.
    assert from_log.state.evidence.counted_from_reason == "last demotion"
    assert from_log.state.evidence.counted_from == day(6)
    assert from_log.state.evidence.reviewed == 5
    previous = previous_policy(
        tmp_path, [{"action_class": POD, "level": "suggest", "since": day(0)}], as_of=day(0)
    )
    v = verdict(run(tmp_path, log, previous=previous, as_of=day(10)), POD)
    assert v.state.evidence.counted_from_reason.startswith("window start")
    assert (v.state.evidence.agreed, v.state.evidence.reviewed) == (60, 60)
    assert (v.level.value, v.change) == ("auto_notify", "promoted")


def test_a_new_agent_version_does_not_hide_a_due_demotion(tmp_path: Path) -> None:
    # At auto_notify since day 1: v1 was approved 70 times in 100 (upper bound < 0.90);
    # then v2 arrives on day 5 with 3 approvals, and 2 more on day 6. Promotion evidence
    # restarts after v2's first day, the record that demotion judges does not.
    log = (
        LogBuilder()
        .add(0, POD, mode="suggest")
        .reviewed(1, POD, 70, 30, mode="auto_notify", agent_version="v1")
        .reviewed(5, POD, 3, mode="auto_notify", agent_version="v2")
        .reviewed(6, POD, 2, mode="auto_notify", agent_version="v2")
    )
    v = verdict(run(tmp_path, log, as_of=day(7)), POD)
    assert v.state.evidence.counted_from == day(6)
    assert (v.state.evidence.agreed, v.state.evidence.reviewed) == (2, 2)
    record = v.state.demotion_evidence
    assert (record.counted_from, record.counted_from_reason) == (day(1), "last promotion")
    assert (record.agreed, record.reviewed) == (75, 105)
    assert upper(75, 105) < 0.90
    assert (v.level.value, v.change) == ("suggest", "demoted")
    assert "75 of 105 reviewed approved" in reason_text(v.reason)


def test_demotion_judges_the_record_since_the_last_promotion(tmp_path: Path) -> None:
    # 200 clean approvals at suggest, promoted on day 10, then 20 of 40 at auto_notify:
    # the old record must not dilute the drift at the new level.
    log = (
        LogBuilder()
        .reviewed(1, POD, 200, mode="suggest")
        .reviewed(10, POD, 20, 20, mode="auto_notify")
    )
    v = verdict(run(tmp_path, log, as_of=day(12)), POD)
    record = v.state.demotion_evidence
    assert (record.agreed, record.reviewed, record.counted_from) == (20, 40, day(10))
    assert (v.level.value, v.change) == ("suggest", "demoted")


def _late_failure_log() -> LogBuilder:
    """At auto_notify since day 1; decision ``late`` is proposed on day 4 and its critical
    failure is only recorded on day 8, by a second event row."""
    log = LogBuilder().add(0, POD, mode="suggest").reviewed(1, POD, 60, mode="auto_notify")
    proposal = {**log.rows[-1], "decision_id": "late", "timestamp": iso(day(4))}
    proposal.update(human_decision="", outcome="", reviewer="")
    outcome = {**proposal, "timestamp": iso(day(8)), "outcome": "failure", "severity": "critical"}
    log.rows += [proposal, outcome]
    return log


def test_time_travel_does_not_see_an_outcome_recorded_later(tmp_path: Path) -> None:
    before = verdict(run(tmp_path, _late_failure_log(), as_of=day(6)), POD)
    assert before.state.critical_failures == 0
    assert before.level.value == "auto_notify"
    assert before.state.evidence.decisions == 62  # day 0, 60 reviewed, and the proposal


def test_a_critical_failure_is_dated_when_it_was_recorded(tmp_path: Path) -> None:
    # The previous policy promoted the class on day 5, after the proposal but before the
    # failure was known: the promotion cannot have answered it, so it demotes.
    log = _late_failure_log()
    previous = previous_policy(
        tmp_path,
        [{"action_class": POD, "level": "auto_notify", "since": day(5), "last_promoted": day(5)}],
        as_of=day(5),
    )
    v = verdict(run(tmp_path, log, previous=previous, as_of=day(9)), POD)
    assert v.state.last_critical_failure == day(8)
    assert (v.level.value, v.change) == ("suggest", "demoted")
    assert "critical failure on decision late at 2026-01-09T00:00:00Z" in reason_text(v.reason)


def test_a_partial_caps_map_keeps_the_other_tiers_capped(tmp_path: Path) -> None:
    # Only tier 3 is named: tier 2 (k8s.rollback, by pattern) keeps its auto_notify cap.
    log = LogBuilder().clean(1, "k8s.rollback", 400, mode="auto_notify")
    v = verdict(
        run(tmp_path, log, rule_data={"caps": {"risk_tier": {3: "observe"}}}, as_of=day(20)),
        "k8s.rollback",
    )
    assert (v.level.value, v.cap.level.value, v.cap.limited_by) == (
        "auto_notify",
        "auto_notify",
        "cap:risk_tier=2",
    )


def test_a_group_absent_from_the_logs_keeps_the_cap_the_previous_policy_recorded(
    tmp_path: Path,
) -> None:
    # The weekly logs hold no decision of queue.redrive (a tier-4 system): its tier is
    # unknown now, so the previous policy's cap stands, and a pin cannot lift it.
    log = LogBuilder().reviewed(1, POD, 5)
    previous = previous_policy(
        tmp_path,
        [
            {
                "action_class": "queue.redrive",
                "level": "observe",
                "cap": {"level": "observe", "by": "cap:system_tier=4"},
            }
        ],
        as_of=day(0),
    )
    pin = {"action_class": "queue.redrive", "level": "auto_notify", "reason": "r", "owner": "o"}
    v = verdict(
        run(tmp_path, log, previous=previous, rule_data={"pins": [pin]}, as_of=day(2)),
        "queue.redrive",
    )
    assert (v.level.value, v.change, v.cap.limited_by) == (
        "observe",
        "unchanged",
        "cap:system_tier=4",
    )


def test_a_previous_policy_from_after_as_of_is_refused(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 5)
    previous = previous_policy(tmp_path, [{"action_class": POD, "level": "suggest"}], as_of=day(9))
    with pytest.raises(PolicyError, match="cannot build on one from its future"):
        run(tmp_path, log, previous=previous, as_of=day(2))
