"""The promotion review as data: per group the verdict, its weeks, disagreements and calibration.

Everything the review page shows is computed here, from one evaluation (the verdicts as
``generate`` gives them) and one history (the levels a weekly job would have set): the
page builder only lays it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trustctl import __version__, bounds, times
from trustctl.calibration import Calibration, of_decisions
from trustctl.diff import label
from trustctl.economics import GroupEconomics, TradeOff, trade_off
from trustctl.evaluate import Evaluation
from trustctl.evidence import GroupKey
from trustctl.history import History
from trustctl.levels import Level
from trustctl.oc_model import Report
from trustctl.pace import Eta, eta_of
from trustctl.reasons import first_need, need_text
from trustctl.review_signoff import SignOff
from trustctl.rules import LoadedRules, Metric, TrustRules
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES
from trustctl.verdict import Verdict

__all__ = [
    "HUMAN_KINDS",
    "OUTCOME_KINDS",
    "Disagreement",
    "GroupReview",
    "Header",
    "Review",
    "RollUp",
    "Week",
    "build_review",
    "counted_rows",
    "rollups",
]

#: The human verdicts the volume chart stacks, in order (``none``: no human saw it).
HUMAN_KINDS = ("approved", "rejected", "modified", "overridden", "timeout", "none")
#: The outcomes the volume chart stacks, in order.
OUTCOME_KINDS = ("success", "failure", "unknown", "not executed")
_JUDGED = [HUMAN_CODES[h] for h in ("approved", "rejected", "modified", "overridden")]
_DISAGREE = [HUMAN_CODES[h] for h in ("rejected", "modified", "overridden")]
_HUMAN_NAMES = {code: name for name, code in HUMAN_CODES.items()}


@dataclass(frozen=True)
class Header:
    """What the review describes and was computed from."""

    as_of: dt.datetime
    window_from: dt.datetime
    """Midnight UTC of the first whole day in the window."""
    inputs: tuple[tuple[str, str], ...]
    """Each log file and its sha256."""
    rules: str
    rules_sha256: str | None
    policy: str | None
    """The policy in force it was compared with (``--policy``)."""
    version: str = __version__


@dataclass(frozen=True)
class Week:
    """One step of the history for one group (the week that ends at ``end``)."""

    end: dt.datetime
    level: Level | None
    """The level in force after the step (``None`` before the group was seen)."""
    change: str | None
    agreement: tuple[int, int]
    """The week's own approvals and reviews."""
    success: tuple[int, int]
    """The week's own successes and verified outcomes."""
    agreement_lower: float | None
    """The gate's lower bound on the evidence counted at the step."""
    success_lower: float | None
    promote: dict[Metric, float]
    """The thresholds of the next promotion in force at the step."""
    demote: dict[Metric, float]
    """The demotion thresholds in force at the step."""
    human: dict[str, int]
    outcome: dict[str, int]


@dataclass(frozen=True)
class RollUp:
    """Disagreements counted by one field, most first."""

    by: str
    counts: tuple[tuple[str, int], ...]

    def counts_text(self) -> list[tuple[str, str]]:
        """The counts as table cells."""
        return [(value, str(count)) for value, count in self.counts]


@dataclass(frozen=True)
class Disagreement:
    """One recent disagreement, and whether the current evidence counts it."""

    decision_id: str
    timestamp: dt.datetime
    human_decision: str
    reviewer: str
    rationale: str
    service: str
    agent_version: str
    counted: bool


@dataclass(frozen=True)
class GroupReview:
    """Everything the review shows about one group."""

    name: str
    verdict: Verdict
    eta: Eta | None
    weeks: tuple[Week, ...]
    version_changes: tuple[tuple[dt.datetime, str], ...]
    critical_failures: tuple[dt.datetime, ...]
    disagreements: int
    rollups: tuple[RollUp, ...]
    recent: tuple[Disagreement, ...]
    calibration: Calibration | None
    next_step: str = ""
    """What the next level needs most: the binding need (``eta``'s), else the first."""
    signoff: SignOff | None = None
    """The ledger's state for the group, when ``--policy`` has a ledger beside it."""
    trade_off: TradeOff | None = None
    """With economics: what the next level would save and risk a week."""


@dataclass(frozen=True)
class Review:
    """The whole review: the header and the groups, closest to promotion first."""

    header: Header
    groups: tuple[GroupReview, ...]
    rules: TrustRules
    oc: Report | None = None
    economics: tuple[GroupEconomics, ...] = ()
    """Per group, with ``--review-minutes``: review time saved, failures that ran first."""
    """The operating characteristics of ``rules`` (``trustctl oc``'s defaults)."""


def _thresholds(rules: TrustRules, level: Level | None) -> tuple[dict[Metric, float], ...]:
    promote: dict[Metric, float] = {}
    demote: dict[Metric, float] = {}
    if level is None:
        return promote, demote
    up = level.above()
    gates = None if up is None else rules.promote.to(up)
    for metric, gate in gates.gates() if gates else []:
        promote[metric] = gate.threshold
    down = rules.demote.at(level)
    for metric, demote_gate in down.gates() if down else []:
        demote[metric] = demote_gate.threshold
    return promote, demote


def _counts(values: np.ndarray, names: dict[int, str], kinds: Sequence[str]) -> dict[str, int]:
    found = dict.fromkeys(kinds, 0)
    codes, counts = np.unique(values.astype(np.int64), return_counts=True)
    for code, count in zip(codes.tolist(), counts.tolist(), strict=True):
        found[names.get(code, kinds[-1])] += count
    return found


def _weeks(found: History, key: GroupKey, rows: pd.DataFrame, rules: TrustRules) -> list[Week]:
    stamps = rows["timestamp"]
    weeks = []
    start = None
    for step in found.steps:
        end = pd.Timestamp(step.as_of)
        begin = end - pd.Timedelta(days=7) if start is None else start
        start = end
        week = rows[(stamps > begin) & (stamps <= end)]
        verdict = next((v for v in step.verdicts if v.state.key == key), None)
        level = None if verdict is None else verdict.level
        judged = week["human_decision"].isin(_JUDGED)
        verified = week["executed"] & week["outcome"].isin([0, 1])
        outcome = np.where(week["executed"], week["outcome"].to_numpy(), -2)
        promote, demote = _thresholds(rules, level)
        weeks.append(
            Week(
                end=step.as_of,
                level=level,
                change=None if verdict is None else verdict.change,
                agreement=(
                    int((week["human_decision"][judged] == HUMAN_CODES["approved"]).sum()),
                    int(judged.sum()),
                ),
                success=(
                    int((week["outcome"][verified] == OUTCOME_CODES["success"]).sum()),
                    int(verified.sum()),
                ),
                agreement_lower=None if verdict is None else verdict.agreement.lower,
                success_lower=None if verdict is None else verdict.success.lower,
                promote=promote,
                demote=demote,
                human=_counts(week["human_decision"].to_numpy(), _HUMAN_NAMES, HUMAN_KINDS),
                outcome=_counts(
                    outcome,
                    {0: "success", 1: "failure", 2: "unknown", -1: "unknown", -2: "not executed"},
                    OUTCOME_KINDS,
                ),
            )
        )
    return weeks


def _version_changes(rows: pd.DataFrame) -> tuple[tuple[dt.datetime, str], ...]:
    named = rows[rows["agent_version"] != ""]
    versions = named["agent_version"].astype(str).to_numpy()
    changed = np.flatnonzero(versions[1:] != versions[:-1]) + 1
    micros = pd.DatetimeIndex(named["timestamp"]).as_unit("us").asi8
    return tuple((times.at_micros(int(micros[i])), str(versions[i])) for i in changed.tolist())


def rollups(rows: pd.DataFrame) -> tuple[RollUp, ...]:
    """Disagreements counted by reviewer, rationale, service and agent version."""
    rollups = []
    for by in ("reviewer", "rationale", "service", "agent_version"):
        counts = rows[by].astype(str).replace("", "(none)").value_counts()
        ordered = sorted(counts.items(), key=lambda item: (-int(item[1]), str(item[0])))
        rollups.append(RollUp(by=by, counts=tuple((str(k), int(v)) for k, v in ordered)))
    return tuple(rollups)


def counted_rows(verdict: Verdict, rows: pd.DataFrame) -> np.ndarray:
    """Which rows the promotion evidence counts: its days, and on a level-change day only
    the decisions made at the current level (as ``evidence`` counts them)."""
    evidence = verdict.state.evidence
    start = pd.Timestamp(evidence.counted_from)
    day = rows["timestamp"].dt.floor("D")
    later = (day > start) if evidence.level_day else (day >= start)
    at_level = (day == start) & (rows["mode"] == verdict.state.current.rank)
    counted: np.ndarray = (later | (at_level if evidence.level_day else False)).to_numpy()
    return counted


def _recent(verdict: Verdict, rows: pd.DataFrame, recent: int) -> tuple[Disagreement, ...]:
    counted = counted_rows(verdict, rows)
    micros = pd.DatetimeIndex(rows["timestamp"]).as_unit("us").asi8
    order = np.lexsort((rows["decision_id"].astype(str).to_numpy(), micros))
    picked = order[::-1][:recent]
    text = {
        name: rows[name].astype(str).to_numpy()[picked]
        for name in ("decision_id", "reviewer", "rationale", "service", "agent_version")
    }
    stamps = [times.at_micros(int(micros[i])) for i in picked.tolist()]
    human = rows["human_decision"].to_numpy()[picked].tolist()
    return tuple(
        Disagreement(
            decision_id=str(text["decision_id"][j]),
            timestamp=stamps[j],
            human_decision=_HUMAN_NAMES[int(human[j])],
            reviewer=str(text["reviewer"][j]),
            rationale=str(text["rationale"][j]),
            service=str(text["service"][j]),
            agent_version=str(text["agent_version"][j]),
            counted=bool(counted[i]),
        )
        for j, i in enumerate(picked.tolist())
    )


def _calibration(rows: pd.DataFrame, rules: TrustRules) -> Calibration | None:
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    return of_decisions(rows, lambda k, n: bounds.lower_bound(k, n, confidence, method, prior))


def _next_step(verdict: Verdict, eta: Eta | None) -> str:
    """The binding need (the one ``eta`` times), else the first: a cap names its tier and,
    for a system tier, the services there."""
    return need_text(eta.need) if eta is not None else first_need(verdict.next)


def _closeness(group: GroupReview) -> tuple[int, float, str]:
    """Sort key: reachable promotions first, soonest first; then the rest by name."""
    eta = group.eta
    if group.verdict.next.level is None:
        return (2, 0.0, group.name)
    if eta is None:
        return (0, 0.0, group.name)  # nothing missing but the cooldown: closest
    return (1, eta.weeks if eta.weeks is not None else float("inf"), group.name)


def build_review(
    evaluation: Evaluation,
    found: History,
    loaded: LoadedRules,
    *,
    policy: Path | None = None,
    recent: int = 10,
    minutes: float | None = None,
) -> Review:
    """The review of every group ``found`` has (``found`` already picked the groups);
    with ``minutes`` (of waiting for a human) each group's ``trade_off``."""
    rules = loaded.rules
    if evaluation.decisions is None:
        raise ValueError("the review needs the decisions themselves")
    frame = evaluation.decisions.frame
    as_of = pd.Timestamp(evaluation.as_of)
    window_from = times.day_after(evaluation.as_of, rules.window_span)
    in_window = frame[(frame["timestamp"] >= window_from) & (frame["timestamp"] <= as_of)]
    wanted = {v.state.key for step in found.steps for v in step.verdicts}
    groups = []
    for verdict in evaluation.verdicts:
        key = verdict.state.key
        if key not in wanted:
            continue
        mask = np.ones(len(in_window), dtype=bool)
        for name, value in zip(rules.key_fields, key, strict=True):
            mask &= (in_window[name] == value).to_numpy()
        rows = in_window[mask]
        disagreements = rows[rows["human_decision"].isin(_DISAGREE)]
        critical = rows[
            (rows["outcome"] == OUTCOME_CODES["failure"])
            & (rows["severity"] == SEVERITY_CODES["critical"])
        ]
        eta = eta_of(verdict, rows, as_of)
        groups.append(
            GroupReview(
                name=label(rules.key_fields, key),
                verdict=verdict,
                eta=eta,
                weeks=tuple(_weeks(found, key, rows, rules)),
                version_changes=_version_changes(rows),
                critical_failures=tuple(
                    times.at_micros(int(m))
                    for m in pd.DatetimeIndex(critical["timestamp"]).as_unit("us").asi8.tolist()
                ),
                disagreements=len(disagreements),
                rollups=rollups(disagreements),
                recent=_recent(verdict, disagreements, recent),
                calibration=_calibration(rows, rules),
                next_step=_next_step(verdict, eta),
                trade_off=None
                if minutes is None
                else trade_off(verdict, rows, counted_rows(verdict, rows), as_of, rules, minutes),
            )
        )
    header = Header(
        as_of=evaluation.as_of,
        window_from=window_from,
        inputs=tuple((f.path, f.sha256) for f in evaluation.report.files),
        rules=str(loaded.path or "built-in defaults"),
        rules_sha256=loaded.sha256,
        policy=None if policy is None else str(policy),
    )
    return Review(header=header, groups=tuple(sorted(groups, key=_closeness)), rules=rules)
