"""Counting rules, the evidence window, ``--as-of`` and the evidence clock.

Every expected number is counted by hand from the log the test builds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from logbuilder import LogBuilder, day, entry, iso, previous_policy, run, verdict

from trustctl.errors import InputError
from trustctl.evidence import Evidence
from trustctl.reasons import reason_text


def _evidence(tmp_path: Path, log: LogBuilder, **kwargs: object) -> Evidence:
    evaluation = run(tmp_path, log, **kwargs)  # type: ignore[arg-type]
    return verdict(evaluation, "k8s.restart_pod").state.evidence


# --- counting rules -------------------------------------------------------------------------


def test_every_counting_rule_on_one_group(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .add(2, c, 10, human="approved", outcome="success")
        .add(2.1, c, 3, human="rejected")  # not executed
        .add(2.2, c, 2, human="modified", outcome="success")
        .add(2.3, c, 1, human="overridden", outcome="failure", severity="minor")
        .add(2.4, c, 4, human="timeout")  # not executed
        .add(2.5, c, 5, human="timeout", executed=True, outcome="success")
        .add(2.6, c, 6, executed=True, outcome="unknown")
        .add(2.7, c, 7, executed=True, outcome="")
        .add(2.8, c, 8, executed=False)
        .add(2.9, c, 1, executed=True, outcome="failure", severity="major")
    )
    e = _evidence(tmp_path, log)
    assert e.decisions == 10 + 3 + 2 + 1 + 4 + 5 + 6 + 7 + 8 + 1
    # agreement: approved agree; rejected, modified, overridden disagree; timeouts neither
    assert (e.agreed, e.reviewed, e.timeouts) == (10, 10 + 3 + 2 + 1, 4 + 5)
    # success: verified = executed with success/failure; unverified = executed without one
    assert e.executed == 10 + 2 + 1 + 5 + 6 + 7 + 1
    assert (e.succeeded, e.verified) == (10 + 2 + 5, 10 + 2 + 1 + 5 + 1)
    assert e.unverified == 6 + 7


def test_timeouts_never_count_toward_promotion(tmp_path: Path) -> None:
    # 49 approvals and 100 timeouts: a lapsed approval window is no human judgement
    log = LogBuilder().reviewed(1, "k8s.restart_pod", approved=49, timeouts=100)
    evaluation = run(tmp_path, log, as_of=day(10))
    v = verdict(evaluation, "k8s.restart_pod")
    assert (v.state.evidence.reviewed, v.state.evidence.timeouts) == (49, 100)
    assert v.level.value == "suggest"
    assert v.limited_by == "insufficient_data"


def test_unverified_never_counts_as_success(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().add(1, c, 20, human="approved", executed=True, outcome="unknown")
    log.add(2, c, 30, human="approved", executed=True)
    evaluation = run(tmp_path, log, as_of=day(10))
    a = entry(evaluation, c)["evidence"]["success"]
    assert (a["succeeded"], a["verified"], a["unverified"], a["executed"]) == (0, 0, 50, 50)
    assert a["rate"] is None
    assert (a["lower"], a["upper"]) == (0.0, 1.0)


def test_critical_failures_count_only_executed_critical_failures(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .add(1, c, 2, executed=True, outcome="failure", severity="critical")
        .add(1.1, c, 3, executed=True, outcome="failure", severity="major")
        .add(1.2, c, 4, executed=True, outcome="success", severity="critical")
        .add(1.3, c, 5, executed=False, severity="critical")
        .add(1.4, c, 6, executed=True, outcome="unknown", severity="critical")
    )
    v = verdict(run(tmp_path, log, as_of=day(2)), c)
    assert v.state.critical_failures == 2
    assert v.state.last_critical_failure == day(1, 60)
    assert v.state.last_critical_decision == "d000001"


def test_critical_failures_outside_the_window_are_not_counted(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().add(1, c, executed=True, outcome="failure", severity="critical")
    log.clean(150, c, 5)
    v = verdict(run(tmp_path, log, as_of=day(190)), c)
    assert v.state.critical_failures == 0
    assert v.state.evidence.counted_from_reason.startswith("window start")


def test_a_critical_failure_is_in_the_window_by_the_day_it_was_recorded(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().add(10.75, c, executed=True, outcome="failure", severity="critical")
    log.clean(150, c, 5)
    # as_of noon of day 190: the window starts at noon of day 10 and counts from day 11, so
    # the failure at 18:00 on day 10, after the window's start, is not in it
    state = verdict(run(tmp_path, log, as_of=day(190.5)), c).state
    assert (state.critical_failures, state.last_critical_failure) == (0, None)
    assert state.evidence.counted_from_reason.startswith("window start")
    # as_of midnight: the window counts day 10 whole, and the failure restarts the clock
    state = verdict(run(tmp_path, log, as_of=day(190)), c).state
    assert (state.critical_failures, state.last_critical_failure) == (1, day(10.75))
    assert (state.evidence.counted_from, state.evidence.counted_from_reason) == (
        day(11),
        "last critical failure",
    )
    # a decision proposed before the window whose failure is recorded within it counts
    log = LogBuilder().clean(150, c, 5)
    proposal = {**log.rows[-1], "decision_id": "old", "timestamp": iso(day(9))}
    proposal.update(human_decision="", outcome="", reviewer="")
    outcome = {**proposal, "timestamp": iso(day(11.25))}
    outcome.update(outcome="failure", severity="critical")
    log.rows += [proposal, outcome]
    state = verdict(run(tmp_path, log, as_of=day(190.5)), c).state
    assert (state.critical_failures, state.last_critical_decision) == (1, "old")
    assert (state.evidence.counted_from, state.evidence.decisions) == (day(12), 5)


# --- window and --as-of ---------------------------------------------------------------------


def test_window_counts_whole_utc_days_from_the_first_midnight_at_or_after_its_start(
    tmp_path: Path,
) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().add(10, c, 7, human="rejected")  # 190 days before day 200
    log.add(19, c, human="rejected")
    log.rows[-1]["timestamp"] = iso(day(20, -1))  # 23:59:59 on day 19
    log.add(20, c, human="approved")  # midnight of day 20
    log.add(20.75, c, 2, human="rejected")  # 18:00 on day 20
    log.add(21, c, 3, human="approved").add(200, c, human="approved")
    # as_of at midnight: the window starts exactly at midnight of day 20, so day 20 counts
    # whole, and so does the decision at as_of itself.
    e = _evidence(tmp_path, log, as_of=day(200))
    assert (e.agreed, e.reviewed, e.decisions) == (1 + 3 + 1, 1 + 2 + 3 + 1, 1 + 2 + 3 + 1)
    assert e.counted_from == day(20) == day(200) - dt.timedelta(days=180)
    assert e.counted_from_reason == "window start (180d before as_of)"
    assert (e.reset, e.level_day) == (False, False)
    # as_of at noon: the window starts at noon of day 20, a day that began before it, so
    # none of day 20 counts, not even the two decisions after the window's start.
    e = _evidence(tmp_path, log, as_of=day(200.5))
    assert (e.agreed, e.reviewed, e.decisions) == (3 + 1, 3 + 1, 3 + 1)
    assert e.counted_from == day(21)
    assert (e.reset, e.level_day) == (False, False)


def test_window_length_comes_from_the_rules(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.restart_pod", rejected=5).reviewed(25, "k8s.restart_pod", 2)
    e = _evidence(tmp_path, log, as_of=day(30), rule_data={"window": "4w"})
    assert (e.agreed, e.reviewed) == (2, 2)


def test_a_group_with_only_old_decisions_is_left_out(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.scale", 5).reviewed(300, "k8s.restart_pod", 5)
    evaluation = run(tmp_path, log, as_of=day(300))
    assert [v.state.key for v in evaluation.verdicts] == [("k8s.restart_pod",)]


def test_decisions_after_as_of_are_ignored(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 60).reviewed(20, c, 0, 40)
    evaluation = run(tmp_path, log, as_of=day(10))
    v = verdict(evaluation, c)
    assert (v.state.evidence.agreed, v.state.evidence.reviewed) == (60, 60)
    assert v.level.value == "auto_notify"
    assert evaluation.policy["metadata"]["as_of"] == iso(day(10))
    assert evaluation.policy["metadata"]["ingest"]["after_as_of"] == 40
    # later, the 40 rejections count
    later = verdict(run(tmp_path, log, as_of=day(30)), c)
    assert (later.state.evidence.agreed, later.state.evidence.reviewed) == (60, 100)
    assert later.level.value == "suggest"


def test_time_travel_equals_a_log_cut_at_that_date(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    early = LogBuilder().reviewed(1, c, 55, 1).add(5, c, executed=True, outcome="failure")
    full = LogBuilder()
    full.rows = [dict(r) for r in early.rows]
    full.reviewed(40, c, 3, 30).add(41, "k8s.scale", 9, human="approved")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cut = run(tmp_path / "a", early, as_of=day(30))
    travelled = run(tmp_path / "b", full, as_of=day(30))
    assert cut.policy["actions"] == travelled.policy["actions"]
    assert travelled.policy["metadata"]["ingest"]["after_as_of"] == 3 + 30 + 9


def test_without_as_of_the_latest_decision_is_the_moment(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.restart_pod", 3).add(4, "k8s.scale", spacing=1)
    evaluation = run(tmp_path, log)
    assert evaluation.as_of == day(4)
    assert evaluation.policy["metadata"]["as_of"] == "2026-01-05T00:00:00Z"


# --- the evidence clock -----------------------------------------------------------------------


def test_clock_restarts_after_a_demotion_in_the_log(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 80, mode="auto_notify")
        .reviewed(10, c, 4, 2, mode="suggest")  # the mode steps down here
        .reviewed(11, c, 5)
    )
    v = verdict(run(tmp_path, log, as_of=day(20)), c)
    e = v.state.evidence
    # The demotion is dated by the last decision taken at auto_notify (the 80th, 79
    # minutes after the first). The clock counts from the midnight that began that day,
    # of which only decisions at suggest count (there are none): every decision taken at
    # suggest counts.
    assert v.state.last_demoted == day(1, 79 * 60)
    assert e.counted_from == day(1)
    assert e.counted_from_reason == "last demotion"
    assert (e.reset, e.level_day) == (True, True)
    assert (e.agreed, e.reviewed, e.decisions) == (4 + 5, 4 + 2 + 5, 4 + 2 + 5)


def test_on_the_day_of_a_demotion_only_decisions_at_the_new_level_count(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 80, mode="auto_notify")
        .reviewed(10, c, 0, 5, mode="auto_notify")  # 00:00-00:04 on day 10, the old level
        .reviewed(10.5, c, 3, 2, mode="suggest")  # noon on day 10, at the new level
        .reviewed(11, c, 4, mode="suggest")
    )
    v = verdict(run(tmp_path, log, as_of=day(20)), c)
    assert v.state.last_demoted == day(10, 4 * 60)
    for e in (v.state.evidence, v.state.demotion_evidence):
        assert (e.counted_from, e.counted_from_reason) == (day(10), "last demotion")
        assert (e.reset, e.level_day) == (True, True)
        # the five rejections at auto_notify on day 10 do not count; the rest of day 10
        # (at suggest) and day 11 do
        assert (e.agreed, e.reviewed, e.decisions) == (3 + 4, 3 + 2 + 4, 3 + 2 + 4)
    assert reason_text(v.reason).endswith(
        "; evidence counted from 2026-01-11, the day of the last demotion "
        "(that day only its decisions at suggest)"
    )


def test_on_the_day_of_a_promotion_the_demotion_record_counts_the_new_level_only(
    tmp_path: Path,
) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 60, mode="suggest")
        .reviewed(5, c, 0, 4, mode="suggest")  # the morning of day 5, the old level
        .reviewed(5.5, c, 10, mode="auto_notify")  # promoted at noon on day 5
        .reviewed(6, c, 0, 2, mode="auto_notify")
    )
    state = verdict(run(tmp_path, log, as_of=day(7)), c).state
    assert state.last_promoted == day(5.5)
    record = state.demotion_evidence
    assert (record.counted_from, record.counted_from_reason) == (day(5), "last promotion")
    assert (record.reset, record.level_day) == (True, True)
    assert (record.agreed, record.reviewed) == (10, 10 + 2)
    # a promotion does not restart the promotion clock: everything in the window counts
    e = state.evidence
    assert e.counted_from_reason.startswith("window start")
    assert (e.reset, e.level_day) == (False, False)
    assert (e.agreed, e.reviewed) == (60 + 10, 60 + 4 + 10 + 2)


def test_clock_restarts_after_a_demotion_in_the_previous_policy(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 30).reviewed(5, c, 7, 1)
    previous = previous_policy(
        tmp_path,
        [{"action_class": c, "level": "suggest", "last_demoted": day(3)}],
        as_of=day(3),
    )
    e = _evidence(tmp_path, log, previous=previous, as_of=day(10))
    assert (e.agreed, e.reviewed) == (7, 8)
    assert (e.counted_from, e.counted_from_reason) == (day(3), "last demotion")
    assert (e.reset, e.level_day) == (True, True)


def test_on_the_day_of_a_demotion_in_the_previous_policy_its_level_counts(
    tmp_path: Path,
) -> None:
    # The previous policy demoted the class to suggest at noon on day 3; the platform
    # applied it during the afternoon. Of day 3, only the decisions at suggest count,
    # whatever the log's own history says.
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 60, mode="auto_notify")
        .reviewed(3, c, 0, 3, mode="auto_notify")  # before the demotion
        .reviewed(3.6, c, 0, 1, mode="auto_notify")  # after it, not yet applied
        .reviewed(3.75, c, 2, 1, mode="suggest")
        .reviewed(4, c, 5, mode="suggest")
    )
    demoted = day(3.5)
    previous = previous_policy(
        tmp_path,
        [{"action_class": c, "level": "suggest", "since": demoted, "last_demoted": demoted}],
        as_of=demoted,
    )
    state = verdict(run(tmp_path, log, previous=previous, as_of=day(6)), c).state
    assert state.current.value == "suggest"
    for e in (state.evidence, state.demotion_evidence):
        assert (e.counted_from, e.counted_from_reason) == (day(3), "last demotion")
        assert (e.reset, e.level_day) == (True, True)
        assert (e.agreed, e.reviewed, e.decisions) == (2 + 5, 2 + 1 + 5, 2 + 1 + 5)


def test_clock_restarts_after_a_critical_failure_from_the_next_day(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .clean(1, c, 40)
        .add(2, c, human="approved", outcome="failure", severity="critical")
        .clean(3, c, 6)
    )
    e = _evidence(tmp_path, log, as_of=day(10))
    assert (e.counted_from, e.counted_from_reason) == (day(3), "last critical failure")
    assert (e.reset, e.level_day) == (True, False)
    assert (e.agreed, e.reviewed, e.succeeded, e.verified) == (6, 6, 6, 6)


def test_a_critical_failure_mid_day_excludes_the_rest_of_that_day(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .clean(1, c, 40)
        .clean(2, c, 5)  # the morning of the failure's day
        .add(2.5, c, human="approved", outcome="failure", severity="critical")  # noon
        .clean(2.75, c, 7)  # the evening after it: not counted either
        .clean(3, c, 4)
    )
    state = verdict(run(tmp_path, log, as_of=day(10)), c).state
    assert state.last_critical_failure == day(2.5)
    e = state.evidence
    assert (e.counted_from, e.counted_from_reason) == (day(3), "last critical failure")
    assert (e.reset, e.level_day) == (True, False)
    assert (e.decisions, e.agreed, e.reviewed, e.succeeded, e.verified) == (4, 4, 4, 4, 4)


def test_a_critical_failure_restarts_the_clock_after_the_day_it_was_recorded(
    tmp_path: Path,
) -> None:
    # Decision "late" is proposed on day 2; its critical failure is recorded at noon on
    # day 4 by a second event row. The clock counts from day 5, not from day 3.
    c = "k8s.restart_pod"
    log = LogBuilder().clean(1, c, 40)
    proposal = {**log.rows[-1], "decision_id": "late", "timestamp": iso(day(2))}
    proposal.update(human_decision="", outcome="", reviewer="")
    outcome = {**proposal, "timestamp": iso(day(4.5))}
    outcome.update(outcome="failure", severity="critical")
    log.rows += [proposal, outcome]
    log.clean(3, c, 6).clean(4.75, c, 2).clean(5, c, 3)
    state = verdict(run(tmp_path, log, as_of=day(10)), c).state
    assert (state.last_critical_failure, state.last_critical_decision) == (day(4.5), "late")
    e = state.evidence
    assert (e.counted_from, e.counted_from_reason) == (day(5), "last critical failure")
    assert (e.decisions, e.agreed, e.reviewed) == (3, 3, 3)


def test_clock_counts_from_the_day_after_the_new_agent_version(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 70, 1, agent_version="v1")
        .reviewed(5, c, 4, 3, agent_version="v2")  # v2's first day: not counted
        .reviewed(6, c, 12, 2, agent_version="v2")
    )
    state = verdict(run(tmp_path, log, as_of=day(10)), c).state
    assert (state.agent_version, state.agent_version_since) == ("v2", day(5))
    e = state.evidence
    assert (e.counted_from, e.counted_from_reason) == (day(6), "change to agent version v2")
    assert (e.reset, e.level_day) == (True, False)
    assert (e.agreed, e.reviewed) == (12, 14)


def test_a_rollback_to_an_earlier_agent_version_restarts_the_clock(tmp_path: Path) -> None:
    # v1, then v2, then v1 again: v2's decisions are no evidence for the returned v1.
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 30, agent_version="v1")
        .reviewed(3, c, 10, 1, agent_version="v2")
        .reviewed(6, c, 3, agent_version="v1")  # the day v1 returns: not counted
        .reviewed(7, c, 7, 2, agent_version="v1")
    )
    e = _evidence(tmp_path, log, as_of=day(10))
    assert (e.counted_from, e.counted_from_reason) == (day(7), "change to agent version v1")
    assert (e.agreed, e.reviewed) == (7, 9)


def test_decisions_without_a_version_before_the_first_named_one_count_as_a_change(
    tmp_path: Path,
) -> None:
    # The log named no version until day 4: which agent decided before is unknown, and
    # unknown evidence must not count for v2.
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 20).reviewed(4, c, 2, agent_version="v2")
    log.reviewed(5, c, 6, 1, agent_version="v2")
    e = _evidence(tmp_path, log, as_of=day(10))
    assert (e.counted_from, e.counted_from_reason) == (day(5), "change to agent version v2")
    assert (e.agreed, e.reviewed) == (6, 7)


def test_agent_version_reset_can_be_switched_off(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 70, 1, agent_version="v1")
    log.reviewed(5, c, 12, 2, agent_version="v2")
    e = _evidence(tmp_path, log, as_of=day(10), rule_data={"reset_on_agent_version_change": False})
    assert e.counted_from_reason.startswith("window start")
    assert (e.agreed, e.reviewed) == (82, 85)


def test_a_single_agent_version_does_not_reset(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.restart_pod", 4, agent_version="v1")
    e = _evidence(tmp_path, log, as_of=day(10))
    assert e.counted_from_reason.startswith("window start")
    assert e.reviewed == 4


def test_agent_version_taken_from_the_latest_decision_that_names_one(tmp_path: Path) -> None:
    # an event row without a version must not hide the change to v2
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 70, agent_version="v1")
    log.reviewed(5, c, 3, agent_version="v2").reviewed(6, c, 4, agent_version="v2")
    log.reviewed(7, c, 2)
    v = verdict(run(tmp_path, log, as_of=day(10)), c)
    assert v.state.agent_version == "v2"
    assert (v.state.evidence.counted_from, v.state.evidence.reviewed) == (day(6), 4 + 2)


def test_the_latest_clock_start_wins(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = (
        LogBuilder()
        .reviewed(1, c, 10, agent_version="v1")
        .reviewed(2, c, 10, agent_version="v2")
        .add(3, c, agent_version="v2", human="approved", outcome="failure", severity="critical")
        .reviewed(4, c, 5, 1, agent_version="v2")
    )
    e = _evidence(tmp_path, log, as_of=day(10))
    assert (e.counted_from, e.counted_from_reason) == (day(4), "last critical failure")
    assert (e.agreed, e.reviewed) == (5, 6)


def test_clock_starts_on_one_day_are_compared_as_instants(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    # A critical failure at 06:00, then the demotion (the last decision at auto_notify, at
    # 12:01): the demotion is later, so the clock counts day 3's decisions at suggest.
    log = (
        LogBuilder()
        .reviewed(1, c, 60, mode="auto_notify")
        .add(3.25, c, mode="auto_notify", human="approved", outcome="failure", severity="critical")
        .reviewed(3.5, c, 0, 2, mode="auto_notify")
        .reviewed(3.75, c, 4, mode="suggest")
        .reviewed(4, c, 5, mode="suggest")
    )
    state = verdict(run(tmp_path, log, as_of=day(10)), c).state
    assert (state.last_critical_failure, state.last_demoted) == (day(3.25), day(3.5, 60))
    e = state.evidence
    assert (e.counted_from, e.counted_from_reason) == (day(3), "last demotion")
    assert (e.reset, e.level_day) == (True, True)
    assert (e.agreed, e.reviewed) == (4 + 5, 4 + 5)
    # The demotion at 06:00, then a critical failure at noon: the failure is later, so
    # nothing of day 3 counts, at whatever level.
    log = (
        LogBuilder()
        .reviewed(1, c, 60, mode="auto_notify")
        .reviewed(3.25, c, 0, 1, mode="auto_notify")
        .reviewed(3.375, c, 3, mode="suggest")
        .add(3.5, c, mode="suggest", human="approved", outcome="failure", severity="critical")
        .reviewed(3.75, c, 2, mode="suggest")
        .reviewed(4, c, 5, mode="suggest")
    )
    state = verdict(run(tmp_path, log, as_of=day(10)), c).state
    assert (state.last_demoted, state.last_critical_failure) == (day(3.25), day(3.5))
    e = state.evidence
    assert (e.counted_from, e.counted_from_reason) == (day(4), "last critical failure")
    assert (e.reset, e.level_day) == (True, False)
    assert (e.agreed, e.reviewed) == (5, 5)


# --- groups, tiers, previous ------------------------------------------------------------------


def test_tiers_of_a_group(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().add(1, c, system_tier=1).add(2, c, system_tier=3).add(3, c, risk_tier=3)
    state = verdict(run(tmp_path, log), c).state
    assert state.system_tiers == frozenset({1, 3})
    # the column wins over the pattern (k8s.restart_pod is tier 1 by pattern)
    assert state.risk_tiers == frozenset({1, 3})


def test_group_by_system_tier_splits_groups(tmp_path: Path) -> None:
    c = "k8s.restart_pod"
    log = LogBuilder().reviewed(1, c, 3, system_tier=1).reviewed(2, c, 4, 1, system_tier=2)
    log.reviewed(3, c, 5)
    evaluation = run(
        tmp_path, log, rule_data={"group_by": ["action_class", "system_tier"]}, as_of=day(5)
    )
    keys = {
        v.state.key: (v.state.evidence.agreed, v.state.evidence.reviewed)
        for v in evaluation.verdicts
    }
    assert keys == {(c, 0): (5, 5), (c, 1): (3, 3), (c, 2): (4, 5)}
    assert [a.get("system_tier") for a in evaluation.policy["actions"]] == [None, 1, 2]


@pytest.mark.parametrize("key", ["service", "agent_version"])
def test_group_by_text_keys(tmp_path: Path, key: str) -> None:
    c = "k8s.restart_pod"
    b: dict[str, Any] = {key: "b"}
    a: dict[str, Any] = {key: "a"}
    log = LogBuilder().reviewed(1, c, 3, **b).reviewed(2, c, 4, 1, **a)
    evaluation = run(tmp_path, log, rule_data={"group_by": ["action_class", key]}, as_of=day(5))
    got = {v.state.key: v.state.evidence.reviewed for v in evaluation.verdicts}
    assert got == {(c, "a"): 5, (c, "b"): 3}


def test_groups_only_in_the_previous_policy_are_kept(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.restart_pod", 3)
    previous = previous_policy(
        tmp_path,
        [{"action_class": "cache.flush", "level": "auto_notify", "since": day(-20)}],
        as_of=day(0),
    )
    evaluation = run(tmp_path, log, previous=previous, as_of=day(5))
    kept = verdict(evaluation, "cache.flush")
    assert kept.level.value == "auto_notify"
    assert kept.change == "unchanged"
    assert kept.state.evidence.decisions == 0
    assert verdict(evaluation, "k8s.restart_pod").change == "new"
    assert entry(evaluation, "cache.flush")["since"] == iso(day(-20))


def test_a_kept_group_keyed_by_system_tier_keeps_its_tier_cap(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, "k8s.restart_pod", 3, system_tier=1)
    previous = previous_policy(
        tmp_path,
        [
            {"action_class": "k8s.restart_pod", "system_tier": 1, "level": "suggest"},
            {"action_class": "cache.flush", "system_tier": 4, "level": "suggest"},
        ],
        as_of=day(0),
        group_by=("action_class", "system_tier"),
    )
    evaluation = run(
        tmp_path,
        log,
        previous=previous,
        as_of=day(5),
        rule_data={"group_by": ["action_class", "system_tier"]},
    )
    kept = verdict(evaluation, "cache.flush")
    assert kept.state.system_tiers == frozenset({4})
    assert (kept.level.value, kept.limited_by) == ("observe", "cap:system_tier=4")


def test_as_of_before_every_decision_is_an_error_not_an_empty_policy(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(10, "k8s.restart_pod", 3)
    with pytest.raises(
        InputError, match=r"no decision in the 180d window .* \(3 decision\(s\) are later\)"
    ):
        run(tmp_path, log, as_of=day(1))


def test_as_of_before_every_decision_keeps_previous_groups(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(10, "k8s.restart_pod", 3)
    previous = previous_policy(
        tmp_path, [{"action_class": "k8s.scale", "level": "full"}], as_of=day(0)
    )
    evaluation = run(tmp_path, log, as_of=day(1), previous=previous)
    assert [(v.state.key, v.level.value) for v in evaluation.verdicts] == [(("k8s.scale",), "full")]
