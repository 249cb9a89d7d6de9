"""The full reasoning for one action class: verdicts, gates, and the decisions behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from trustctl import bounds, times
from trustctl.calibration import Calibration, of_decisions
from trustctl.economics import TradeOff, trade_off
from trustctl.errors import TrustctlError
from trustctl.evaluate import Evaluation
from trustctl.pace import Eta, eta_of
from trustctl.policy_model import BoundsSettings
from trustctl.review import RollUp, counted_rows, rollups
from trustctl.rules import TrustRules
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES
from trustctl.suggest import did_you_mean
from trustctl.verdict import Verdict

__all__ = ["Explanation", "Incident", "explain"]

_DISAGREE = [HUMAN_CODES[h] for h in ("rejected", "modified", "overridden")]
_HUMAN_NAMES = {code: name for name, code in HUMAN_CODES.items()}
_OUTCOME_NAMES = {code: name for name, code in OUTCOME_CODES.items()}
_SEVERITY_NAMES = {code: name for name, code in SEVERITY_CODES.items()}
_ONE_LOOK = BoundsSettings(method="clopper-pearson", confidence=0.95, prior=(1.0, 1.0))
"""The default rules' bounds, for a policy that does not record its own."""


@dataclass(frozen=True)
class Incident:
    """A decision worth showing: a disagreement or a failure."""

    decision_id: str
    timestamp: str
    human_decision: str
    outcome: str
    severity: str
    reviewer: str
    rationale: str
    incident_id: str
    counted: bool
    """Whether the current promotion evidence counts it (not: before its clock started)."""


@dataclass(frozen=True)
class Explanation:
    """One group's verdict with its most recent disagreements and failures."""

    verdict: Verdict
    disagreements: tuple[Incident, ...]
    """The most recent ones (``recent``), newest first."""
    failures: tuple[Incident, ...]
    disagreed: int = 0
    """Every disagreement (rejected, modified, overridden) in the window."""
    rollups: tuple[RollUp, ...] = ()
    """Those disagreements counted by reviewer, rationale, service and agent version."""
    eta: Eta | None = None
    """The next promotion's binding need and how long it takes at the recent pace (as the
    review's summary names it)."""
    trade_off: TradeOff | None = None
    """With the rules' ``economics``: what the next level would save and risk a week."""
    calibration: Calibration | None = None
    """How well ``ai_confidence`` predicts approval in the window (``None``: no decision
    a human judged carries one): the evidence for choosing ``confidence_bands`` cuts."""


def _incidents(rows: pd.DataFrame) -> tuple[Incident, ...]:
    ordered = rows.sort_values(["timestamp", "decision_id"], ascending=False)
    return tuple(
        Incident(
            decision_id=str(r.decision_id),
            timestamp=pd.Timestamp(r.timestamp).strftime("%Y-%m-%dT%H:%M:%SZ"),
            human_decision=_HUMAN_NAMES.get(int(r.human_decision), ""),
            outcome=_OUTCOME_NAMES.get(int(r.outcome), ""),
            severity=_SEVERITY_NAMES.get(int(r.severity), ""),
            reviewer=str(r.reviewer),
            rationale=str(r.rationale),
            incident_id=str(r.incident_id),
            counted=bool(r.counted),
        )
        for r in ordered.itertuples(index=False)
    )


def _trade_off(
    verdict: Verdict, rows: pd.DataFrame, as_of: pd.Timestamp, rules: TrustRules | None
) -> TradeOff | None:
    if rules is None or rules.economics is None:
        return None
    minutes = rules.economics.review_delay_minutes
    return trade_off(verdict, rows, rows["counted"].to_numpy(), as_of, rules, minutes)


def explain(
    evaluation: Evaluation,
    action_class: str,
    window: dt.timedelta,
    recent: int = 10,
    rules: TrustRules | None = None,
    confidence: str | None = None,
) -> list[Explanation]:
    """Explanations for every group of ``action_class`` (one unless ``group_by`` or
    ``confidence_bands`` split it), or only those of one ``confidence`` band.

    Disagreements and failures are the ``recent`` latest within the window, also
    those before the evidence clock (a critical failure that restarted it, say). With
    ``rules`` that have ``economics``, each says what its next level would save and risk.
    """
    verdicts = [v for v in evaluation.verdicts if v.state.key[0] == action_class]
    if not verdicts:
        known = sorted({str(v.state.key[0]) for v in evaluation.verdicts})
        hint = did_you_mean(action_class, known)
        raise TrustctlError(
            f"no decisions for action class {action_class!r} in the window; "
            + (hint or "known classes: " + ", ".join(known))
        )
    if confidence is not None:
        verdicts = _in_band(verdicts, evaluation.document.metadata.group_by, confidence)
    if evaluation.decisions is None:
        raise TrustctlError("explain reads the decision logs themselves, not evidence files")
    frame = evaluation.decisions.frame
    as_of = pd.Timestamp(evaluation.as_of)
    # The window's whole UTC days, as the evidence counts them.
    window_start = pd.Timestamp(times.day_after(evaluation.as_of, window))
    metadata = evaluation.document.metadata
    group_by = metadata.group_by
    settings = metadata.bounds or _ONE_LOOK  # an evaluation always records its own
    method = cast(bounds.Method, settings.method)

    def lower(k: int, n: int) -> float:
        return bounds.lower_bound(k, n, settings.confidence, method, settings.prior)

    explanations = []
    for verdict in verdicts:
        mask = (frame["timestamp"] <= as_of) & (frame["timestamp"] >= window_start)
        for name, value in zip(group_by, verdict.state.key, strict=True):
            mask &= frame[name] == value
        rows = frame[mask]
        rows = rows.assign(counted=counted_rows(verdict, rows))
        disagreed = rows[rows["human_decision"].isin(_DISAGREE)]
        failures = rows[rows["executed"] & (rows["outcome"] == OUTCOME_CODES["failure"])]
        explanations.append(
            Explanation(
                verdict=verdict,
                disagreements=_incidents(disagreed.tail(recent)),
                failures=_incidents(failures.tail(recent)),
                disagreed=len(disagreed),
                rollups=rollups(disagreed),
                eta=eta_of(verdict, rows, as_of),
                trade_off=_trade_off(verdict, rows, as_of, rules),
                calibration=of_decisions(rows, lower),
            )
        )
    return explanations


def _in_band(verdicts: list[Verdict], group_by: Sequence[str], band: str) -> list[Verdict]:
    """The verdicts of one confidence band; an unknown band is refused with those there are."""
    if "confidence" not in group_by:
        raise TrustctlError(
            f"--confidence {band!r}: the rules have no confidence_bands; groups are not split"
        )
    at = list(group_by).index("confidence")
    found = [v for v in verdicts if v.state.key[at] == band]
    if not found:
        known = ", ".join(repr(str(v.state.key[at])) for v in verdicts)
        raise TrustctlError(
            f"--confidence {band!r}: no such band of {verdicts[0].state.key[0]} in the window "
            f"(it has {known})"
        )
    return found
