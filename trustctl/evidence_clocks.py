"""Evidence clocks: where each of a group's records starts (the window, the last level
change, a critical failure, a new agent version, the recent window), in whole UTC days, and
the counts of the days each clock counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from trustctl import times
from trustctl.evidence_groups import Groups
from trustctl.evidence_model import Evidence, PriorState, VersionChange
from trustctl.levels import Level
from trustctl.rules import TrustRules, parse_duration
from trustctl.segments import COUNTS, SAMPLING, Segments
from trustctl.times import MICROS_PER_DAY

__all__ = [
    "COUNTED",
    "Clock",
    "Timeline",
    "count_evidence",
    "empty_evidence",
    "recent_clock",
    "recent_reason",
    "timeline",
    "version_change",
    "window_reason",
]

#: What an ``Evidence`` counts: the segments' counts, agreement already without reviews
#: outside the audit sample.
COUNTED = tuple(name for name in COUNTS if name != "unsampled_agreed")


@dataclass(frozen=True)
class Timeline:
    """A reported group's level history and where its evidence clocks start."""

    prior: PriorState | None
    last_promoted: dt.datetime | None
    last_demoted: dt.datetime | None
    last_critical: dt.datetime | None
    version: str | None
    version_since: dt.datetime | None
    """When the agent last changed to ``version``, if that restarts the clock; else ``None``."""
    demotion: Clock
    promotion: Clock
    recent: Clock | None
    """The demotion clock, or the recent window's start when that is later."""
    previous_version: str | None = None
    """With ``agent_version_change: probation``: the version before ``version``."""
    changed_at: dt.datetime | None = None
    """With ``agent_version_change: probation``: when ``version`` took over from it."""
    new_version: Clock | None = None
    """With ``agent_version_change: probation``: the promotion clock restarted by the change."""


def timeline(
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
) -> Timeline:
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
    window = Clock.window(window_start, window_reason)
    since_demotion = window.later(last_demoted, "last demotion", level=True)
    # Demotion judges the record at the current level: since the last level change.
    demotion = since_demotion.later(last_promoted, "last promotion", level=True)
    since_critical = since_demotion.later(last_critical, "last critical failure")
    change_reason = f"change to agent version {version}"
    return Timeline(
        prior=prior,
        last_promoted=last_promoted,
        last_demoted=last_demoted,
        last_critical=last_critical,
        version=version,
        version_since=version_since,
        demotion=demotion,
        recent=recent_clock(demotion, rules, window_start),
        promotion=since_critical.later(version_since, change_reason),
        previous_version=previous_version if probation else None,
        changed_at=changed_at,
        new_version=None if changed_at is None else since_critical.later(changed_at, change_reason),
    )


def version_change(timeline: Timeline, record: Evidence | None) -> VersionChange | None:
    previous, version, at = timeline.previous_version, timeline.version, timeline.changed_at
    if previous is None or version is None or at is None or record is None:
        return None
    return VersionChange(previous, version, at, record)


def recent_clock(demotion: Clock, rules: TrustRules, window_start: int) -> Clock | None:
    """The recent record's clock: the demotion clock, unless the recent window starts later."""
    if rules.demote.recent is None:
        return None
    as_of = window_start + rules.window_span // dt.timedelta(microseconds=1)
    recent = Clock.window(
        as_of - parse_duration(rules.demote.recent) // dt.timedelta(microseconds=1),
        recent_reason(rules),
    )
    return recent if recent.day >= demotion.day else demotion


@dataclass(frozen=True)
class Clock:
    """Where an evidence clock starts, and the whole UTC days it counts."""

    start: int
    """Microseconds since the epoch."""
    reason: str
    day: int
    """The first day counted in full (days since the epoch)."""
    level_day: bool = False
    """Whether the day before ``day`` counts too, for its decisions at the current level."""

    @classmethod
    def window(cls, start: int, reason: str) -> Clock:
        """The window counts the days that begin at or after its start."""
        return cls(start, reason, -(-start // MICROS_PER_DAY))

    def later(self, candidate: dt.datetime | None, reason: str, *, level: bool = False) -> Clock:
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
        return Clock(start, reason, start // MICROS_PER_DAY + 1, level_day)

    def evidence(self, counts: Mapping[str, int], window_reason: str) -> Evidence:
        """The counts, dated by the first UTC day counted."""
        return Evidence(
            **counts,
            counted_from=times.at_micros((self.day - self.level_day) * MICROS_PER_DAY),
            counted_from_reason=self.reason,
            reset=self.reason != window_reason,
            level_day=self.level_day,
        )


def count_evidence(
    groups: Groups,
    timelines: Mapping[int, Timeline],
    seg: Segments,
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
    clocks: dict[int, Clock] = {
        g: clock for g, t in timelines.items() if (clock := getattr(t, which)) is not None
    }
    for g, clock in clocks.items():
        days[g] = clock.day
        if clock.level_day:
            level_day[g] = clock.day - 1
    seg_days = seg["day"]
    at_level = seg["mode"].astype(np.int64) == current[groups.of_row]
    counted = has & (
        (seg_days >= days[groups.of_row]) | (at_level & (seg_days == level_day[groups.of_row]))
    )
    values = {name: np.where(counted, seg[name], 0) for name in COUNTS}
    # Once the agent acts, humans review only some actions: agreement counts the audit
    # sample's reviews, never the ones chosen because something looked wrong (or right).
    acting = seg["mode"] >= Level.AUTO_NOTIFY.rank
    for name in SAMPLING:
        values[name] = np.where(acting, values[name], 0)
    values["reviewed"] = values["reviewed"] - values["unsampled"]
    values["agreed"] = values["agreed"] - values.pop("unsampled_agreed")
    totals = {name: groups.total(column) for name, column in values.items()}
    return {
        g: clock.evidence({name: int(values[g]) for name, values in totals.items()}, window_reason)
        for g, clock in clocks.items()
    }


def recent_reason(rules: TrustRules) -> str:
    """What starts the recent record's clock when no level change is later."""
    return f"recent window start ({rules.demote.recent} before as_of)"


def window_reason(rules: TrustRules) -> str:
    return f"window start ({rules.window} before as_of)"


def empty_evidence(start: dt.datetime, reason: str) -> Evidence:
    """No decisions counted yet, on a clock started by ``reason`` at ``start``."""
    clock = Clock.window(times.micros(start) - 1, "").later(start, reason, level=True)
    return clock.evidence(dict.fromkeys(COUNTED, 0), "")
