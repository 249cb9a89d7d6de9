"""``agent_version_change: probation``: a group at ``full`` whose agent version changes drops to
``auto_notify`` until the new version's own record passes the ``full`` gates.

Bounds are computed here with ``scipy.stats.beta`` (one-sided 95% Clopper-Pearson), never
with trustctl's own functions.
"""

from __future__ import annotations

from pathlib import Path

from clirun import failure, ok
from clirun import run as cli
from logbuilder import LogBuilder, day, entry, previous_policy, run, save, verdict
from scipy.stats import beta

from trustctl.policy_model import Policy
from trustctl.reasons import check_text
from trustctl.verdict import Demoted, MinDecisions, NewVersion

POD = "k8s.restart_pod"  # risk tier 1: full is allowed
PROBATION = {"agent_version_change": "probation", "approval": {"required_for": []}}


def lower(k: int, n: int) -> float:
    return 0.0 if k == 0 else float(beta.ppf(0.05, k, n - k + 1))


def _at_full(tmp_path: Path, v2_clean: int) -> tuple[LogBuilder, Policy]:
    """v1 earned full long ago; v2 takes over on day 20 with ``v2_clean`` clean decisions."""
    log = LogBuilder().clean(1, POD, 400, mode="full", agent_version="v1", spacing=600)
    log.clean(20, POD, v2_clean, mode="full", agent_version="v2", spacing=1800)
    previous = previous_policy(
        tmp_path, [{"action_class": POD, "level": "full", "since": day(0)}], as_of=day(10)
    )
    return log, previous


def test_a_new_version_at_full_drops_to_auto_notify_naming_both_versions(tmp_path: Path) -> None:
    log, previous = _at_full(tmp_path, 120)
    kept = run(tmp_path, log, previous=previous, as_of=day(27))
    assert (verdict(kept, POD).level.value, verdict(kept, POD).change) == ("full", "unchanged")

    evaluation = run(tmp_path, log, rule_data=PROBATION, previous=previous, as_of=day(27))
    v = verdict(evaluation, POD)
    assert (v.level.value, v.change) == ("auto_notify", "demoted")
    assert isinstance(v.reason, Demoted)
    check = v.reason.check
    assert check.rule == "agent_version_change" and not check.passed
    assert isinstance(check.finding, NewVersion)
    assert (check.finding.previous, check.finding.version) == ("v1", "v2")
    # v2's own record: its decisions from the first whole UTC day after it took over
    # (48 a day, 120 from day 20 00:00: 72 counted) fall short of 200 executions.
    failing = {c.rule: c for c in check.finding.gates if not c.passed}
    assert set(failing) == {"promote.full.success.min_decisions", "promote.full.success.threshold"}
    count = failing["promote.full.success.min_decisions"].finding
    assert isinstance(count, MinDecisions) and count.n == 72
    reason = entry(evaluation, POD)["reason"]
    assert reason.startswith(
        "demoted full → auto_notify: agent version changed from v1 to v2 on 2026-01-21T00:00:00Z"
    )
    assert "v2's own record does not pass the full gates yet" in reason
    assert check_text(check) in reason


def test_a_new_version_whose_own_record_passes_the_full_gates_keeps_full(tmp_path: Path) -> None:
    # 300 clean executions counted (348 from day 20, 48 a day): 299 of 299 is the least that
    # reaches 0.99.
    assert lower(299, 299) >= 0.99 > lower(298, 298)
    log, previous = _at_full(tmp_path, 348)
    evaluation = run(tmp_path, log, rule_data=PROBATION, previous=previous, as_of=day(30))
    v = verdict(evaluation, POD)
    assert (v.level.value, v.change) == ("full", "unchanged")
    [check] = [c for c in v.checks if c.rule == "agent_version_change"]
    assert check.passed
    assert "v2's own record passes the full gates" in check_text(check)


def test_probation_ends_by_an_ordinary_promotion_on_the_new_version(tmp_path: Path) -> None:
    log, previous = _at_full(tmp_path, 120)
    dropped = run(tmp_path, log, rule_data=PROBATION, previous=previous, as_of=day(27))
    assert verdict(dropped, POD).level.value == "auto_notify"
    log.clean(28, POD, 300, mode="auto_notify", agent_version="v2", spacing=600)
    back = run(tmp_path, log, rule_data=PROBATION, previous=save(tmp_path, dropped), as_of=day(35))
    v = verdict(back, POD)
    assert (v.level.value, v.change) == ("full", "promoted")
    # Earned on v2's record: the next run at full judges no probation again.
    again = run(tmp_path, log, rule_data=PROBATION, previous=save(tmp_path, back), as_of=day(36))
    assert verdict(again, POD).level.value == "full"
    assert not [c for c in verdict(again, POD).checks if c.rule == "agent_version_change"]


def test_explain_shows_the_probation_check(tmp_path: Path) -> None:
    log, _ = _at_full(tmp_path, 120)
    logs = log.write(tmp_path / "decisions.csv")
    rules = tmp_path / "rules.yaml"
    rules.write_text("agent_version_change: probation\n")
    (tmp_path / "previous.yaml").rename(tmp_path / "early.yaml")
    out = ok(
        "explain",
        POD,
        logs,
        "--rules",
        rules,
        "--previous",
        tmp_path / "early.yaml",
        "--as-of",
        "2026-01-28",
    ).stdout
    assert "agent_version_change" in out and "DEMOTES" in out
    assert "from v1 to v2" in out


def test_probation_without_full_gates_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("agent_version_change: probation\npromote:\n  full: null\n")
    assert "agent_version_change: probation judges" in failure(cli("validate", "--rules", rules))
