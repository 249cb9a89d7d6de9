"""Properties that hold for every log: caps, one step up at most, idempotency, determinism.

Logs are random batches of decisions (class, day, mode, verdict, outcome, tiers, agent
version); the rules are the defaults or a lenient variant under which promotions happen
often. The cap each group must respect is computed here from the log, independently.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import assume, given
from hypothesis import strategies as st
from logbuilder import LogBuilder, day, load, rules, run_loaded, save
from strategies import SETTINGS, Pools, batches, log_of

from trustctl.evaluate import evaluate
from trustctl.levels import LADDER, Level
from trustctl.policy import to_yaml

CLASSES = ("k8s.restart_pod", "k8s.rollback", "db.migrate", "svc.other")
MODES = ("observe", "suggest", "auto_notify", "full")
HUMANS = ("approved", "approved", "approved", "rejected", "modified", "overridden", "timeout", "")
LENIENT: dict[str, Any] = {
    "cooldown": "1d",
    "promote": {
        "suggest": {"agreement": {"min_decisions": 3, "threshold": 0.5}},
        "auto_notify": {"agreement": {"min_decisions": 5, "threshold": 0.6}},
        "full": {
            "agreement": {"min_decisions": 5, "threshold": 0.6},
            "success": {"min_decisions": 5, "threshold": 0.6, "max_unverified": 0.5},
        },
    },
    "demote": {
        "auto_notify": {"agreement": {"threshold": 0.3}},
        "full": {"success": {"threshold": 0.3}},
    },
}
POOLS = Pools(
    classes=CLASSES,
    modes=MODES,
    humans=HUMANS,
    outcomes=("success", "success", "failure", "unknown", ""),
    severities=("", "", "minor", "critical"),
    system_tiers=(None, None, 1, 2, 3, 4),
    risk_tiers=(None, None, None, 1, 2, 3),
    spacings=(1, 60, 3600),
    days=40,
    slots_per_day=24,
    max_batches=7,
    max_count=25,
)


def _independent_caps(log: LogBuilder, rule_data: dict[str, Any], as_of: str) -> dict[str, Level]:
    """The strictest tier cap per action class over its decisions up to ``as_of``."""
    loaded = rules(rule_data).rules
    caps: dict[str, Level] = {}
    for row in log.rows:
        if row["timestamp"] > as_of:
            continue
        name = row["action_class"]
        risk = int(row["risk_tier"]) if row["risk_tier"] else None
        if risk is None:
            risk = next(
                (e.tier for e in loaded.risk_tiers if fnmatch.fnmatchcase(name, e.pattern)), 3
            )
        limit = loaded.caps.risk_tier[risk]  # type: ignore[index]
        if row["system_tier"]:
            tier_cap = loaded.caps.system_tier[int(row["system_tier"])]  # type: ignore[index]
            limit = min(limit, tier_cap, key=lambda level: level.rank)
        caps[name] = min(caps.get(name, Level.FULL), limit, key=lambda level: level.rank)
    return caps


def _latest_modes(log: LogBuilder, as_of: str) -> dict[str, str]:
    rows = sorted(
        (r for r in log.rows if r["timestamp"] <= as_of),
        key=lambda r: (r["timestamp"], r["decision_id"]),
    )
    return {r["action_class"]: r["mode"] for r in rows}


@SETTINGS
@given(spec=batches(POOLS), as_of_day=st.integers(5, 45), lenient=st.booleans())
def test_caps_one_step_up_and_idempotency(
    tmp_path: Path, spec: Any, as_of_day: int, lenient: bool
) -> None:
    rule_data = LENIENT if lenient else {}
    log = log_of(spec)
    decisions = load(tmp_path, log)
    as_of = day(as_of_day)
    as_of_text = as_of.strftime("%Y-%m-%dT%H:%M:%SZ")
    # No decision up to as_of is an error (tested elsewhere), not a policy to check.
    assume(bool((decisions.frame["timestamp"] <= pd.Timestamp(as_of)).any()))
    first = run_loaded(decisions, rule_data=rule_data, as_of=as_of)
    caps = _independent_caps(log, rule_data, as_of_text)
    modes = _latest_modes(log, as_of_text)
    for v in first.verdicts:
        name = str(v.state.key[0])
        # (1) never above the cap of any tier its decisions touch
        assert v.level.rank <= caps[name].rank, (name, v.level, caps[name], v.reason)
        assert v.level.rank <= v.cap.level.rank
        # without --previous the starting level is the mode of the latest decision
        assert v.previous_level.value == modes[name]
        # (2) at most one step up per run
        assert v.level.rank <= v.previous_level.rank + 1, v.reason
        if v.level.rank > v.previous_level.rank:
            at_cap = v.level is v.cap.level and v.cap.limited_by is not None
            assert v.change == "promoted"
            assert v.limited_by == (v.cap.limited_by if at_cap else None)
        assert (v.next.level is None) or v.next.level.rank == v.level.rank + 1

    # (3) regenerating at the same moment from the policy just written changes nothing
    previous = save(tmp_path, first)
    again = run_loaded(decisions, rule_data=rule_data, previous=previous, as_of=as_of)
    assert [(v.state.key, v.level) for v in again.verdicts] == [
        (v.state.key, v.level) for v in first.verdicts
    ]
    assert {v.change for v in again.verdicts} <= {"unchanged"}, [
        (v.state.key, v.change, v.reason) for v in again.verdicts if v.change != "unchanged"
    ]

    # (4) the next run, from this policy, keeps (1) and (2)
    later = run_loaded(decisions, rule_data=rule_data, previous=previous, as_of=day(as_of_day + 3))
    before = {v.state.key: v.level for v in first.verdicts}
    for v in later.verdicts:
        if v.state.key in before:
            assert v.previous_level is before[v.state.key]
        assert v.level.rank <= v.previous_level.rank + 1, v.reason
        assert v.level.rank <= v.cap.level.rank


@SETTINGS
@given(spec=batches(POOLS), as_of_day=st.integers(5, 45), seed=st.integers(0, 2**16))
def test_policy_bytes_do_not_depend_on_row_order(
    tmp_path: Path, spec: Any, as_of_day: int, seed: int
) -> None:
    log = log_of(spec)
    path = tmp_path / "decisions.csv"
    texts = []
    assume(log.frame()["timestamp"].map(_instant).le(day(as_of_day)).any())
    for order in (None, seed):
        log.write(path, shuffle=order)
        policy = evaluate([path], rules(LENIENT), as_of=day(as_of_day)).document
        # the input file's digest changes with the row order; nothing else may
        inputs = tuple(i.model_copy(update={"sha256": "-"}) for i in policy.metadata.inputs)
        metadata = policy.metadata.model_copy(update={"inputs": inputs})
        texts.append(to_yaml(policy.model_copy(update={"metadata": metadata})))
    assert texts[0] == texts[1]


def test_ladder_order() -> None:
    assert [level.value for level in LADDER] == list(MODES)


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
