"""Replay: the baseline and each scenario run week by week over the logs, and what it exposed.

Each scenario is a ``trustctl.history`` run with its rules, from one read of the logs: at
each step the policy is built on the step before from what was known then. Between two
steps every decision runs under the level in force at the earlier one; a decision at
``auto_notify`` or ``full`` runs before any human approves it. Its outcome is what the log
recorded: a proposal a human rejected has none, so its failure cannot be known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trustctl import times
from trustctl.errors import TrustctlError
from trustctl.evidence import GroupKey
from trustctl.filters import Filter
from trustctl.history import History, history
from trustctl.ingest import load_decisions
from trustctl.inputs import Read, filtered
from trustctl.levels import Level
from trustctl.overrides import apply_overrides
from trustctl.rules import LoadedRules, load_rules
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES
from trustctl.whatif import Scenario

__all__ = ["Exposure", "Replay", "Replayed", "replay"]

_DISAGREED = [HUMAN_CODES[h] for h in ("rejected", "modified", "overridden")]


@dataclass(frozen=True)
class Exposure:
    """One group's (or all groups') decisions between the first step and the last."""

    decisions: int = 0
    automated: int = 0
    """Run without prior human approval: the level in force was auto_notify or full."""
    failures: int = 0
    """Failures among the automated ones (as the log recorded their outcome)."""
    critical: int = 0
    disagreed: int = 0
    """Automated ones a human rejected, modified or overrode in the log."""
    failure_ids: tuple[str, ...] = ()
    critical_ids: tuple[str, ...] = ()

    @property
    def share(self) -> float | None:
        """``automated / decisions`` (``None`` with no decision)."""
        return self.automated / self.decisions if self.decisions else None


@dataclass(frozen=True)
class Replayed:
    """One scenario (or the baseline) replayed."""

    scenario: Scenario
    rules: LoadedRules
    history: History
    total: Exposure
    groups: dict[GroupKey, Exposure]
    promoted: dict[GroupKey, dt.datetime | None]
    """The first step at which each group stood above its level at the first step."""


@dataclass(frozen=True)
class Replay:
    """The baseline and every scenario over the same steps."""

    baseline: Replayed
    scenarios: tuple[Replayed, ...]
    group_by: tuple[str, ...]
    moments: tuple[dt.datetime, ...]


def _key(values: tuple[object, ...]) -> GroupKey:
    return tuple(int(v) if isinstance(v, (int, np.integer)) else str(v) for v in values)


def _exposure(frame: pd.DataFrame, automated: np.ndarray) -> Exposure:
    ids = frame["decision_id"].to_numpy()
    failed = automated & (frame["outcome"].to_numpy() == OUTCOME_CODES["failure"])
    critical = failed & (frame["severity"].to_numpy() == SEVERITY_CODES["critical"])
    disagreed = automated & np.isin(frame["human_decision"].to_numpy(), _DISAGREED)
    return Exposure(
        decisions=len(frame),
        automated=int(automated.sum()),
        failures=int(failed.sum()),
        critical=int(critical.sum()),
        disagreed=int(disagreed.sum()),
        failure_ids=tuple(str(i) for i in ids[failed]),
        critical_ids=tuple(str(i) for i in ids[critical]),
    )


def _exposures(found: History) -> tuple[Exposure, dict[GroupKey, Exposure]]:
    """Each decision after the first step under the level in force at the step before it."""
    moments = [step.as_of for step in found.steps]
    frame = found.decisions.frame
    edges = np.array([times.micros(m) for m in moments], dtype=np.int64)
    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    step = np.searchsorted(edges, stamps, side="left")  # (edge[i-1], edge[i]] is step i
    inside = (step >= 1) & (step < len(moments))
    rows = frame[inside].reset_index(drop=True)
    step = step[inside]
    codes, uniques = pd.MultiIndex.from_frame(rows[list(found.group_by)]).factorize()
    keys = [_key(tuple(u)) for u in uniques]
    rank = np.full((len(moments), len(keys)), Level.OBSERVE.rank, dtype=np.int8)
    column = {key: index for index, key in enumerate(keys)}
    for index, at in enumerate(found.steps):
        for verdict in at.verdicts:
            if verdict.state.key in column:
                rank[index, column[verdict.state.key]] = verdict.level.rank
    automated = rank[step - 1, codes] >= Level.AUTO_NOTIFY.rank
    groups = {
        key: _exposure(rows[codes == index], automated[codes == index])
        for index, key in enumerate(keys)
    }
    return _exposure(rows, automated), groups


def _promoted(found: History) -> dict[GroupKey, dt.datetime | None]:
    first: dict[GroupKey, int] = {}
    promoted: dict[GroupKey, dt.datetime | None] = {}
    for step in found.steps:
        for verdict in step.verdicts:
            key = verdict.state.key
            start = first.setdefault(key, verdict.level.rank)
            promoted.setdefault(key, None)
            if promoted[key] is None and verdict.level.rank > start:
                promoted[key] = step.as_of
    return promoted


def replay(
    paths: Sequence[Path],
    rules: LoadedRules,
    scenarios: Sequence[Scenario],
    *,
    every: dt.timedelta = dt.timedelta(days=7),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    where: Sequence[Filter] = (),
) -> Replay:
    """Replay the baseline and each scenario over the same steps, from one read of the logs.

    A step at which some decision was still arriving reads the logs as known then (as
    ``trustctl history`` does); runs with the same filters share those reads.

    The steps run from ``since`` (default: the baseline's window before ``until``) to
    ``until`` (default: when the latest row was recorded), ``every`` apart.
    """
    for scenario in scenarios:
        if scenario.as_of is not None:
            raise TrustctlError(
                f"--scenario {scenario.name}: as_of has no place in a replay, which runs at "
                "every step; use --since and --until"
            )
    decisions = load_decisions(paths)
    recorded = pd.DatetimeIndex(filtered(decisions, where).frame["recorded_at"]).as_unit("us")
    end = until or times.at_micros(int(recorded.asi8.max()))
    start = since or end - rules.rules.window_span

    known: dict[tuple[str, ...], dict[dt.datetime, Read]] = {}

    def run(scenario: Scenario, loaded: LoadedRules) -> Replayed:
        filters = (*where, *scenario.where)
        found = history(
            paths,
            loaded,
            every=every,
            since=start,
            until=end,
            where=filters,
            already=decisions,
            known=known.setdefault(tuple(f.text for f in filters), {}),
        )
        total, groups = _exposures(found)
        return Replayed(scenario, loaded, found, total, groups, _promoted(found))

    baseline = run(Scenario("baseline"), rules)
    replayed = []
    for scenario in scenarios:
        begin = rules if scenario.rules_file is None else load_rules(scenario.rules_file)
        loaded = apply_overrides(begin, scenario.overrides, f"--scenario {scenario.name}:")
        replayed.append(run(scenario, loaded))
    moments = tuple(step.as_of for step in baseline.history.steps)
    return Replay(baseline, tuple(replayed), rules.rules.group_by, moments)
