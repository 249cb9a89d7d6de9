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
from trustctl.history import Chain, History, histories, step_times
from trustctl.ingest import OnBadRows, load_timeline
from trustctl.inputs import filtered
from trustctl.levels import Level
from trustctl.overrides import apply_overrides
from trustctl.rules import LoadedRules, load_rules
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES
from trustctl.whatif import Scenario, same_groups

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
    review_minutes: float | None = None
    """Minutes of human review per decision (``--review-minutes``): each automated decision
    saved one review."""

    def minutes_saved(self, exposure: Exposure) -> float | None:
        """``automated × review_minutes`` (``None`` without the minutes)."""
        return None if self.review_minutes is None else exposure.automated * self.review_minutes


@dataclass(frozen=True)
class _Rows:
    """The decisions after the first step and up to the last: each one's row in the frame,
    the step it falls in and its group (numbered among ``keys``)."""

    inside: np.ndarray
    step: np.ndarray
    group: np.ndarray
    keys: list[GroupKey]


def _column_codes(column: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, list[object]]:
    """Each row's code in one key column and the values the codes stand for (a category's
    codes as they are; tiers, plain integers, numbered)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()[rows].astype(np.int64)
        return codes, [str(v) for v in column.cat.categories]
    values, codes = np.unique(column.to_numpy()[rows], return_inverse=True)
    return codes.reshape(-1).astype(np.int64), [int(v) for v in values.tolist()]


def _rows(frame: pd.DataFrame, group_by: Sequence[str], moments: Sequence[dt.datetime]) -> _Rows:
    """Which decisions fall after the first step, in which step and group (computed once for
    the runs that count the same decisions)."""
    edges = np.array([times.micros(m) for m in moments], dtype=np.int64)
    stamps = pd.DatetimeIndex(frame["timestamp"]).as_unit("us").asi8
    step = np.searchsorted(edges, stamps, side="left")  # (edge[i-1], edge[i]] is step i
    inside = np.flatnonzero((step >= 1) & (step < len(moments)))
    group = np.zeros(len(inside), dtype=np.int64)
    columns = []
    for name in group_by:
        codes, values = _column_codes(frame[name], inside)
        # Fold this column in and renumber densely, so the numbers never overflow.
        _, first, group = np.unique(
            group * max(len(values), 1) + codes, return_index=True, return_inverse=True
        )
        group = group.reshape(-1)
        columns.append((codes, values))
    keys = [tuple(values[codes[row]] for codes, values in columns) for row in first.tolist()]
    return _Rows(inside, step[inside], group, keys)


def _exposures(found: History, rows: _Rows) -> tuple[Exposure, dict[GroupKey, Exposure]]:
    """Each decision after the first step under the level in force at the step before it."""
    frame, inside, step, codes, keys = (
        found.decisions.frame,
        rows.inside,
        rows.step,
        rows.group,
        rows.keys,
    )
    moments = [at.as_of for at in found.steps]
    rank = np.full((len(moments), len(keys)), Level.OBSERVE.rank, dtype=np.int8)
    column = {key: index for index, key in enumerate(keys)}
    for index, at in enumerate(found.steps):
        for verdict in at.verdicts:
            if verdict.state.key in column:
                rank[index, column[verdict.state.key]] = verdict.level.rank
    automated = rank[step - 1, codes] >= Level.AUTO_NOTIFY.rank
    failed = automated & (frame["outcome"].to_numpy()[inside] == OUTCOME_CODES["failure"])
    critical = failed & (frame["severity"].to_numpy()[inside] == SEVERITY_CODES["critical"])
    disagreed = automated & np.isin(frame["human_decision"].to_numpy()[inside], _DISAGREED)
    ids = frame["decision_id"].iloc[inside[failed]].to_numpy(dtype=object)
    failed_in, critical_of_failed = codes[failed], critical[failed]

    counts = np.stack(
        [
            np.bincount(codes, weights=flags, minlength=len(keys)).astype(np.int64)
            for flags in (np.ones(len(codes)), automated, failed, critical, disagreed)
        ]
    )

    def exposure(numbers: np.ndarray, mine: np.ndarray) -> Exposure:
        made, alone, failures, criticals, overruled = (int(n) for n in numbers)
        return Exposure(
            decisions=made,
            automated=alone,
            failures=failures,
            critical=criticals,
            disagreed=overruled,
            failure_ids=tuple(str(i) for i in ids[mine]),
            critical_ids=tuple(str(i) for i in ids[mine & critical_of_failed]),
        )

    total = exposure(counts.sum(axis=1), np.ones(len(ids), dtype=bool))
    return total, {
        key: exposure(counts[:, index], failed_in == index) for index, key in enumerate(keys)
    }


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
    on_bad_rows: OnBadRows = "fail",
    review_minutes: float | None = None,
) -> Replay:
    """Replay the baseline and each scenario over the same steps, from one read of the logs.

    At each step every run sees the logs as known then (as ``trustctl history`` does).

    The steps run from ``since`` (default: the baseline's window before ``until``) to
    ``until`` (default: when the latest row was recorded), ``every`` apart. With
    ``on_bad_rows="skip"`` a decision with a bad row is left out of every step.
    """
    for scenario in scenarios:
        if scenario.as_of is not None:
            raise TrustctlError(
                f"--scenario {scenario.name}: as_of has no place in a replay, which runs at "
                "every step; use --since and --until"
            )
    decisions = load_timeline(paths, on_bad_rows)
    recorded = pd.DatetimeIndex(filtered(decisions, where).frame["recorded_at"]).as_unit("us")
    end = until or times.at_micros(int(recorded.asi8.max()))
    start = since or end - rules.rules.window_span
    runs = [(Scenario("baseline"), rules)]
    for scenario in scenarios:
        begin = rules if scenario.rules_file is None else load_rules(scenario.rules_file)
        loaded = apply_overrides(begin, scenario.overrides, f"--scenario {scenario.name}:")
        same_groups(scenario.name, rules, loaded)
        runs.append((scenario, loaded))
    chains = [Chain(loaded, (*where, *scenario.where)) for scenario, loaded in runs]
    moments = tuple(step_times(start, end, every))
    shared: dict[tuple[int, tuple[str, ...]], _Rows] = {}
    found = []
    for (scenario, loaded), steps in zip(
        runs, histories(decisions, chains, moments, every), strict=True
    ):
        # Runs with the same filters and bands step over the same frame.
        frame = steps.decisions.frame
        same = (id(frame), steps.group_by)
        if same not in shared:
            shared[same] = _rows(frame, steps.group_by, moments)
        rows = shared[same]
        found.append(Replayed(scenario, loaded, steps, *_exposures(steps, rows), _promoted(steps)))
    return Replay(found[0], tuple(found[1:]), rules.rules.key_fields, moments, review_minutes)
