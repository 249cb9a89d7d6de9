"""Per group: the level history, the evidence clock, and the counts the gates are built on.

Counting rules (the README's "How a verdict is reached"): agreement is measured on decisions a human
judged (approved = agree; rejected, modified, overridden = disagree), a timeout
is neither and is counted apart; success is measured on executed decisions with
a verified outcome (success or failure); executed decisions without one are
unverified.

Everything is computed from evidence segments (``trustctl.segments``): counts per
group key, level, agent version and UTC day, which add across files and chunks. So
evidence is counted in whole UTC days, and the raw logs, ``--low-memory`` and
``--evidence`` files all give the same policy. Every per-group figure is a numpy
reduction over the segments; times are int64 microseconds since the epoch until
they leave this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trustctl import level_history, segments, times
from trustctl.levels import LADDER, Level
from trustctl.rules import TrustRules, parse_duration
from trustctl.segments import COUNTS, NO_TIME, SAMPLING
from trustctl.times import MICROS_PER_DAY

__all__ = [
    "Evidence",
    "GroupKey",
    "GroupState",
    "PriorState",
    "VersionChange",
    "collect",
    "collect_segments",
    "empty_evidence",
    "sort_key",
]

#: What an ``Evidence`` counts: the segments' counts, agreement already without reviews
#: outside the audit sample.
_COUNTED = tuple(name for name in COUNTS if name != "unsampled_agreed")

#: A group's identity: its ``group_by`` values in rule order (tiers as int, 0 = not given).
GroupKey = tuple[str | int, ...]


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
    """The counts for one group: decisions of the UTC days from ``counted_from`` to ``as_of``."""

    decisions: int
    reviewed: int
    agreed: int
    timeouts: int
    executed: int
    verified: int
    succeeded: int
    unverified: int
    counted_from: dt.datetime
    """Midnight UTC of the first day counted: for the window, the first day that begins at or
    after its start; after an event, the first day that begins after it."""
    counted_from_reason: str
    """What started the clock: the window's start, or an event (``last demotion``, ...)."""
    reset: bool = False
    """Whether an event, not the window's start, started the clock."""
    level_day: bool = False
    """Whether ``counted_from`` is the day of a level change, of which only the decisions
    made at the current level count."""
    unsampled: int = 0
    """Reviews of decisions made at ``auto_notify`` or ``full`` that ``review_sampled`` says
    were not of the audit sample: left out of ``reviewed`` and ``agreed``."""
    sampling_unknown: int = 0
    """Reviews of decisions made at ``auto_notify`` or ``full`` that ``review_sampled`` says
    nothing about: counted, but they may be a biased choice."""


@dataclass(frozen=True)
class VersionChange:
    """The group's latest change of named agent version, with ``agent_version_change:
    probation``: the new version's own record decides whether a level at ``full`` holds."""

    previous: str
    version: str
    at: dt.datetime
    """The new version's first decision."""
    record: Evidence
    """The new version's decisions: the days after ``at`` (and after the last demotion and
    critical failure, as for promotion)."""


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
    recent_evidence: Evidence | None = None
    """With ``demote.recent``: the part of ``demotion_evidence`` in the last ``recent`` whole
    UTC days, which the demotion checks judge too."""
    version_change: VersionChange | None = None
    """With ``agent_version_change: probation``: the latest change of named agent version."""
    tier_services: tuple[tuple[int, tuple[str, ...]], ...] = ()
    """Per system tier of the group's decisions, the services named there (sorted): which
    services set a cap by ``system_tier``."""

    def services_at(self, tier: int) -> tuple[str, ...]:
        """The services of the group's decisions on system tier ``tier``."""
        return next((names for t, names in self.tier_services if t == tier), ())

    @property
    def last_change(self) -> dt.datetime | None:
        """The latest level change known (promotion, demotion, previous ``since``)."""
        return _latest(self.level_since, self.last_promoted, self.last_demoted)


def _latest(*values: dt.datetime | None) -> dt.datetime | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _instant(micros: int) -> dt.datetime | None:
    """Like ``times.at_micros``, with ``None`` for ``NO_TIME`` (no such event)."""
    return None if micros == NO_TIME else times.at_micros(micros)


def _risk_tiers(frame: pd.DataFrame, rules: TrustRules) -> np.ndarray:
    """Each segment's risk tier: the column, else the rules' patterns, else 0 (unknown)."""
    classes, uniques = pd.factorize(frame["action_class"])
    by_pattern = np.array([rules.risk_tier_of(str(c)) or 0 for c in uniques], dtype=np.int64)
    from_rules = by_pattern[classes] if len(classes) else np.zeros(0, dtype=np.int64)
    given = frame["risk_tier"].to_numpy(dtype=np.int64)
    return np.where(given > 0, given, from_rules)


@dataclass(frozen=True)
class _Groups:
    """Every segment's group number."""

    keys: list[GroupKey]
    """Group number → key, in key order."""
    of_row: np.ndarray
    """Segment → group number."""

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per group: the sum of ``values`` (flags or counts) over its segments."""
        counts = np.bincount(self.of_row, weights=values, minlength=len(self.keys))
        return counts.astype(np.int64)

    def tier_sets(self, tiers: np.ndarray, where: np.ndarray) -> list[frozenset[int]]:
        """Per group: the set of tiers its segments ``where`` carry."""
        pairs = np.unique(self.of_row[where] * 8 + tiers[where])
        found: list[set[int]] = [set() for _ in self.keys]
        for pair in pairs.tolist():
            found[pair // 8].add(pair % 8)
        return [frozenset(f) for f in found]

    def tier_services(
        self, tiers: np.ndarray, services: np.ndarray, where: np.ndarray
    ) -> list[tuple[tuple[int, tuple[str, ...]], ...]]:
        """Per group: each system tier its segments ``where`` carry, with the services named
        there, both sorted."""
        codes, names = pd.factorize(services[where], sort=True)
        width = max(len(names), 1)
        triples = np.unique((self.of_row[where] * 8 + tiers[where]) * width + codes)
        found: list[dict[int, list[str]]] = [{} for _ in self.keys]
        for triple in triples.tolist():
            pair, code = divmod(triple, width)
            name = str(names[code]) if len(names) else ""
            tier_names = found[pair // 8].setdefault(pair % 8, [])
            if name:
                tier_names.append(name)
        return [tuple((t, tuple(n)) for t, n in sorted(f.items())) for f in found]


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
    return _Groups(group_keys, of_row)


def collect(
    frame: pd.DataFrame,
    rules: TrustRules,
    as_of: dt.datetime,
    previous: Mapping[GroupKey, PriorState] | None = None,
) -> list[GroupState]:
    """Build every group's state from merged decisions (``Decisions.frame``) up to ``as_of``."""
    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    known = stamps <= times.micros(as_of)
    data = frame if known.all() else frame[known]
    return collect_segments(segments.from_decisions(data, rules.bands), rules, as_of, previous)


def collect_segments(
    seg: pd.DataFrame,
    rules: TrustRules,
    as_of: dt.datetime,
    previous: Mapping[GroupKey, PriorState] | None = None,
) -> list[GroupState]:
    """Build every group's state from evidence segments (``trustctl.segments``).

    Evidence is counted in whole UTC days: a clock (the window, a demotion, a critical
    failure, a new agent version) counts the decisions of the days that begin at or
    after its start. Groups are those with decisions in the window, plus those the
    previous policy names (kept with no evidence, so a level is never silently dropped).
    """
    previous = previous or {}
    keys = list(rules.key_fields)
    window_start = times.micros(as_of) - rules.window_span // dt.timedelta(microseconds=1)
    window_day = _Clock.window(window_start, "").day
    groups = _groups(seg, keys)
    days = seg["day"].to_numpy()
    has = seg["decisions"].to_numpy() > 0
    active = groups.total(has & (days >= window_day)) > 0
    history = level_history.read(groups.of_row, len(groups.keys), seg, has)
    crit_counts = seg["critical_failures"].to_numpy()
    critical = (crit_counts > 0) & (days >= window_day)
    critical_count = groups.total(np.where(critical, crit_counts, 0))
    critical_row = _latest_critical(groups, seg, critical)
    tier_column = seg["system_tier"].to_numpy(dtype=np.int64)
    system_tiers = groups.tier_sets(tier_column, has & (tier_column > 0))
    tier_services = groups.tier_services(
        tier_column, seg["service"].fillna("").to_numpy(dtype=object), has & (tier_column > 0)
    )
    risk_tiers = groups.tier_sets(_risk_tiers(seg, rules), has)
    critical_at = seg["critical_at"].to_numpy()
    critical_ids = seg["critical_id"].to_numpy()

    window_reason = _window_reason(rules)
    timelines: dict[int, _Timeline] = {}
    for g, key in enumerate(groups.keys):
        prior = previous.get(key)
        if not active[g] and prior is None:
            continue  # nothing in the window and no level to keep: not reported
        crit = int(critical_row[g])
        timelines[g] = _timeline(
            prior,
            rules,
            window_start,
            window_reason,
            promoted=_instant(int(history.promoted[g])),
            demoted=_instant(int(history.demoted[g])),
            last_critical=None if crit < 0 else times.at_micros(int(critical_at[crit])),
            first_seen=_instant(int(history.first_seen[g])),
            version=history.versions[g],
            version_since=_instant(int(history.version_since[g])),
            previous_version=history.previous_versions[g],
        )
    current = history.current.copy()
    for g, t in timelines.items():
        if t.prior is not None:
            current[g] = t.prior.level.rank
    promotion = _count(groups, timelines, seg, has, "promotion", window_reason, current)
    demotion = _count(groups, timelines, seg, has, "demotion", window_reason, current)
    recent = _count(groups, timelines, seg, has, "recent", _recent_reason(rules), current)
    new_version = _count(groups, timelines, seg, has, "new_version", window_reason, current)
    states: dict[GroupKey, GroupState] = {}
    for g, t in timelines.items():
        key = groups.keys[g]
        crit = int(critical_row[g])
        states[key] = GroupState(
            key=key,
            current=LADDER[int(current[g])],
            current_source="previous policy" if t.prior else "log",
            level_since=t.prior.since if t.prior else None,
            last_promoted=t.last_promoted,
            last_demoted=t.last_demoted,
            evidence=promotion[g],
            demotion_evidence=demotion[g],
            critical_failures=int(critical_count[g]),
            last_critical_failure=t.last_critical,
            last_critical_decision=None if crit < 0 else str(critical_ids[crit]),
            system_tiers=system_tiers[g],
            risk_tiers=risk_tiers[g],
            agent_version=t.version,
            agent_version_since=t.version_since,
            recent_evidence=recent.get(g),
            version_change=_version_change(t, new_version.get(g)),
            tier_services=tier_services[g],
        )
    for key, prior in previous.items():
        if key not in states:
            states[key] = _absent_group(key, prior, window_start, rules)
    return [states[key] for key in sorted(states, key=sort_key)]


def _latest_critical(groups: _Groups, seg: pd.DataFrame, critical: np.ndarray) -> np.ndarray:
    """Per group: the segment of its latest critical failure in the window (or -1).

    Latest by when its outcome was recorded, then by its own time and id (the order
    decisions are read in).
    """
    rows = np.flatnonzero(critical)
    found = np.full(len(groups.keys), -1, dtype=np.int64)
    if not len(rows):
        return found
    ids = pd.factorize(seg["critical_id"].to_numpy()[rows], sort=True)[0]
    order = rows[
        np.lexsort(
            (
                ids,
                seg["critical_decided_at"].to_numpy()[rows],
                seg["critical_at"].to_numpy()[rows],
                groups.of_row[rows],
            )
        )
    ]
    of = groups.of_row[order]
    last = np.flatnonzero(np.diff(of, append=-1) != 0)  # each group's last (latest) row
    found[of[last]] = order[last]
    return found


@dataclass(frozen=True)
class _Timeline:
    """A reported group's level history and where its evidence clocks start."""

    prior: PriorState | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    last_critical: dt.datetime | None
    version: str | None
    version_since: dt.datetime | None
    """When the agent last changed to ``version``, if that restarts the clock; else ``None``."""
    demotion: _Clock
    promotion: _Clock
    recent: _Clock | None
    """The demotion clock, or the recent window's start when that is later."""
    previous_version: str | None = None
    """With ``agent_version_change: probation``: the version before ``version``."""
    changed_at: dt.datetime | None = None
    """With ``agent_version_change: probation``: when ``version`` took over from it."""
    new_version: _Clock | None = None
    """With ``agent_version_change: probation``: the promotion clock restarted by the change."""


def _timeline(
    prior: PriorState | None,
    rules: TrustRules,
    window_start: int,
    window_reason: str,
    *,
    promoted: dt.datetime | None,
    demoted: dt.datetime | None,
    last_critical: dt.datetime | None,
    first_seen: dt.datetime | None,
    version: str | None,
    version_since: dt.datetime | None,
    previous_version: str | None,
) -> _Timeline:
    """The level history and both evidence clocks of one group.

    With a previous policy entry, its dates are the level history: it is trustctl's own
    record. Only without one is the history read from changes of ``mode`` in the log
    (where modes that interleave, e.g. per service, would read as changes).
    """
    last_promoted = prior.last_promoted if prior else promoted
    last_demoted = prior.last_demoted if prior else demoted
    probation = rules.agent_version_change == "probation" and previous_version is not None
    changed_at = version_since if probation else None
    if (
        not rules.reset_on_agent_version_change
        or first_seen is None
        or (version_since is not None and version_since <= first_seen)
    ):
        version_since = None  # the group's first version: nothing to reset
    window = _Clock.window(window_start, window_reason)
    since_demotion = window.later(last_demoted, "last demotion", level=True)
    # Demotion judges the record at the current level: since the last level change.
    demotion = since_demotion.later(last_promoted, "last promotion", level=True)
    since_critical = since_demotion.later(last_critical, "last critical failure")
    change_reason = f"change to agent version {version}"
    return _Timeline(
        prior=prior,
        last_promoted=last_promoted,
        last_demoted=last_demoted,
        last_critical=last_critical,
        version=version,
        version_since=version_since,
        demotion=demotion,
        recent=_recent(demotion, rules, window_start),
        promotion=since_critical.later(version_since, change_reason),
        previous_version=previous_version if probation else None,
        changed_at=changed_at,
        new_version=None if changed_at is None else since_critical.later(changed_at, change_reason),
    )


def _version_change(timeline: _Timeline, record: Evidence | None) -> VersionChange | None:
    previous, version, at = timeline.previous_version, timeline.version, timeline.changed_at
    if previous is None or version is None or at is None or record is None:
        return None
    return VersionChange(previous, version, at, record)


def _recent(demotion: _Clock, rules: TrustRules, window_start: int) -> _Clock | None:
    """The recent record's clock: the demotion clock, unless the recent window starts later."""
    if rules.demote.recent is None:
        return None
    as_of = window_start + rules.window_span // dt.timedelta(microseconds=1)
    recent = _Clock.window(
        as_of - parse_duration(rules.demote.recent) // dt.timedelta(microseconds=1),
        _recent_reason(rules),
    )
    return recent if recent.day >= demotion.day else demotion


@dataclass(frozen=True)
class _Clock:
    """Where an evidence clock starts, and the whole UTC days it counts."""

    start: int
    """Microseconds since the epoch."""
    reason: str
    day: int
    """The first day counted in full (days since the epoch)."""
    level_day: bool = False
    """Whether the day before ``day`` counts too, for its decisions at the current level."""

    @classmethod
    def window(cls, start: int, reason: str) -> _Clock:
        """The window counts the days that begin at or after its start."""
        return cls(start, reason, -(-start // MICROS_PER_DAY))

    def later(self, candidate: dt.datetime | None, reason: str, *, level: bool = False) -> _Clock:
        """This clock, or one restarted by an event at ``candidate`` if that is later.

        After a change of level the clock counts that day's decisions made at the new
        level, then every later day; after any other event (a critical failure, a new
        agent version), the days after it.
        """
        if candidate is None or times.micros(candidate) <= self.start:
            return self
        start = times.micros(candidate)
        # The change's own day counts unless the clock already left that day out.
        level_day = level and start // MICROS_PER_DAY >= self.day
        return _Clock(start, reason, start // MICROS_PER_DAY + 1, level_day)

    def evidence(self, counts: Mapping[str, int], window_reason: str) -> Evidence:
        """The counts, dated by the first UTC day counted."""
        return Evidence(
            **counts,
            counted_from=times.at_micros((self.day - self.level_day) * MICROS_PER_DAY),
            counted_from_reason=self.reason,
            reset=self.reason != window_reason,
            level_day=self.level_day,
        )


def _count(
    groups: _Groups,
    timelines: Mapping[int, _Timeline],
    seg: pd.DataFrame,
    has: np.ndarray,
    which: str,
    window_reason: str,
    current: np.ndarray,
) -> dict[int, Evidence]:
    """Per reported group: the counts of the days its ``which`` clock counts.

    ``current`` is each group's current level (rank): on the day of a level change
    only the decisions made at it count.
    """
    days = np.full(len(groups.keys), np.iinfo(np.int64).max, dtype=np.int64)
    level_day = np.full(len(groups.keys), np.iinfo(np.int64).max, dtype=np.int64)
    clocks: dict[int, _Clock] = {
        g: clock for g, t in timelines.items() if (clock := getattr(t, which)) is not None
    }
    for g, clock in clocks.items():
        days[g] = clock.day
        if clock.level_day:
            level_day[g] = clock.day - 1
    seg_days = seg["day"].to_numpy()
    at_level = seg["mode"].to_numpy().astype(np.int64) == current[groups.of_row]
    counted = has & (
        (seg_days >= days[groups.of_row]) | (at_level & (seg_days == level_day[groups.of_row]))
    )
    values = {name: np.where(counted, seg[name].to_numpy(), 0) for name in COUNTS}
    # Once the agent acts, humans review only some actions: agreement counts the audit
    # sample's reviews, never the ones chosen because something looked wrong (or right).
    acting = seg["mode"].to_numpy() >= Level.AUTO_NOTIFY.rank
    for name in SAMPLING:
        values[name] = np.where(acting, values[name], 0)
    values["reviewed"] = values["reviewed"] - values["unsampled"]
    values["agreed"] = values["agreed"] - values.pop("unsampled_agreed")
    totals = {name: groups.total(column) for name, column in values.items()}
    return {
        g: clock.evidence({name: int(values[g]) for name, values in totals.items()}, window_reason)
        for g, clock in clocks.items()
    }


def _recent_reason(rules: TrustRules) -> str:
    """What starts the recent record's clock when no level change is later."""
    return f"recent window start ({rules.demote.recent} before as_of)"


def _window_reason(rules: TrustRules) -> str:
    return f"window start ({rules.window} before as_of)"


def sort_key(key: GroupKey) -> tuple[tuple[int, str], ...]:
    """Order of groups in the policy: by key part, tiers as numbers."""
    return tuple((0, f"{v:08d}") if isinstance(v, int) else (1, v) for v in key)


def _normalise_key(raw: object) -> GroupKey:
    parts = raw if isinstance(raw, tuple) else (raw,)
    return tuple(int(p) if isinstance(p, (int, np.integer)) else str(p) for p in parts)


def _absent_group(
    key: GroupKey, prior: PriorState, window_start: int, rules: TrustRules
) -> GroupState:
    """A group the previous policy names but no decision up to ``as_of`` touches."""
    window = _Clock.window(window_start, _window_reason(rules))
    clock = window.later(prior.last_demoted, "last demotion", level=True)
    nothing = clock.evidence(dict.fromkeys(_COUNTED, 0), _window_reason(rules))
    record = clock.later(prior.last_promoted, "last promotion", level=True)
    recent = _recent(record, rules, window_start)
    # Its tiers are only known from its key; a tier in the key still caps it.
    system_tier = dict(zip(rules.key_fields, key, strict=True)).get("system_tier", 0)
    return GroupState(
        key=key,
        current=prior.level,
        current_source="previous policy",
        level_since=prior.since,
        last_promoted=prior.last_promoted,
        last_demoted=prior.last_demoted,
        evidence=nothing,
        demotion_evidence=record.evidence(dict.fromkeys(_COUNTED, 0), _window_reason(rules)),
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
        recent_evidence=(
            None
            if recent is None
            else recent.evidence(dict.fromkeys(_COUNTED, 0), _recent_reason(rules))
        ),
    )


def empty_evidence(start: dt.datetime, reason: str) -> Evidence:
    """No decisions counted yet, on a clock started by ``reason`` at ``start``."""
    clock = _Clock.window(times.micros(start) - 1, "").later(start, reason, level=True)
    return clock.evidence(dict.fromkeys(_COUNTED, 0), "")
