"""Per group: the level history, the evidence clock, and the counts the gates are built on.

Counting rules (``PRODUCT.md``): agreement is measured on decisions a human
judged (approved = agree; rejected, modified, overridden = disagree), a timeout
is neither and is counted apart; success is measured on executed decisions with
a verified outcome (success or failure); executed decisions without one are
unverified. Everything is one vectorised pass of group-bys over the decisions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustctl.ingest import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES
from trustctl.levels import LADDER, Level
from trustctl.rules import TrustRules

#: A group's identity: its ``group_by`` values in rule order (tiers as int, 0 = not given).
GroupKey = tuple[str | int, ...]

_JUDGED = [HUMAN_CODES[h] for h in ("approved", "rejected", "modified", "overridden")]


@dataclass(frozen=True)
class PriorState:
    """What the previous policy said about a group."""

    level: Level
    since: dt.datetime | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None


@dataclass(frozen=True)
class Evidence:
    """The counts for one group, from ``counted_from`` (exclusive) to ``as_of``."""

    decisions: int
    reviewed: int
    agreed: int
    timeouts: int
    executed: int
    verified: int
    succeeded: int
    unverified: int
    counted_from: dt.datetime
    """Decisions after this instant count (at it too when the clock is an agent version's start)."""
    counted_from_reason: str


@dataclass(frozen=True)
class GroupState:
    """Everything known about one group before the decision is taken."""

    key: GroupKey
    current: Level
    current_source: str
    """``previous policy``, ``log`` (the mode of the latest decision) or ``initial_level``."""
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    first_seen: dt.datetime | None
    evidence: Evidence
    critical_failures: int
    """Critical failures within the window (all of them, not only counted ones)."""
    last_critical_failure: dt.datetime | None
    last_critical_decision: str | None
    system_tiers: frozenset[int]
    risk_tiers: frozenset[int]
    """Risk tiers of the group's decisions (the column, else the rules' patterns); 0 = unknown."""
    agent_version: str | None
    agent_version_since: dt.datetime | None

    @property
    def last_change(self) -> dt.datetime | None:
        """The latest promotion or demotion known, for the cooldown."""
        known = [t for t in (self.last_promoted, self.last_demoted) if t is not None]
        return max(known) if known else None


def _stamp(value: object) -> dt.datetime | None:
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return None
    return pd.Timestamp(value).to_pydatetime()  # type: ignore[arg-type]


def _latest(*values: dt.datetime | None) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def group_values(frame: pd.DataFrame, rules: TrustRules) -> pd.DataFrame:
    """The ``group_by`` columns of ``frame``, tiers as int (0 = not given)."""
    return frame[list(rules.group_by)]


def _risk_tiers(frame: pd.DataFrame, rules: TrustRules) -> np.ndarray:
    classes, uniques = pd.factorize(frame["action_class"])
    by_pattern = np.array([rules.risk_tier_of(str(c)) or 0 for c in uniques], dtype=np.int8)
    from_rules = by_pattern[classes] if len(classes) else np.zeros(0, dtype=np.int8)
    given = frame["risk_tier"].to_numpy()
    return np.where(given > 0, given, from_rules)


def collect(
    frame: pd.DataFrame,
    rules: TrustRules,
    as_of: dt.datetime,
    previous: Mapping[GroupKey, PriorState] | None = None,
) -> list[GroupState]:
    """Build every group's state from the decisions up to ``as_of``.

    Groups are those with decisions in the window, plus those the previous policy
    names (kept with no evidence, so a level is never silently dropped).
    """
    as_of_ts = pd.Timestamp(as_of)
    history = frame[frame["timestamp"] <= as_of_ts]
    keys = list(rules.group_by)
    window_start = as_of_ts - pd.Timedelta(rules.window_span)
    data = history.assign(
        _risk=_risk_tiers(history, rules),
        _judged=history["human_decision"].isin(_JUDGED),
        _agreed=history["human_decision"] == HUMAN_CODES["approved"],
        _timeout=history["human_decision"] == HUMAN_CODES["timeout"],
        _verified=history["executed"]
        & history["outcome"].isin([OUTCOME_CODES["success"], OUTCOME_CODES["failure"]]),
        _succeeded=history["executed"] & (history["outcome"] == OUTCOME_CODES["success"]),
        _critical=history["executed"]
        & (history["outcome"] == OUTCOME_CODES["failure"])
        & (history["severity"] == SEVERITY_CODES["critical"]),
        _in_window=history["timestamp"] > window_start,
    )
    data = data.assign(_unverified=data["executed"] & ~data["_verified"])
    grouped = data.groupby(keys, sort=True, dropna=False)
    group_id = grouped.ngroup().to_numpy()
    per_group = grouped.agg(
        _last_mode=("mode", "last"),
        _first_seen=("timestamp", "min"),
        _last_version=("agent_version", "last"),
        _in_window=("_in_window", "any"),
    )
    transitions = _transitions(data, group_id)
    version_since = _version_since(data, keys, per_group)
    critical = data[data["_critical"] & data["_in_window"]]
    critical_last = critical.groupby(keys, sort=True, dropna=False).agg(
        _count=("decision_id", "size"),
        _last=("timestamp", "max"),
        _last_id=("decision_id", "last"),
    )
    tiers = data.groupby(keys, sort=True, dropna=False).agg(
        _system=("system_tier", lambda s: frozenset(int(v) for v in s.unique() if v > 0)),
        _risk=("_risk", lambda s: frozenset(int(v) for v in s.unique())),
    )

    previous = previous or {}
    states: dict[GroupKey, GroupState] = {}
    starts: dict[GroupKey, tuple[pd.Timestamp, str]] = {}
    for position, (raw_key, row) in enumerate(per_group.iterrows()):
        key: GroupKey = _normalise_key(raw_key)
        prior = previous.get(key)
        if not row["_in_window"] and prior is None:
            continue
        promoted, demoted = transitions.get(position, (None, None))
        last_promoted = _latest(prior.last_promoted if prior else None, promoted)
        last_demoted = _latest(prior.last_demoted if prior else None, demoted)
        if prior is not None:
            current, source = prior.level, "previous policy"
        else:
            current, source = LADDER[int(row["_last_mode"])], "log"
        crit = critical_last.loc[raw_key] if raw_key in critical_last.index else None
        last_cf = _stamp(crit["_last"]) if crit is not None else None
        version = str(row["_last_version"]) or None
        since_version = version_since.get(position) if rules.reset_on_agent_version_change else None
        if since_version is not None and since_version <= _stamp(row["_first_seen"]):
            since_version = None  # the group's first version: nothing to reset
        start, reason = window_start, f"window start ({rules.window} before as_of)"
        for candidate, why in (
            (last_demoted, "last demotion"),
            (last_cf, "last critical failure"),
            (since_version, f"agent version {version} first seen"),
        ):
            if candidate is not None and pd.Timestamp(candidate) > start:
                start, reason = pd.Timestamp(candidate), why
        starts[key] = (start, reason)
        states[key] = GroupState(
            key=key,
            current=current,
            current_source=source,
            last_promoted=last_promoted,
            last_demoted=last_demoted,
            first_seen=_stamp(row["_first_seen"]),
            evidence=_empty_evidence(start, reason),
            critical_failures=int(crit["_count"]) if crit is not None else 0,
            last_critical_failure=last_cf,
            last_critical_decision=str(crit["_last_id"]) if crit is not None else None,
            system_tiers=tiers.loc[raw_key, "_system"],
            risk_tiers=tiers.loc[raw_key, "_risk"],
            agent_version=version,
            agent_version_since=since_version,
        )
    _count(data, keys, starts, states)
    for key, prior in previous.items():
        if key not in states:
            start = window_start
            states[key] = _absent_group(key, prior, start, rules)
    return [states[key] for key in sorted(states, key=_sort_key)]


def _sort_key(key: GroupKey) -> tuple[tuple[int, str], ...]:
    return tuple((0, f"{v:08d}") if isinstance(v, int) else (1, v) for v in key)


def _normalise_key(raw: object) -> GroupKey:
    parts = raw if isinstance(raw, tuple) else (raw,)
    return tuple(int(p) if isinstance(p, (int, np.integer)) else str(p) for p in parts)


def _empty_evidence(start: pd.Timestamp, reason: str) -> Evidence:
    return Evidence(0, 0, 0, 0, 0, 0, 0, 0, start.to_pydatetime(), reason)


def _absent_group(
    key: GroupKey, prior: PriorState, start: pd.Timestamp, rules: TrustRules
) -> GroupState:
    return GroupState(
        key=key,
        current=prior.level,
        current_source="previous policy",
        last_promoted=prior.last_promoted,
        last_demoted=prior.last_demoted,
        first_seen=None,
        evidence=_empty_evidence(start, f"window start ({rules.window} before as_of)"),
        critical_failures=0,
        last_critical_failure=None,
        last_critical_decision=None,
        system_tiers=frozenset(),
        risk_tiers=frozenset({rules.risk_tier_of(str(key[0])) or 0}),
        agent_version=None,
        agent_version_since=None,
    )


def _transitions(
    data: pd.DataFrame, group_id: np.ndarray
) -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
    """Per group position: the latest upward and downward change of ``mode`` in the log."""
    ordered = pd.DataFrame(
        {"group": group_id, "t": data["timestamp"].to_numpy(), "mode": data["mode"].to_numpy()}
    ).sort_values(["group", "t"], kind="stable")
    step = ordered["mode"].astype(np.int16).diff()
    same_group = ordered["group"].diff() == 0
    found: dict[int, tuple[dt.datetime | None, dt.datetime | None]] = {}
    ups = ordered[(step > 0) & same_group].groupby("group")["t"].max()
    downs = ordered[(step < 0) & same_group].groupby("group")["t"].max()
    for group in set(ups.index) | set(downs.index):
        found[int(group)] = (
            _stamp(ups.get(group)),
            _stamp(downs.get(group)),
        )
    return found


def _version_since(
    data: pd.DataFrame, keys: list[str], per_group: pd.DataFrame
) -> dict[int, dt.datetime]:
    """Per group position: when the group's latest agent version first appeared."""
    given = data[data["agent_version"] != ""]
    if given.empty:
        return {}
    first = given.groupby([*keys, "agent_version"], sort=True, dropna=False)["timestamp"].min()
    found: dict[int, dt.datetime] = {}
    for position, (raw_key, row) in enumerate(per_group.iterrows()):
        version = row["_last_version"]
        if version == "":
            continue
        parts = raw_key if isinstance(raw_key, tuple) else (raw_key,)
        stamp = _stamp(first.get((*parts, version)))
        if stamp is not None:
            found[position] = stamp
    return found


def _count(
    data: pd.DataFrame,
    keys: list[str],
    starts: Mapping[GroupKey, tuple[pd.Timestamp, str]],
    states: dict[GroupKey, GroupState],
) -> None:
    """Fill each state's evidence with the counts after its evidence clock starts."""
    if not starts:
        return
    start_table = pd.DataFrame(
        [
            (*key, start, reason.startswith("agent version"))
            for key, (start, reason) in starts.items()
        ],
        columns=[*keys, "_start", "_inclusive"],
    )
    for column in keys:
        start_table[column] = start_table[column].astype(data[column].dtype)
    joined = data.merge(start_table, on=keys, how="inner")
    inclusive = joined["_inclusive"].to_numpy(dtype=bool)
    after = joined["timestamp"] > joined["_start"]
    counted = joined[after | (inclusive & (joined["timestamp"] == joined["_start"]))]
    sums = counted.groupby(keys, sort=True, dropna=False).agg(
        decisions=("decision_id", "size"),
        reviewed=("_judged", "sum"),
        agreed=("_agreed", "sum"),
        timeouts=("_timeout", "sum"),
        executed=("executed", "sum"),
        verified=("_verified", "sum"),
        succeeded=("_succeeded", "sum"),
        unverified=("_unverified", "sum"),
    )
    for raw_key, row in sums.iterrows():
        key = _normalise_key(raw_key)
        state = states[key]
        start, reason = starts[key]
        states[key] = _replace_evidence(
            state,
            Evidence(
                decisions=int(row["decisions"]),
                reviewed=int(row["reviewed"]),
                agreed=int(row["agreed"]),
                timeouts=int(row["timeouts"]),
                executed=int(row["executed"]),
                verified=int(row["verified"]),
                succeeded=int(row["succeeded"]),
                unverified=int(row["unverified"]),
                counted_from=start.to_pydatetime(),
                counted_from_reason=reason,
            ),
        )


def _replace_evidence(state: GroupState, evidence: Evidence) -> GroupState:
    from dataclasses import replace

    return replace(state, evidence=evidence)
