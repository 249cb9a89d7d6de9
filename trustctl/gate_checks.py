"""Promotion gates judged on evidence: what each gate counts, and its checks as data."""

from __future__ import annotations

from trustctl import bounds
from trustctl.evidence import Evidence
from trustctl.findings import Bound, Check, MinDecisions, Unverified
from trustctl.levels import Level
from trustctl.rules import Metric, PromoteGate, PromoteTo, TrustRules, UnverifiedRule

__all__ = ["counts", "gate_counts", "promotion_checks"]


def counts(metric: Metric, evidence: Evidence) -> tuple[int, int]:
    """What a demotion check measures: agreed of reviewed, succeeded of verified."""
    if metric == "agreement":
        return evidence.agreed, evidence.reviewed
    return evidence.succeeded, evidence.verified


def gate_counts(
    metric: Metric, gate: PromoteGate, evidence: Evidence
) -> tuple[int, int, UnverifiedRule | None]:
    """What a promotion gate measures: with ``count_as_failure``, success is counted over
    every executed action, an unverified one as a failure (missing data never passes)."""
    if metric == "agreement":
        return evidence.agreed, evidence.reviewed, None
    if gate.unverified == "count_as_failure":
        return evidence.succeeded, evidence.executed, gate.unverified
    return evidence.succeeded, evidence.verified, gate.unverified


def promotion_checks(
    target: Level, gates: PromoteTo, evidence: Evidence, rules: TrustRules
) -> list[Check]:
    """Every gate of the promotion to ``target``, judged on ``evidence``."""
    method, confidence, prior = rules.bounds.method, rules.bounds.confidence, rules.bounds.prior
    checks: list[Check] = []
    for metric, gate in gates.gates():
        k, n, counted_as = gate_counts(metric, gate, evidence)
        rule = f"promote.{target.value}.{metric}"
        checks.append(
            Check(
                rule=f"{rule}.min_decisions",
                passed=n >= gate.min_decisions,
                finding=MinDecisions(metric, n, gate.min_decisions, counted_as),
            )
        )
        lower = bounds.lower_bound(k, n, confidence, method, prior)
        finding = Bound(
            metric, k, n, confidence, "lower", lower, gate.threshold, unverified=counted_as
        )
        checks.append(
            Check(
                rule=f"{rule}.threshold", passed=n > 0 and lower >= gate.threshold, finding=finding
            )
        )
        if gate.max_unverified is not None:
            executed, unverified = evidence.executed, evidence.unverified
            checks.append(
                Check(
                    rule=f"{rule}.max_unverified",
                    passed=executed > 0 and unverified <= gate.max_unverified * executed,
                    finding=Unverified(unverified, executed, gate.max_unverified),
                )
            )
    return checks
