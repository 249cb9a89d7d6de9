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
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from trustctl import level_history, segments, times
from trustctl.distinct import filled
from trustctl.evidence_clocks import (
    COUNTED,
    Clock,
    Timeline,
    count_evidence,
    empty_evidence,
    recent_clock,
    recent_reason,
    timeline,
    version_change,
    window_reason,
)
from trustctl.evidence_groups import latest_critical, number_groups, risk_tiers_of
from trustctl.evidence_model import (
    Evidence,
    GroupKey,
    GroupState,
    PriorState,
    VersionChange,
    sort_key,
)
from trustctl.levels import LADDER
from trustctl.rules import TrustRules
from trustctl.segments import NO_TIME, Segments

if TYPE_CHECKING:
    import pandas as pd

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


def _instant(micros: int) -> dt.datetime | None:
    """Like ``times.at_micros``, with ``None`` for ``NO_TIME`` (no such event)."""
    return None if micros == NO_TIME else times.at_micros(micros)


def collect(
    frame: pd.DataFrame,
    rules: TrustRules,
    as_of: dt.datetime,
    previous: Mapping[GroupKey, PriorState] | None = None,
) -> list[GroupState]:
    """Build every group's state from merged decisions (``Decisions.frame``) up to ``as_of``."""
    import pandas as pd

    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    known = stamps <= times.micros(as_of)
    data = frame if known.all() else frame[known]
    return collect_segments(segments.from_decisions(data, rules.bands), rules, as_of, previous)


def collect_segments(
    seg: Segments,
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
    window_day = Clock.window(window_start, "").day
    groups = number_groups(seg, keys)
    days = seg["day"]
    has = seg["decisions"] > 0
    active = groups.total(has & (days >= window_day)) > 0
    history = level_history.read(groups.of_row, len(groups.keys), seg, has)
    crit_counts = seg["critical_failures"]
    critical = (crit_counts > 0) & (days >= window_day)
    critical_count = groups.total(np.where(critical, crit_counts, 0))
    critical_row = latest_critical(groups, seg, critical)
    tier_column = seg["system_tier"].astype(np.int64)
    system_tiers = groups.tier_sets(tier_column, has & (tier_column > 0))
    tier_services = groups.tier_services(
        tier_column, filled(seg["service"]), has & (tier_column > 0)
    )
    risk_tiers = groups.tier_sets(risk_tiers_of(seg, rules), has)
    critical_at = seg["critical_at"]
    critical_ids = seg["critical_id"]

    in_window = window_reason(rules)
    timelines: dict[int, Timeline] = {}
    for g, key in enumerate(groups.keys):
        prior = previous.get(key)
        if not active[g] and prior is None:
            continue  # nothing in the window and no level to keep: not reported
        crit = int(critical_row[g])
        timelines[g] = timeline(
            prior,
            rules,
            window_start,
            in_window,
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
    promotion = count_evidence(groups, timelines, seg, has, "promotion", in_window, current)
    demotion = count_evidence(groups, timelines, seg, has, "demotion", in_window, current)
    recent = count_evidence(groups, timelines, seg, has, "recent", recent_reason(rules), current)
    new_version = count_evidence(groups, timelines, seg, has, "new_version", in_window, current)
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
            version_change=version_change(t, new_version.get(g)),
            tier_services=tier_services[g],
        )
    for key, prior in previous.items():
        if key not in states:
            states[key] = _absent_group(key, prior, window_start, rules)
    return [states[key] for key in sorted(states, key=sort_key)]


def _absent_group(
    key: GroupKey, prior: PriorState, window_start: int, rules: TrustRules
) -> GroupState:
    """A group the previous policy names but no decision up to ``as_of`` touches."""
    window = Clock.window(window_start, window_reason(rules))
    clock = window.later(prior.last_demoted, "last demotion", level=True)
    nothing = clock.evidence(dict.fromkeys(COUNTED, 0), window_reason(rules))
    record = clock.later(prior.last_promoted, "last promotion", level=True)
    recent = recent_clock(record, rules, window_start)
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
        demotion_evidence=record.evidence(dict.fromkeys(COUNTED, 0), window_reason(rules)),
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
            else recent.evidence(dict.fromkeys(COUNTED, 0), recent_reason(rules))
        ),
    )
