"""``demote.recent``: the demotion checks also judge the record's last days, so drift after
months at a level is caught in weeks. Expected counts are counted by hand from the log."""

from __future__ import annotations

from pathlib import Path

from logbuilder import LogBuilder, day, entry, run, save, verdict

from trustctl.reasons import reason_text
from trustctl.verdict import Bound, Demoted

POD = "k8s.restart_pod"
RECENT = {"demote": {"recent": "28d"}}


def _at_full(promoted_on: int, until: int, per_day: int = 10) -> LogBuilder:
    """A class at suggest on day 1, at ``full`` from ``promoted_on``, successes every day."""
    log = LogBuilder().add(1, POD, 1, human="approved", outcome="success")
    for d in range(promoted_on, until):
        log.add(d, POD, per_day, mode="full", executed=True, outcome="success")
    return log


def test_the_recent_record_is_the_last_28_whole_utc_days(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _at_full(2, 100), rule_data=RECENT, as_of=day(100))
    state = verdict(evaluation, POD).state
    assert state.demotion_evidence.verified == 98 * 10  # days 2..99, since the promotion
    recent = state.recent_evidence
    assert recent is not None
    assert (recent.verified, recent.succeeded) == (28 * 10, 28 * 10)  # days 72..99
    assert recent.counted_from == day(72)


def test_an_as_of_within_a_day_counts_the_days_that_begin_in_the_recent_window(
    tmp_path: Path,
) -> None:
    log = _at_full(2, 101)
    evaluation = run(tmp_path, log, rule_data=RECENT, as_of=day(100, 6 * 3600))
    recent = verdict(evaluation, POD).state.recent_evidence
    assert recent is not None
    # The window starts at day 72 06:00: days 73..99, and day 100 up to 06:00 (its 10
    # decisions are a minute apart from midnight).
    assert recent.counted_from == day(73)
    assert recent.verified == 27 * 10 + 10


def test_the_recent_record_never_reaches_before_the_last_level_change(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _at_full(90, 100), rule_data=RECENT, as_of=day(100))
    state = verdict(evaluation, POD).state
    assert state.recent_evidence == state.demotion_evidence
    assert state.demotion_evidence.verified == 10 * 10


def test_without_demote_recent_there_is_no_recent_record(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _at_full(2, 100), as_of=day(100))
    assert verdict(evaluation, POD).state.recent_evidence is None


def _drifted() -> LogBuilder:
    """Half a year at ``full`` with every execution a success, then 28 days at 90%."""
    log = _at_full(2, 160)
    for d in range(160, 188):
        log.add(d, POD, 9, mode="full", executed=True, outcome="success")
        log.add(d + 0.5, POD, 1, mode="full", executed=True, outcome="failure", severity="minor")
    return log


def test_a_drop_outweighed_by_the_long_record_is_caught_by_the_recent_one(tmp_path: Path) -> None:
    as_of = day(188)
    before = verdict(run(tmp_path, _drifted(), as_of=as_of), POD)
    assert before.level.value == "full"  # 1832 of 1860 since the window start: 98.5%
    evaluation = run(tmp_path, _drifted(), rule_data=RECENT, as_of=as_of)
    after = verdict(evaluation, POD)
    assert (after.level.value, after.change) == ("auto_notify", "demoted")
    assert isinstance(after.reason, Demoted)
    finding = after.reason.check.finding
    assert isinstance(finding, Bound) and finding.recent == "28d"
    assert (finding.k, finding.n) == (252, 280)
    assert finding.value < 0.97
    text = reason_text(after.reason)
    assert text.startswith("demoted full → auto_notify: in the last 28d: 252 of 280 verified")
    recent = entry(evaluation, POD)["evidence"]["for_demotion"]["recent"]
    assert (recent["succeeded"], recent["verified"]) == (252, 280)
    assert recent["counted_from"] == "2026-06-10T00:00:00Z"  # day 160
    assert recent["success_upper"] < 0.97


def test_the_recent_record_reads_back_from_the_policy(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _drifted(), rule_data=RECENT, as_of=day(188))
    document = save(tmp_path, evaluation)
    (action,) = [a for a in document.actions if a.action_class == POD]
    assert action.evidence is not None and action.evidence.for_demotion.recent is not None
    assert action.evidence.for_demotion.recent.verified == 280


def test_policies_without_demote_recent_have_no_recent_record(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _drifted(), as_of=day(188))
    assert "recent" not in entry(evaluation, POD)["evidence"]["for_demotion"]
