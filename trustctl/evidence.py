"""Per group: the level history, the evidence clock, and the counts the gates are built on.

Counting rules (``PRODUCT.md``): agreement is measured on decisions a human
judged (approved = agree; rejected, modified, overridden = disagree), a timeout
is neither and is counted apart; success is measured on executed decisions with
a verified outcome (success or failure); executed decisions without one are
unverified.

Everything is vectorised: each decision gets its group's number, rows are put in
(group, time) order once, and every per-group figure is a numpy reduction over
that order. Times are int64 nanoseconds since the epoch until they leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
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
    cap: tuple[Level, str] | None = None
    """The cap the previous policy applied and what set it (``cap:system_tier=4``, say)."""


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
    inclusive: bool = False
    """Whether the decision at ``counted_from`` itself counts (it belongs to the new era)."""


@dataclass(frozen=True)
class GroupState:
    """Everything known about one group before the decision is taken."""

    key: GroupKey
    current: Level
    current_source: str
    """``previous policy`` or ``log`` (the mode of the group's latest decision)."""
    level_since: dt.datetime | None
    """When the current level was set, by the previous policy's ``since``."""
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    evidence: Evidence
    """What promotion counts: after the last demotion, critical failure and version change."""
    demotion_evidence: Evidence
    """What the demotion checks count: the record at the current level, since the last
    promotion or demotion. No agent-version reset: a new version never hides that record."""
    critical_failures: int
    """Critical failures within the window (all of them, not only counted ones)."""
    last_critical_failure: dt.datetime | None
    last_critical_decision: str | None
    system_tiers: frozenset[int]
    risk_tiers: frozenset[int]
    """Risk tiers of the group's decisions (the column, else the rules' patterns); 0 = unknown."""
    agent_version: str | None
    """The version named by the group's latest decision that names one."""
    agent_version_since: dt.datetime | None
    inherited_cap: tuple[Level, str] | None = None
    """For a group with no decisions read: the previous policy's cap, since its tiers are
    unknown now and missing data must never lift a cap."""

    @property
    def last_change(self) -> dt.datetime | None:
        """The latest level change known (promotion, demotion, previous ``since``)."""
        return _latest(self.level_since, self.last_promoted, self.last_demoted)


_NO_TIME = np.iinfo(np.int64).min


def _latest(*values: dt.datetime | None) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _nanoseconds(value: dt.datetime) -> int:
    return int(pd.Timestamp(value).as_unit("ns").value)


def _at(nanoseconds: int) -> dt.datetime:
    """An int64 nanosecond time as an aware UTC datetime."""
    instant: dt.datetime = pd.Timestamp(int(nanoseconds), tz="UTC").to_pydatetime(warn=False)
    return instant


def _instant(nanoseconds: int) -> dt.datetime | None:
    """Like ``_at``, with ``None`` for ``_NO_TIME`` (no such event)."""
    return None if nanoseconds == _NO_TIME else _at(nanoseconds)


def _risk_tiers(frame: pd.DataFrame, rules: TrustRules) -> np.ndarray:
    """Each decision's risk tier: the column, else the rules' patterns, else 0 (unknown)."""
    classes, uniques = pd.factorize(frame["action_class"])
    by_pattern = np.array([rules.risk_tier_of(str(c)) or 0 for c in uniques], dtype=np.int64)
    from_rules = by_pattern[classes] if len(classes) else np.zeros(0, dtype=np.int64)
    given = frame["risk_tier"].to_numpy(dtype=np.int64)
    return np.where(given > 0, given, from_rules)


@dataclass(frozen=True)
class _Groups:
    """Every decision's group number, and the rows in (group, time) order."""

    keys: list[GroupKey]
    """Group number → key, in key order."""
    of_row: np.ndarray
    """Row → group number."""
    order: np.ndarray
    """Row indexes sorted by group, then time (stable: the frame is in time order)."""
    begins: np.ndarray
    """Per group: where its rows start in ``order``."""
    ends: np.ndarray
    """Per group: where its rows end in ``order`` (exclusive)."""

    def latest(self, values: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Per group: the largest of ``values`` on rows where ``where``, else ``_NO_TIME``."""
        found = np.full(len(self.keys), _NO_TIME, dtype=np.int64)
        np.maximum.at(found, self.of_row[where], values[where])
        return found

    def total(self, flags: np.ndarray) -> np.ndarray:
        """Per group: how many rows have ``flags`` set."""
        counts = np.bincount(self.of_row, weights=flags, minlength=len(self.keys))
        return counts.astype(np.int64)

    def tier_sets(self, tiers: np.ndarray, keep_zero: bool) -> list[frozenset[int]]:
        """Per group: the set of tiers its rows carry (0 = unknown kept only if asked)."""
        wanted = tiers >= (0 if keep_zero else 1)
        pairs = np.unique(self.of_row[wanted] * 8 + tiers[wanted])
        found: list[set[int]] = [set() for _ in self.keys]
        for pair in pairs.tolist():
            found[pair // 8].add(pair % 8)
        return [frozenset(f) for f in found]


def _groups(frame: pd.DataFrame, keys: Sequence[str]) -> _Groups:
    """Number the groups in key order (each key column sorted, tiers as numbers)."""
    of_row = np.zeros(len(frame), dtype=np.int64)
    representative = np.zeros(0, dtype=np.int64)  # per group: one of its rows
    for name in keys:
        codes, uniques = pd.factorize(frame[name], sort=True)
        # Fold this column in and renumber densely, so the numbers never overflow.
        combined = of_row * max(len(uniques), 1) + codes
        _, representative, of_row = np.unique(combined, return_index=True, return_inverse=True)
        of_row = of_row.reshape(-1).astype(np.int64)
    group_keys = [
        _normalise_key(tuple(frame[name].iat[int(row)] for name in keys)) for row in representative
    ]
    sizes = np.bincount(of_row, minlength=len(group_keys))
    ends = np.cumsum(sizes)
    return _Groups(group_keys, of_row, np.argsort(of_row, kind="stable"), ends - sizes, ends)


def collect(
    frame: pd.DataFrame,
    rules: TrustRules,
    as_of: dt.datetime,
    previous: Mapping[GroupKey, PriorState] | None = None,
) -> list[GroupState]:
    """Build every group's state from the decisions up to ``as_of``.

    ``frame`` is ``Decisions.frame``: sorted by timestamp, then decision id (the
    latest decision of a group is its last row). Groups are those with decisions
    in the window, plus those the previous policy names (kept with no evidence,
    so a level is never silently dropped).
    """
    previous = previous or {}
    keys = list(rules.group_by)
    as_of_ns = _nanoseconds(as_of)
    window_start = as_of_ns - int(rules.window_span / dt.timedelta(microseconds=1)) * 1000
    times_all = pd.DatetimeIndex(frame["timestamp"]).as_unit("ns").asi8
    known = times_all <= as_of_ns
    data, times = (frame, times_all) if known.all() else (frame[known], times_all[known])
    groups = _groups(data, keys)

    human = data["human_decision"].to_numpy()
    outcome = data["outcome"].to_numpy()
    executed = data["executed"].to_numpy(dtype=bool)
    verified = executed & np.isin(outcome, (OUTCOME_CODES["success"], OUTCOME_CODES["failure"]))
    in_window = times > window_start
    # A failure is known when its outcome was recorded, which may be long after the
    # proposal: it is dated by then (it cannot have been answered before it was known).
    recorded = (
        pd.DatetimeIndex(data["recorded_at"]).as_unit("ns").asi8 if "recorded_at" in data else times
    )
    critical = (
        executed
        & (outcome == OUTCOME_CODES["failure"])
        & (data["severity"].to_numpy() == SEVERITY_CODES["critical"])
        & (recorded > window_start)
    )
    rows = np.arange(len(data), dtype=np.int64)
    modes = data["mode"].to_numpy().astype(np.int64)
    ids = data["decision_id"]

    first_row = groups.order[groups.begins]
    last_row = groups.order[groups.ends - 1]
    active = groups.total(in_window) > 0
    promoted, demoted = _transitions(groups, modes, times)
    critical_count = groups.total(critical)
    critical_time = groups.latest(recorded, critical)
    critical_row = groups.latest(rows, critical & (recorded == critical_time[groups.of_row]))
    versions = _versions(groups, data["agent_version"].to_numpy(), times)
    system_tiers = groups.tier_sets(data["system_tier"].to_numpy(dtype=np.int64), False)
    risk_tiers = groups.tier_sets(_risk_tiers(data, rules), True)

    window_reason = _window_reason(rules)
    timelines: dict[int, _Timeline] = {}
    for g, key in enumerate(groups.keys):
        prior = previous.get(key)
        if not active[g] and prior is None:
            continue  # nothing in the window and no level to keep: not reported
        crit = int(critical_row[g])
        version, version_since = versions[g]
        timelines[g] = _timeline(
            prior,
            rules,
            window_start,
            window_reason,
            promoted=_instant(int(promoted[g])),
            demoted=_instant(int(demoted[g])),
            last_critical=None if crit == _NO_TIME else _at(int(recorded[crit])),
            first_seen=_at(int(times[first_row[g]])),
            version=version,
            version_since=version_since,
        )
    promotion = _count(groups, timelines, times, human, outcome, executed, verified, "promotion")
    demotion = _count(groups, timelines, times, human, outcome, executed, verified, "demotion")
    states: dict[GroupKey, GroupState] = {}
    for g, t in timelines.items():
        key = groups.keys[g]
        crit = int(critical_row[g])
        states[key] = GroupState(
            key=key,
            current=t.prior.level if t.prior else LADDER[int(modes[last_row[g]])],
            current_source="previous policy" if t.prior else "log",
            level_since=t.prior.since if t.prior else None,
            last_promoted=t.last_promoted,
            last_demoted=t.last_demoted,
            evidence=promotion[g],
            demotion_evidence=demotion[g],
            critical_failures=int(critical_count[g]),
            last_critical_failure=t.last_critical,
            last_critical_decision=None if crit == _NO_TIME else str(ids.iat[crit]),
            system_tiers=system_tiers[g],
            risk_tiers=risk_tiers[g],
            agent_version=t.version,
            agent_version_since=t.version_since,
        )
    for key, prior in previous.items():
        if key not in states:
            states[key] = _absent_group(key, prior, window_start, rules)
    return [states[key] for key in sorted(states, key=sort_key)]


@dataclass(frozen=True)
class _Timeline:
    """A reported group's level history and where its evidence clock starts."""

    prior: PriorState | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    last_critical: dt.datetime | None
    version: str | None
    version_since: dt.datetime | None
    """When the agent last changed to ``version``, if that restarts the clock; else ``None``."""
    demotion: _Clock
    promotion: _Clock


def _timeline(
    prior: PriorState | None,
    rules: TrustRules,
    window_start: int,
    window_reason: str,
    *,
    promoted: dt.datetime | None,
    demoted: dt.datetime | None,
    last_critical: dt.datetime | None,
    first_seen: dt.datetime,
    version: str | None,
    version_since: dt.datetime | None,
) -> _Timeline:
    """The level history and both evidence clocks of one group.

    With a previous policy entry, its dates are the level history: it is trustctl's own
    record. Only without one is the history read from changes of ``mode`` in the log
    (where modes that interleave, e.g. per service, would read as changes).
    """
    last_promoted = prior.last_promoted if prior else promoted
    last_demoted = prior.last_demoted if prior else demoted
    if not rules.reset_on_agent_version_change or (
        version_since is not None and version_since <= first_seen
    ):
        version_since = None  # the group's first version: nothing to reset
    # (instant, reason, whether the decision at that instant itself counts): the first
    # decision of a new agent version is that version's; a demotion or a critical
    # failure is dated by a decision that belongs to the time before it.
    window = _Clock(window_start, window_reason, False)
    since_demotion = window.later(last_demoted, "last demotion", False)
    return _Timeline(
        prior=prior,
        last_promoted=last_promoted,
        last_demoted=last_demoted,
        last_critical=last_critical,
        version=version,
        version_since=version_since,
        # Demotion judges the record at the current level: since the last level change.
        # A promotion read from the log is dated by the first decision at the new level,
        # which counts; the previous policy's date is the run's as_of, which does not.
        demotion=since_demotion.later(last_promoted, "last promotion", prior is None),
        promotion=since_demotion.later(last_critical, "last critical failure", False).later(
            version_since, f"change to agent version {version}", True
        ),
    )


@dataclass(frozen=True)
class _Clock:
    """Where an evidence clock starts."""

    start: int
    """int64 nanoseconds."""
    reason: str
    inclusive: bool
    """Whether a decision at ``start`` itself counts (only for an agent version's start)."""

    def later(self, candidate: dt.datetime | None, reason: str, inclusive: bool) -> _Clock:
        """This clock, or one starting at ``candidate`` if that is later."""
        if candidate is None or _nanoseconds(candidate) <= self.start:
            return self
        return _Clock(_nanoseconds(candidate), reason, inclusive)


def _count(
    groups: _Groups,
    timelines: Mapping[int, _Timeline],
    times: np.ndarray,
    human: np.ndarray,
    outcome: np.ndarray,
    executed: np.ndarray,
    verified: np.ndarray,
    which: str,
) -> dict[int, Evidence]:
    """Per reported group: the counts after its ``which`` clock starts."""
    starts = np.full(len(groups.keys), np.iinfo(np.int64).max, dtype=np.int64)
    inclusive = np.zeros(len(groups.keys), dtype=bool)
    clocks = {g: getattr(t, which) for g, t in timelines.items()}
    for g, clock in clocks.items():
        starts[g], inclusive[g] = clock.start, clock.inclusive
    row_start = starts[groups.of_row]
    counted = (times > row_start) | (inclusive[groups.of_row] & (times == row_start))
    totals = {
        "decisions": groups.total(counted),
        "reviewed": groups.total(counted & np.isin(human, _JUDGED)),
        "agreed": groups.total(counted & (human == HUMAN_CODES["approved"])),
        "timeouts": groups.total(counted & (human == HUMAN_CODES["timeout"])),
        "executed": groups.total(counted & executed),
        "verified": groups.total(counted & verified),
        "succeeded": groups.total(counted & verified & (outcome == OUTCOME_CODES["success"])),
        "unverified": groups.total(counted & executed & ~verified),
    }
    return {
        g: Evidence(
            **{name: int(values[g]) for name, values in totals.items()},
            counted_from=_at(clock.start),
            counted_from_reason=clock.reason,
            inclusive=clock.inclusive,
        )
        for g, clock in clocks.items()
    }


def _window_reason(rules: TrustRules) -> str:
    return f"window start ({rules.window} before as_of)"


def sort_key(key: GroupKey) -> tuple[tuple[int, str], ...]:
    """Order of groups in the policy: by key part, tiers as numbers."""
    return tuple((0, f"{v:08d}") if isinstance(v, int) else (1, v) for v in key)


def _normalise_key(raw: object) -> GroupKey:
    parts = raw if isinstance(raw, tuple) else (raw,)
    return tuple(int(p) if isinstance(p, (int, np.integer)) else str(p) for p in parts)


def empty_evidence(start: dt.datetime, reason: str) -> Evidence:
    """No decisions counted yet, on a clock that starts at ``start``."""
    return Evidence(0, 0, 0, 0, 0, 0, 0, 0, start, reason)


def _absent_group(
    key: GroupKey, prior: PriorState, window_start: int, rules: TrustRules
) -> GroupState:
    """A group the previous policy names but no decision up to ``as_of`` touches."""
    clock = _Clock(window_start, _window_reason(rules), False)
    clock = clock.later(prior.last_demoted, "last demotion", False)
    start, reason = clock.start, clock.reason
    # Its tiers are only known from its key; a tier in the key still caps it.
    system_tier = dict(zip(rules.group_by, key, strict=True)).get("system_tier", 0)
    return GroupState(
        key=key,
        current=prior.level,
        current_source="previous policy",
        level_since=prior.since,
        last_promoted=prior.last_promoted,
        last_demoted=prior.last_demoted,
        evidence=empty_evidence(_at(start), reason),
        demotion_evidence=empty_evidence(_at(start), reason),
        critical_failures=0,
        last_critical_failure=None,
        last_critical_decision=None,
        system_tiers=(
            frozenset({system_tier})
            if isinstance(system_tier, int) and system_tier > 0
            else frozenset()
        ),
        risk_tiers=frozenset({rules.risk_tier_of(str(key[0])) or 0}),
        agent_version=None,
        agent_version_since=None,
        inherited_cap=prior.cap,
    )


def _transitions(
    groups: _Groups, modes: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per group: the latest upward and downward change of ``mode`` in the log (or ``_NO_TIME``).

    A promotion is dated by the first decision made at the new level; a demotion by
    the last decision made at the old level, so that every decision taken at the
    lower level counts after it.
    """
    ordered, group_of = modes[groups.order], groups.of_row[groups.order]
    step = np.zeros(len(modes), dtype=np.int64)
    step[1:] = ordered[1:] - ordered[:-1]
    same_group = np.zeros(len(modes), dtype=bool)
    same_group[1:] = group_of[1:] == group_of[:-1]
    rows_up = np.zeros(len(modes), dtype=bool)
    rows_down = np.zeros(len(modes), dtype=bool)
    rows_up[groups.order] = same_group & (step > 0)
    before_drop = np.flatnonzero(same_group & (step < 0)) - 1
    rows_down[groups.order[before_drop]] = True
    return groups.latest(times, rows_up), groups.latest(times, rows_down)


def _versions(
    groups: _Groups, versions: np.ndarray, times: np.ndarray
) -> list[tuple[str | None, dt.datetime | None]]:
    """Per group: its latest named agent version and when the agent last changed to it.

    The change is the first decision of the latest run of that version, so a rollback
    (A, then B, then A again) restarts the clock at A's return. Decisions that name no
    version are skipped: an event row without the field must not hide a change.
    """
    codes, _ = pd.factorize(versions)
    named = groups.order[versions[groups.order] != ""]  # (group, time) order
    group_of, code_of = groups.of_row[named], codes[named]
    run_starts = np.ones(len(named), dtype=bool)
    run_starts[1:] = (group_of[1:] != group_of[:-1]) | (code_of[1:] != code_of[:-1])
    starts = np.zeros(len(versions), dtype=bool)
    starts[named[run_starts]] = True
    since = groups.latest(times, starts)
    last_named = groups.latest(np.arange(len(versions), dtype=np.int64), versions != "")
    return [
        (None, None) if row == _NO_TIME else (str(versions[row]), _instant(int(since[g])))
        for g, row in enumerate(last_named.tolist())
    ]
