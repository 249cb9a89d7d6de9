"""The policy evaluated step by step over time, each step building on the one before.

A weekly job that regenerates the policy with ``--previous`` set to last week's (and the
ledger beside it) gives, at each run, what ``trustctl history`` gives at each step: the
first step starts from the log's modes, every later one from the step before. The logs
are read once; each step adds the evidence segments of the decisions made since the step
before to those already counted, so a step costs days × groups, not rows. A decision whose rows were
still arriving at a step's moment (proposed before it, judged or verified after) is not
yet what the whole log says: at such a step the logs are read as known at that moment,
as ``generate --as-of`` would.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from trustctl import segments, times
from trustctl.diff import label
from trustctl.errors import InputError, TrustctlError
from trustctl.evidence import GroupKey
from trustctl.filters import Filter
from trustctl.ingest import Decisions, load_decisions
from trustctl.inputs import Logs, Read, filtered
from trustctl.ledger import Ledger
from trustctl.levels import Level
from trustctl.policy_model import Policy
from trustctl.record import Run, document, run
from trustctl.rules import LoadedRules
from trustctl.schema import OUTCOME_CODES, SEVERITY_CODES
from trustctl.verdict import Verdict

__all__ = ["Activity", "History", "Step", "history", "pick_groups", "step_times"]

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
    reread: int
    """Steps at which the logs were read again, for decisions still arriving at that moment."""


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


@dataclass(frozen=True)
class _Known:
    """A source that is already read: the segments counted up to one step."""

    known: Read
    nothing: str = "the logs hold no decision"

    def read(self, until: dt.datetime | None) -> Read:
        return self.known


def _keys(frame: pd.DataFrame, group_by: Sequence[str]) -> list[GroupKey]:
    columns = [frame[name].to_numpy() for name in group_by]
    return [
        tuple(int(v) if isinstance(v, (int, np.integer)) else str(v) for v in values)
        for values in zip(*columns, strict=True)
    ]


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
    counts = pd.DataFrame(
        {
            "step": step[inside],
            "key": _keys(rows, group_by),
            "decisions": 1,
            "unattended": unattended,
            "failures": failed,
            "critical": critical,
        }
    ).groupby(["step", "key"], sort=False)[["decisions", "unattended", "failures", "critical"]]
    for (index, key), sums in counts.sum().iterrows():
        found[int(index)][key] = Activity(*(int(v) for v in sums.tolist()))
    return found


def history(
    paths: Sequence[Path],
    rules: LoadedRules,
    *,
    every: dt.timedelta = dt.timedelta(days=7),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    where: Sequence[Filter] = (),
    already: Decisions | None = None,
    known: dict[dt.datetime, Read] | None = None,
) -> History:
    """The policy at each step from ``since`` (default: the window's start before
    ``until``) to ``until`` (default: when the latest row was recorded); only the
    decisions that meet every filter in ``where`` count. ``already``: the logs' decisions
    already read whole (``whatif --replay`` replays many rules on one read); ``known``: the
    logs as read again at earlier runs' steps, by moment, for runs on the same logs and
    filters (filled in as the logs are read again)."""
    decisions = filtered(load_decisions(paths) if already is None else already, where)
    frame = decisions.frame
    recorded = pd.DatetimeIndex(frame["recorded_at"]).as_unit("us").asi8
    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    end = until or times.at_micros(int(recorded.max()))
    moments = step_times(since or end - rules.rules.window_span, end, every)
    activity = _activity(frame, rules.rules.group_by, moments, every)
    steps: list[Step] = []
    counted = segments.empty()
    done = 0
    previous: Policy | None = None
    book = Ledger(Path("history.ledger.jsonl"))
    """The ledger the steps build, as ``generate -o`` would at each (kept in memory)."""
    reread = 0
    for moment, active in zip(moments, activity, strict=True):
        cut = times.micros(moment)
        upto = int(np.searchsorted(stamps, cut, side="right"))
        if upto > done:
            counted = segments.merge([counted, segments.from_decisions(frame.iloc[done:upto])])
            done = upto
        if bool(np.any(recorded[:upto] > cut)):
            reread += 1
            cached = None if known is None else known.get(moment)
            read = cached or Logs(paths, where=tuple(where)).read(moment)
            if known is not None:
                known[moment] = replace(read, decisions=None)  # the segments are what count
        else:
            read = Read(
                segments=counted,
                report=decisions.report,
                after_as_of=len(frame) - upto,
                latest=moment,
                until=moment,
            )
        result = _evaluated(_Known(read), rules, previous, book, moment)
        if result is None:
            steps.append(Step(as_of=moment, verdicts=(), activity=active))
            continue
        book = result.ledger
        previous = document(result, book.head)
        verdicts = tuple(o.verdict for o in result.outcomes)
        steps.append(Step(as_of=moment, verdicts=verdicts, activity=active))
    return History(
        steps=tuple(steps),
        group_by=rules.rules.group_by,
        decisions=decisions,
        reread=reread,
    )


def _evaluated(
    source: _Known, rules: LoadedRules, previous: Policy | None, book: Ledger, moment: dt.datetime
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
