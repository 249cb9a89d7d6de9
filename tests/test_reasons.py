"""The English of verdicts (``trustctl.reasons``) and how numbers are shown (``trustctl.numbers``).

Each finding, reason and need is built as data and its words compared whole: the
policy, ``check``, the tables and ``explain`` all take their text from here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from trustctl import numbers
from trustctl.evidence import Evidence
from trustctl.levels import Level
from trustctl.reasons import finding_text, need_text, needs_text, reason_text
from trustctl.rules import Pin
from trustctl.verdict import (
    AtTop,
    Bound,
    Cap,
    CapBinds,
    CappedAt,
    CappedDown,
    Check,
    CooldownBlocks,
    CooldownEnds,
    CooldownRule,
    CriticalFailure,
    Demoted,
    Finding,
    GatesFail,
    MinDecisions,
    MoreClean,
    MoreVerified,
    Need,
    Next,
    NotConfigured,
    NoUnverifiedAllowed,
    PinExpired,
    Pinned,
    PinnedBy,
    Promoted,
    Stays,
    Unreachable,
    Unverified,
)

UTC = dt.timezone.utc
T1 = dt.datetime(2026, 1, 5, tzinfo=UTC)
T2 = dt.datetime(2026, 1, 12, 6, 30, tzinfo=UTC)
SUG, AUTO, FULL = Level.SUGGEST, Level.AUTO_NOTIFY, Level.FULL
CAP2 = Cap(AUTO, "cap:risk_tier=2")

COUNT_OK = Check(
    "promote.auto_notify.agreement.min_decisions", True, MinDecisions("agreement", 64, 50)
)
BOUND_OK = Check(
    "promote.auto_notify.agreement.threshold",
    True,
    Bound("agreement", 64, 64, 0.95, "lower", 0.954276, 0.95),
)
BOUND_LOW = Check(
    "promote.auto_notify.agreement.threshold",
    False,
    Bound("agreement", 63, 64, 0.95, "lower", 0.9284, 0.95),
)


def window(reset: bool = False, level_day: bool = False) -> Evidence:
    return Evidence(
        decisions=64,
        reviewed=64,
        agreed=63,
        timeouts=0,
        executed=0,
        verified=0,
        succeeded=0,
        unverified=0,
        counted_from=T1,
        counted_from_reason="last demotion" if reset else "window start (180d before as_of)",
        reset=reset,
        level_day=level_day,
    )


FINDINGS: list[tuple[Finding, bool, str]] = [
    (MinDecisions("agreement", 49, 50), False, "49 reviewed < 50 needed"),
    (MinDecisions("success", 200, 200), True, "200 verified ≥ 200 needed"),
    (
        Bound("agreement", 58, 58, 0.95, "lower", 0.94966, 0.95),
        False,
        "58 of 58 reviewed approved (100.0%); 95% lower bound 0.949 < 0.95",
    ),
    (
        Bound("agreement", 10, 10, 0.95, "lower", 0.95052, 0.9505),
        True,
        "10 of 10 reviewed approved (100.0%); 95% lower bound 0.9505 ≥ 0.9505",
    ),
    (
        Bound("success", 280, 300, 0.9, "upper", 0.95123, 0.97),
        False,
        "280 of 300 verified succeeded (93.3%); 90% upper bound 0.952 < 0.97",
    ),
    (
        Unverified(16, 316, 0.05),
        False,
        "16 of 316 executed actions unverified (5.1%) > 5% allowed",
    ),
    (Unverified(0, 0, 0.05), False, "no executed actions: the unverified share is unknown"),
    (
        CriticalFailure("d-9", T2, None, None),
        False,
        "critical failure on decision d-9 at 2026-01-12T06:30:00Z",
    ),
    (
        CriticalFailure("d-9", T1, T2, None),
        True,
        "critical failure on decision d-9 at 2026-01-05T00:00:00Z; "
        "already answered by the demotion of 2026-01-12T06:30:00Z",
    ),
    (
        CriticalFailure("d-9", T1, None, T2),
        True,
        "critical failure on decision d-9 at 2026-01-05T00:00:00Z; "
        "before the last promotion on 2026-01-12T06:30:00Z",
    ),
    (
        CooldownRule(T1, "7d", T1 + dt.timedelta(days=7)),
        False,
        "last level change 2026-01-05T00:00:00Z; the 7d cooldown ends 2026-01-12T00:00:00Z",
    ),
]


@pytest.mark.parametrize(("finding", "passed", "text"), FINDINGS)
def test_findings(finding: Finding, passed: bool, text: str) -> None:
    assert finding_text(finding, passed) == text


PIN = Pin(action_class="k8s.*", level=Level.FULL, reason="drill", owner="sre", expires=None)
OLD_PIN = Pin(
    action_class="k8s.*", level=SUG, reason="freeze", owner="sre", expires=dt.date(2026, 1, 1)
)

REASONS = [
    (Stays(FULL, AtTop(), window()), "stays at full: already at the top"),
    (
        Stays(SUG, NotConfigured(AUTO), window(reset=True)),
        "stays at suggest: promote.auto_notify is not configured; evidence counted from "
        "2026-01-05, the first whole UTC day after the last demotion",
    ),
    (
        Stays(SUG, GatesFail(AUTO, (BOUND_LOW,)), window(reset=True, level_day=True)),
        "stays at suggest: 63 of 64 reviewed approved (98.4%); 95% lower bound 0.928 < 0.95 "
        "(needed for auto_notify); evidence counted from 2026-01-05, the day of the last "
        "demotion (that day only its decisions at suggest)",
    ),
    (
        Stays(AUTO, CapBinds(CAP2, FULL, ()), window()),
        "stays at auto_notify: risk_tier=2 allows at most auto_notify; the gates for full pass",
    ),
    (
        Stays(SUG, CapBinds(Cap(SUG, "cap:risk_tier=3"), AUTO, (BOUND_LOW,)), window()),
        "stays at suggest: risk_tier=3 allows at most suggest; 63 of 64 reviewed approved "
        "(98.4%); 95% lower bound 0.928 < 0.95 (needed for auto_notify)",
    ),
    (
        Promoted(SUG, AUTO, (COUNT_OK, BOUND_OK)),
        "promoted suggest → auto_notify: 64 of 64 reviewed approved (100.0%); 95% lower bound "
        "0.954 ≥ 0.95; 64 reviewed ≥ 50 needed",
    ),
    (
        CooldownBlocks(SUG, AUTO, (COUNT_OK, BOUND_OK), CooldownRule(T1, "7d", T2)),
        "stays at suggest: the gates for auto_notify pass (64 of 64 reviewed approved (100.0%); "
        "95% lower bound 0.954 ≥ 0.95), but the last level change was on "
        "2026-01-05T00:00:00Z; the 7d cooldown ends 2026-01-12T06:30:00Z",
    ),
    (
        Demoted(
            FULL,
            SUG,
            Check("demote.critical_failure_to", False, CriticalFailure("d-9", T2, None, None)),
            after_promotion=T1,
        ),
        "demoted full → suggest: critical failure on decision d-9 at 2026-01-12T06:30:00Z, "
        "after the last promotion on 2026-01-05T00:00:00Z",
    ),
    (
        CappedDown(FULL, CAP2, Stays(FULL, AtTop(), window())),
        "demoted full → auto_notify: risk_tier=2 allows at most auto_notify "
        "(evidence: stays at full: already at the top)",
    ),
    (
        Pinned(PIN, AUTO, CAP2, SUG),
        "pinned at full by sre: drill (held at auto_notify by risk_tier=2); "
        "the evidence alone gives suggest",
    ),
    (
        PinExpired(Stays(FULL, AtTop(), window()), OLD_PIN),
        "stays at full: already at the top (pin by sre expired on 2026-01-01T00:00:00Z; ignored)",
    ),
]


@pytest.mark.parametrize(("reason", "text"), REASONS)
def test_reasons(reason: object, text: str) -> None:
    assert reason_text(reason) == text  # type: ignore[arg-type]


NEEDS: list[tuple[Need, str]] = [
    (PinnedBy("sre"), "pinned by sre; the pin must be removed or expire"),
    (AtTop(), "already at the top of the ladder"),
    (CappedAt(CAP2), "capped at auto_notify by risk_tier=2"),
    (NotConfigured(FULL), "no promotion to full is configured (promote.full)"),
    (Unreachable("success"), "the success gate cannot be reached by clean decisions"),
    (NoUnverifiedAllowed(), "unverified actions exist and max_unverified is 0"),
    (
        MoreClean("agreement", 77, 0.95, 50),
        "77 more clean approvals (agreement lower bound ≥ 0.95 over ≥ 50 reviewed)",
    ),
    (
        MoreClean("success", 3, 0.99, 200),
        "3 more verified successes (success lower bound ≥ 0.99 over ≥ 200 verified)",
    ),
    (
        MoreVerified(12, 0.05),
        "12 more verified executions to bring the unverified share to ≤ 5%",
    ),
    (CooldownEnds(T2), "the cooldown to end on 2026-01-12T06:30:00Z"),
]


@pytest.mark.parametrize(("need", "text"), NEEDS)
def test_needs(need: Need, text: str) -> None:
    assert need_text(need) == text


def test_needs_are_joined_and_nothing_means_the_gates_pass() -> None:
    step = Next(AUTO, (MoreClean("agreement", 77, 0.95, 50), CooldownEnds(T2)), 77)
    assert needs_text(step) == "; ".join(need_text(n) for n in step.needs)
    assert needs_text(Next(AUTO, (), 0)) == "nothing more: the gates pass"


# --- numbers ---------------------------------------------------------------------------------


def test_bounds_are_rounded_outwards() -> None:
    assert numbers.outward(0.9499999, lower=True) == 0.949999
    assert numbers.outward(0.9499991, lower=False) == 0.95
    assert numbers.bound_text(0.94966, 3, lower=True) == "0.949"
    assert numbers.bound_text(0.94911, 3, lower=False) == "0.950"
    assert numbers.rounded(1 / 3) == 0.333333 and numbers.rounded(None) is None


def test_a_bound_is_shown_on_its_side_of_the_threshold() -> None:
    assert numbers.bound_against(0.94966, 0.95, lower=True) == "0.949"
    assert numbers.bound_against(0.95052, 0.9505, lower=True) == "0.9505"  # not 0.950 < 0.9505
    assert numbers.bound_against(0.89996, 0.9, lower=False) == "0.89996"  # not 0.900 ≥ 0.9


def test_percentages() -> None:
    assert (numbers.percent(1, 3), numbers.percent(0, 0)) == ("33.3%", "n/a")
    assert (numbers.share_text(0.05), numbers.confidence_text(0.975)) == ("5%", "97.5%")
