"""``decide`` on constructed group states: each rule, each direction, as data (table-driven).

Moved here from ``test_decide.py`` (which ran each through a written log): the gate at
59 and 58 of 58, ``min_decisions`` both ways, the success and unverified gates of
``full``, its agreement gate, and a pin held at the cap.

No log is written or read: a ``GroupState`` is built with exactly the counts, tiers and
dates a rule looks at, and the verdict's level, change, ``limited_by``, reason and the
check of that rule are compared with the expectation. The bounds a row relies on are
checked first with ``scipy.stats.beta`` (one-sided 95% Clopper-Pearson), never with
trustctl's own functions. ``test_decide.py`` keeps the end-to-end cases (logs in).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from logbuilder import rules
from scipy.stats import beta

from trustctl.decide import decide
from trustctl.evidence import Evidence, GroupState
from trustctl.levels import Level
from trustctl.reasons import check_text, needs_text, reason_text
from trustctl.verdict import (
    CapBinds,
    CappedDown,
    CooldownBlocks,
    Demoted,
    GatesFail,
    PinExpired,
    Pinned,
    Promoted,
    Stays,
    Verdict,
)

AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
#: promote.full with unverified outcomes left out of the success rate (the old default).
EXCLUDE: dict[str, Any] = {
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
POD = "k8s.restart_pod"  # risk tier 1: no cap below full
OBS, SUG, AUTO, FULL = Level.OBSERVE, Level.SUGGEST, Level.AUTO_NOTIFY, Level.FULL


def lower(k: int, n: int) -> float:
    return 0.0 if k == 0 else float(beta.ppf(0.05, k, n - k + 1))


def upper(k: int, n: int) -> float:
    return 1.0 if k == n else float(beta.ppf(0.95, k + 1, n - k))


def days_ago(days: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def evidence(
    agreed: int = 0,
    reviewed: int = 0,
    succeeded: int = 0,
    verified: int = 0,
    unverified: int = 0,
) -> Evidence:
    """Counts on a window clock; every verified or unverified action was executed."""
    return Evidence(
        decisions=max(reviewed, verified + unverified),
        reviewed=reviewed,
        agreed=agreed,
        timeouts=0,
        executed=verified + unverified,
        verified=verified,
        succeeded=succeeded,
        unverified=unverified,
        counted_from=days_ago(180),
        counted_from_reason="window start (180d before as_of)",
    )


def state(
    current: Level,
    promotion: Evidence,
    record: Evidence | None = None,
    *,
    action_class: str = POD,
    risk_tiers: frozenset[int] = frozenset({1}),
    system_tiers: frozenset[int] = frozenset(),
    last_promoted: dt.datetime | None = None,
    last_demoted: dt.datetime | None = None,
    critical: dt.datetime | None = None,
) -> GroupState:
    return GroupState(
        key=(action_class,),
        current=current,
        current_source="log",
        level_since=None,
        last_promoted=last_promoted,
        last_demoted=last_demoted,
        evidence=promotion,
        demotion_evidence=promotion if record is None else record,
        critical_failures=0 if critical is None else 1,
        last_critical_failure=critical,
        last_critical_decision=None if critical is None else "d-crit",
        system_tiers=system_tiers,
        risk_tiers=risk_tiers,
        agent_version=None,
        agent_version_since=None,
    )


@dataclass(frozen=True)
class Case:
    """One row: a state under some rules, and what the verdict must be."""

    name: str
    state: GroupState
    level: Level
    reason: type
    """The type of ``verdict.reason``."""
    limited_by: str | None = None
    rule: str | None = None
    """The rule whose check decides the row, and ``passed`` its expected result."""
    passed: bool | None = None
    rule_data: dict[str, Any] = field(default_factory=dict)
    in_previous: bool | None = None


FULL_AGREEMENT = evidence(100, 100)
CLEAN_FULL = evidence(100, 100, 300, 300)
PINS = [
    {"action_class": POD, "level": "observe", "reason": "freeze", "owner": "sre"},
    {"action_class": "db.*", "level": "full", "reason": "drill", "owner": "dba"},
    {
        "action_class": "old.*",
        "level": "observe",
        "reason": "x",
        "owner": "o",
        "expires": "2026-02-01",
    },
    {"action_class": "end.*", "level": "observe", "reason": "x", "owner": "o", "expires": AS_OF},
]

CASES = [
    # promote.suggest (observe → suggest): 30 reviewed, lower bound ≥ 0.8
    Case("suggest gate passes", state(OBS, evidence(30, 30)), SUG, Promoted),
    Case(
        "suggest gate: too few",
        state(OBS, evidence(29, 29)),
        OBS,
        Stays,
        "insufficient_data",
        "promote.suggest.agreement.min_decisions",
        False,
    ),
    Case(
        "suggest gate: bound too low",
        state(OBS, evidence(24, 30)),
        OBS,
        Stays,
        None,
        "promote.suggest.agreement.threshold",
        False,
    ),
    # promote.auto_notify: 50 reviewed, lower bound ≥ 0.95
    Case("auto_notify gate passes at 59 of 59", state(SUG, evidence(59, 59)), AUTO, Promoted),
    Case(
        "auto_notify gate fails at 58 of 58",
        state(SUG, evidence(58, 58)),
        SUG,
        Stays,
        None,
        "promote.auto_notify.agreement.threshold",
        False,
    ),
    Case(
        "min_decisions passes at 50",
        state(SUG, evidence(50, 50)),
        AUTO,
        Promoted,
        None,
        "promote.auto_notify.agreement.min_decisions",
        True,
        {"promote": {"auto_notify": {"agreement": {"min_decisions": 50, "threshold": 0.93}}}},
    ),
    Case(
        "min_decisions fails at 49 though the bound passes",
        state(SUG, evidence(49, 49)),
        SUG,
        Stays,
        "insufficient_data",
        "promote.auto_notify.agreement.min_decisions",
        False,
        {"promote": {"auto_notify": {"agreement": {"min_decisions": 50, "threshold": 0.93}}}},
    ),
    Case(
        "no evidence is insufficient data",
        state(SUG, evidence()),
        SUG,
        Stays,
        "insufficient_data",
        "promote.auto_notify.agreement.threshold",
        False,
    ),
    # promote.full: agreement as above, and success: 200 verified, lower ≥ 0.99, ≤ 5% unverified
    Case("full gates pass", state(AUTO, evidence(100, 100, 299, 299)), FULL, Promoted),
    Case(
        "full: success bound fails at 298 of 298",
        state(AUTO, evidence(100, 100, 298, 298)),
        AUTO,
        Stays,
        None,
        "promote.full.success.threshold",
        False,
    ),
    Case(
        "full: 15 of 315 unverified is allowed when excluded",
        state(AUTO, evidence(100, 100, 300, 300, unverified=15)),
        FULL,
        Promoted,
        None,
        "promote.full.success.max_unverified",
        True,
        rule_data=EXCLUDE,
    ),
    Case(
        "full: 16 of 316 unverified is not",
        state(AUTO, evidence(100, 100, 300, 300, unverified=16)),
        AUTO,
        Stays,
        None,
        "promote.full.success.max_unverified",
        False,
        rule_data=EXCLUDE,
    ),
    Case(
        "full: 15 unverified counted as failures (the default): 300 of 315",
        state(AUTO, evidence(100, 100, 300, 300, unverified=15)),
        AUTO,
        Stays,
        None,
        "promote.full.success.threshold",
        False,
    ),
    Case(
        "full: agreement still needed",
        state(AUTO, evidence(58, 58, 300, 300)),
        AUTO,
        Stays,
        None,
        "promote.full.agreement.threshold",
        False,
    ),
    Case("full is the top", state(FULL, CLEAN_FULL), FULL, Stays),
    # demote.critical_failure_to: after the last promotion and not yet answered
    Case(
        "critical failure demotes",
        state(FULL, CLEAN_FULL, last_promoted=days_ago(20), critical=days_ago(2)),
        SUG,
        Demoted,
        None,
        "demote.critical_failure_to",
        False,
    ),
    Case(
        "critical failure before the promotion holds",
        state(FULL, CLEAN_FULL, last_promoted=days_ago(1), critical=days_ago(2)),
        FULL,
        Stays,
        None,
        "demote.critical_failure_to",
        True,
    ),
    Case(
        "critical failure already answered holds",
        state(SUG, evidence(58, 58), last_demoted=days_ago(1), critical=days_ago(2)),
        SUG,
        Stays,
        None,
        "demote.critical_failure_to",
        True,
    ),
    # demote.auto_notify.agreement: upper bound < 0.9 on the record at the level
    Case(
        "agreement record demotes auto_notify",
        state(AUTO, FULL_AGREEMENT, evidence(80, 100)),
        SUG,
        Demoted,
        None,
        "demote.auto_notify.agreement.threshold",
        False,
    ),
    Case(
        "agreement record holds auto_notify",
        state(AUTO, evidence(88, 100), evidence(88, 100)),
        AUTO,
        Stays,
        "insufficient_data",
        "demote.auto_notify.agreement.threshold",
        True,
    ),
    # demote.full.success: upper bound < 0.97
    Case(
        "success record demotes full",
        state(FULL, CLEAN_FULL, evidence(100, 100, 280, 300)),
        AUTO,
        Demoted,
        None,
        "demote.full.success.threshold",
        False,
    ),
    Case(
        "success record holds full",
        state(FULL, CLEAN_FULL, evidence(100, 100, 296, 300)),
        FULL,
        Stays,
        None,
        "demote.full.success.threshold",
        True,
    ),
    # cooldown: 7 days after the last level change
    Case(
        "cooldown blocks a promotion",
        state(SUG, evidence(59, 59), last_promoted=days_ago(3)),
        SUG,
        CooldownBlocks,
        "cooldown",
        "cooldown",
        False,
    ),
    Case("cooldown over", state(SUG, evidence(59, 59), last_promoted=days_ago(8)), AUTO, Promoted),
    # caps: the strictest tier
    Case(
        "risk tier 3 caps at suggest",
        state(SUG, FULL_AGREEMENT, action_class="db.migrate", risk_tiers=frozenset({3})),
        SUG,
        Stays,
        "cap:risk_tier=3",
    ),
    Case(
        "risk tier 2 caps full down to auto_notify",
        state(FULL, CLEAN_FULL, risk_tiers=frozenset({2})),
        AUTO,
        CappedDown,
        "cap:risk_tier=2",
    ),
    Case(
        "unknown risk tier counts as 3",
        state(SUG, FULL_AGREEMENT, risk_tiers=frozenset({0})),
        SUG,
        Stays,
        "cap:risk_tier=unknown",
    ),
    Case(
        "system tier 4 caps at observe",
        state(SUG, FULL_AGREEMENT, system_tiers=frozenset({1, 4})),
        OBS,
        CappedDown,
        "cap:system_tier=4",
    ),
    Case(
        "system tier 1 does not cap",
        state(SUG, evidence(59, 59), system_tiers=frozenset({1})),
        AUTO,
        Promoted,
    ),
    # pins: an active one sets the level (under the cap); an expired one is reported
    Case("active pin", state(FULL, CLEAN_FULL), OBS, Pinned, "pin", rule_data={"pins": PINS}),
    Case(
        "pin above the cap is held at the cap",
        state(SUG, FULL_AGREEMENT, action_class="db.failover", risk_tiers=frozenset({3})),
        SUG,
        Pinned,
        "cap:risk_tier=3",
        rule_data={"pins": PINS},
    ),
    Case(
        "expired pin is ignored",
        state(SUG, evidence(59, 59), action_class="old.job"),
        AUTO,
        PinExpired,
        rule_data={"pins": PINS},
    ),
    Case(
        "a pin expiring at as_of is expired",
        state(SUG, evidence(59, 59), action_class="end.job"),
        AUTO,
        PinExpired,
        rule_data={"pins": PINS},
    ),
    # change: new when absent from the previous policy
    Case(
        "absent from the previous policy",
        state(SUG, evidence(59, 59)),
        AUTO,
        Promoted,
        in_previous=False,
    ),
]


def test_the_bounds_the_table_relies_on() -> None:
    assert lower(30, 30) >= 0.8 > lower(24, 30)
    assert lower(59, 59) >= 0.95 > lower(58, 58)
    assert lower(49, 49) >= 0.93 and lower(50, 50) >= 0.93
    assert lower(299, 299) >= 0.99 > lower(298, 298)
    assert lower(300, 300) >= 0.99 and 15 / 315 <= 0.05 < 16 / 316
    assert lower(300, 315) < 0.99
    assert upper(80, 100) < 0.9 <= upper(88, 100) and lower(88, 100) < 0.95
    assert upper(280, 300) < 0.97 <= upper(296, 300)


def _verdict(case: Case) -> Verdict:
    return decide(case.state, rules(case.rule_data).rules, AS_OF, case.in_previous)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_rule_each_direction(case: Case) -> None:
    v = _verdict(case)
    assert (v.level, v.limited_by) == (case.level, case.limited_by), reason_text(v.reason)
    assert isinstance(v.reason, case.reason), v.reason
    current = case.state.current
    expected = (
        "new"
        if case.in_previous is False
        else "promoted"
        if case.level.rank > current.rank
        else "demoted"
        if case.level.rank < current.rank
        else "unchanged"
    )
    assert v.change == expected
    if case.rule is not None:
        (check,) = [c for c in v.checks if c.rule == case.rule]
        assert check.passed is case.passed, check_text(check)
    if isinstance(v.reason, Demoted):
        assert v.reason.check.rule == case.rule and v.reason.to is case.level
    if isinstance(v.reason, Stays) and case.rule is not None and case.rule.startswith("promote"):
        assert isinstance(v.reason.why, GatesFail)
        assert case.rule in {c.rule for c in v.reason.why.failing}


def test_a_cap_binding_names_the_failing_gates_too() -> None:
    v = _verdict(CASES[[c.name for c in CASES].index("risk tier 3 caps at suggest")])
    assert isinstance(v.reason, Stays) and isinstance(v.reason.why, CapBinds)
    assert v.reason.why.failing == ()  # the gates for auto_notify pass: only the cap binds
    assert reason_text(v.reason).startswith("stays at suggest: risk_tier=3 allows at most suggest")


def test_the_cooldown_end_is_data_and_words() -> None:
    v = _verdict(CASES[[c.name for c in CASES].index("cooldown blocks a promotion")])
    assert isinstance(v.reason, CooldownBlocks)
    assert v.reason.cooldown.ends == days_ago(3) + dt.timedelta(days=7)
    assert needs_text(v.next).endswith("the cooldown to end on 2026-03-05T00:00:00Z")


def test_a_demotion_restarts_the_next_step_from_zero() -> None:
    v = _verdict(CASES[[c.name for c in CASES].index("agreement record demotes auto_notify")])
    assert v.next.level is AUTO and v.next.clean_decisions_needed == 59
