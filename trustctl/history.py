"""The policy evaluated step by step over time, each step building on the one before.

A weekly job that regenerates the policy with ``--previous`` set to last week's (and the
ledger beside it) gives, at each run, what ``trustctl history`` gives at each step: the
first step starts from the log's modes, every later one from the step before. The logs
are read once (``trustctl.cuts``): each step adds the evidence segments of the decisions
whole since the step before to those already counted, and merges the few still arriving
(proposed before it, judged or verified after) as known at that moment, as
``generate --as-of`` would; a step costs days × groups, not rows.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from trustctl import times
from trustctl.bands import Bands
from trustctl.cuts import reads_at
from trustctl.diff import label
from trustctl.errors import InputError, TrustctlError
from trustctl.evidence import GroupKey
from trustctl.filters import Filter
from trustctl.ingest import Decisions, load_timeline
from trustctl.inputs import Known, Read, filtered
from trustctl.ledger import Ledger
from trustctl.levels import Level
from trustctl.policy_model import Policy
from trustctl.record import Run, document, run
from trustctl.rules import LoadedRules
from trustctl.schema import OUTCOME_CODES, SEVERITY_CODES
from trustctl.verdict import Verdict

__all__ = [
    "Activity",
    "Chain",
    "History",
    "Step",
    "histories",
    "history",
    "pick_groups",
    "step_times",
]

_UNATTENDED = Level.AUTO_NOTIFY.rank
"""From ``auto_notify`` up, an action runs before any human has approved it."""


@dataclass(frozen=True)
class Activity:
    """What one group did between the step before and this one."""

    decisions: int = 0
    unattended: int = 0
    """Executed without prior human approval (made at ``auto_notify`` or ``full``)."""
    failures: int = 0
    """Failures among the unattended ones."""
    critical: int = 0
    """Critical failures among the unattended ones."""


@dataclass(frozen=True)
class Step:
    """The policy as of one moment, and each group's activity since the step before."""

    as_of: dt.datetime
    verdicts: tuple[Verdict, ...]
    activity: dict[GroupKey, Activity]

    def activity_of(self, key: GroupKey) -> Activity:
        """The group's activity in this step (none when it had none)."""
        return self.activity.get(key, Activity())


@dataclass(frozen=True)
class History:
    """Every step, the decisions read, and how groups are named."""

    steps: tuple[Step, ...]
    group_by: tuple[str, ...]
    decisions: Decisions


def step_times(since: dt.datetime, until: dt.datetime, every: dt.timedelta) -> list[dt.datetime]:
    """``since``, ``since + every``, … up to ``until``, and ``until`` itself (``every > 0``)."""
    if since > until:
        raise TrustctlError(f"--since {times.stamp(since)} is after --until {times.stamp(until)}")
    moments = []
    moment = since
    while moment < until:
        moments.append(moment)
        moment += every
    moments.append(until)
    return moments


def _key(values: Sequence[object]) -> GroupKey:
    return tuple(int(v) if isinstance(v, (int, np.integer)) else str(v) for v in values)


def _activity(
    frame: pd.DataFrame,
    group_by: Sequence[str],
    moments: Sequence[dt.datetime],
    every: dt.timedelta,
) -> list[dict[GroupKey, Activity]]:
    """Per step: each group's activity since the step before (``every`` before the first)."""
    edges = np.array(
        [times.micros(moments[0] - every), *(times.micros(m) for m in moments)], dtype=np.int64
    )
    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    step = np.searchsorted(edges, stamps, side="left") - 1  # (edge[i], edge[i + 1]] is step i
    inside = (step >= 0) & (step < len(moments))
    rows = frame[inside]
    unattended = rows["executed"].to_numpy() & (rows["mode"].to_numpy() >= _UNATTENDED)
    failed = unattended & (rows["outcome"].to_numpy() == OUTCOME_CODES["failure"])
    critical = failed & (rows["severity"].to_numpy() == SEVERITY_CODES["critical"])
    found: list[dict[GroupKey, Activity]] = [{} for _ in moments]
    counts = (
        rows[list(group_by)]
        .reset_index(drop=True)
        .assign(
            step=step[inside],
            decisions=1,
            unattended=unattended,
            failures=failed,
            critical=critical,
        )
        .groupby(["step", *group_by], sort=False, observed=True)
    )
    totals = counts[["decisions", "unattended", "failures", "critical"]].sum()
    for (index, *values), sums in zip(totals.index, totals.to_numpy().tolist(), strict=True):
        found[int(index)][_key(values)] = Activity(*(int(v) for v in sums))
    return found


@dataclass(frozen=True)
class Chain:
    """One run of steps: the rules it decides with and the decisions that count."""

    rules: LoadedRules
    where: tuple[Filter, ...] = ()


class _Walk:
    """A chain's steps so far, each building on the policy and ledger of the one before."""

    def __init__(self, rules: LoadedRules) -> None:
        self.rules = rules
        self.previous: Policy | None = None
        self.book = Ledger(Path("history.ledger.jsonl"))
        """The ledger the steps build, as ``generate -o`` would at each (kept in memory)."""
        self.steps: list[Step] = []

    def step(self, moment: dt.datetime, active: dict[GroupKey, Activity], known: Read) -> None:
        result = _evaluated(Known(known), self.rules, self.previous, self.book, moment)
        verdicts: tuple[Verdict, ...] = ()
        if result is not None:
            self.book = result.ledger
            self.previous = document(result, self.book.head)
            verdicts = tuple(o.verdict for o in result.outcomes)
        self.steps.append(Step(as_of=moment, verdicts=verdicts, activity=active))


def history(
    paths: Sequence[Path],
    rules: LoadedRules,
    *,
    every: dt.timedelta = dt.timedelta(days=7),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    where: Sequence[Filter] = (),
) -> History:
    """The policy at each step from ``since`` (default: the window's start before
    ``until``) to ``until`` (default: when the latest row was recorded); only the
    decisions that meet every filter in ``where`` count."""
    read = load_timeline(paths)
    recorded = pd.DatetimeIndex(filtered(read, where).frame["recorded_at"]).as_unit("us").asi8
    end = until or times.at_micros(int(recorded.max()))
    moments = step_times(since or end - rules.rules.window_span, end, every)
    return histories(read, [Chain(rules, tuple(where))], moments, every)[0]


def histories(
    read: Decisions, chains: Sequence[Chain], moments: Sequence[dt.datetime], every: dt.timedelta
) -> list[History]:
    """Each chain stepped over the same moments from one read of the logs (by
    ``load_timeline``); chains with the same filters share each step's segments.

    ``every``: the time before the first moment its activity is counted over."""
    found: dict[int, History] = {}
    alike: dict[tuple[tuple[str, ...], Bands], list[int]] = {}
    for index, chain in enumerate(chains):
        same = (tuple(f.text for f in chain.where), chain.rules.rules.bands)
        alike.setdefault(same, []).append(index)
    for (_, bands), members in alike.items():
        where = chains[members[0]].where
        decisions = filtered(read, where)
        decisions = replace(decisions, frame=bands.split(decisions.frame))
        activity = {
            group_by: _activity(decisions.frame, group_by, moments, every)
            for group_by in {chains[i].rules.rules.key_fields for i in members}
        }
        walks = {i: _Walk(chains[i].rules) for i in members}
        for index, known in enumerate(reads_at(read, moments, where, bands)):
            for walk in walks.values():
                walk.step(moments[index], activity[walk.rules.rules.key_fields][index], known)
        for i, walk in walks.items():
            group_by = walk.rules.rules.key_fields
            found[i] = History(steps=tuple(walk.steps), group_by=group_by, decisions=decisions)
    return [found[i] for i in range(len(chains))]


def _evaluated(
    source: Known, rules: LoadedRules, previous: Policy | None, book: Ledger, moment: dt.datetime
) -> Run | None:
    """The step's run on the ledger so far; ``None`` when nothing was decided in its window
    yet."""
    if previous is None and not len(source.known.segments):
        return None
    try:
        return run(source, rules, book, previous, moment)
    except InputError:
        if previous is None:
            return None  # nothing in the window yet: the first steps may predate the log
        raise


def pick_groups(found: History, wanted: Sequence[str]) -> History:
    """Only the groups named (by action class or by label); unknown names are refused."""
    if not wanted:
        return found
    names: dict[str, set[GroupKey]] = {}
    for step in found.steps:
        for verdict in step.verdicts:
            key = verdict.state.key
            names.setdefault(str(key[0]), set()).add(key)
            names.setdefault(label(found.group_by, key), set()).add(key)
    keys: set[GroupKey] = set()
    for name in wanted:
        if name not in names:
            close = difflib.get_close_matches(name, sorted(names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TrustctlError(f"--group {name!r}: no such group{hint}")
        keys |= names[name]
    return replace(
        found,
        steps=tuple(
            replace(
                step,
                verdicts=tuple(v for v in step.verdicts if v.state.key in keys),
                activity={k: a for k, a in step.activity.items() if k in keys},
            )
            for step in found.steps
        ),
    )
