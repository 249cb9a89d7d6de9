"""Decision logs for tests, built from compact specs with exactly known counts.

A log is a list of batches: "at day D, class C, mode M, n decisions with this verdict
and this outcome". Days count from ``EPOCH``; the decisions of one batch are
``spacing`` seconds apart, starting at the batch's instant.

>>> log = LogBuilder().add(1, "k8s.restart_pod", 3, human="approved", outcome="success")
>>> len(log.frame())
3
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from trustctl import policy as policy_module
from trustctl import yamlio
from trustctl.evaluate import Evaluation, evaluate
from trustctl.files import write_atomically
from trustctl.ingest import Decisions, load_decisions
from trustctl.inputs import DecisionsRead
from trustctl.policy import load_policy
from trustctl.policy_model import Policy
from trustctl.rules import LoadedRules, parse_rules
from trustctl.schema import COLUMNS
from trustctl.verdict import Verdict

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


_EXECUTED_BY_DEFAULT = {"approved", "modified", "overridden"}


def day(d: float, seconds: float = 0) -> dt.datetime:
    """The instant ``d`` days (plus ``seconds``) after ``EPOCH``."""
    return EPOCH + dt.timedelta(days=d, seconds=seconds)


def iso(value: dt.datetime) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SSZ`` (microseconds when there are any)."""
    text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


class LogBuilder:
    """Accumulates decision rows; every ``add`` returns the builder for chaining."""

    def __init__(self, prefix: str = "d") -> None:
        self.rows: list[dict[str, str]] = []
        self._prefix = prefix

    def add(
        self,
        at: float,
        action_class: str,
        count: int = 1,
        *,
        mode: str = "suggest",
        human: str = "",
        executed: bool | None = None,
        outcome: str = "",
        severity: str = "",
        system_tier: int | None = None,
        risk_tier: int | None = None,
        agent_version: str = "",
        service: str = "",
        spacing: float = 60,
        rationale: str = "",
        review_sampled: str = "",
    ) -> LogBuilder:
        """``count`` decisions at day ``at``, ``spacing`` seconds apart.

        ``executed`` defaults to true when an outcome is given or a human approved,
        modified or overrode the action, else false.
        """
        if executed is None:
            executed = bool(outcome and outcome != "unknown") or human in _EXECUTED_BY_DEFAULT
        for i in range(count):
            self.rows.append(
                {
                    "decision_id": f"{self._prefix}{len(self.rows):06d}",
                    "timestamp": iso(day(at, i * spacing)),
                    "action_class": action_class,
                    "mode": mode,
                    "human_decision": human,
                    "executed": "true" if executed else "false",
                    "outcome": outcome,
                    "severity": severity,
                    "service": service,
                    "system_tier": "" if system_tier is None else str(system_tier),
                    "risk_tier": "" if risk_tier is None else str(risk_tier),
                    "agent_version": agent_version,
                    "ai_confidence": "",
                    "reviewer": "alice" if human else "",
                    "rationale": rationale,
                    "incident_id": "",
                    "review_sampled": review_sampled,
                }
            )
        return self

    def clean(self, at: float, action_class: str, count: int, **kwargs: Any) -> LogBuilder:
        """``count`` approved, executed, successful decisions."""
        return self.add(at, action_class, count, human="approved", outcome="success", **kwargs)

    def reviewed(
        self,
        at: float,
        action_class: str,
        approved: int = 0,
        rejected: int = 0,
        *,
        modified: int = 0,
        overridden: int = 0,
        timeouts: int = 0,
        **kwargs: Any,
    ) -> LogBuilder:
        """Decisions with the given verdict counts, in that order, one minute apart."""
        spacing = kwargs.pop("spacing", 60)
        offset = 0.0
        for human, n in (
            ("approved", approved),
            ("rejected", rejected),
            ("modified", modified),
            ("overridden", overridden),
            ("timeout", timeouts),
        ):
            if n:
                self.add(
                    at + offset / 86400, action_class, n, human=human, spacing=spacing, **kwargs
                )
                offset += n * spacing
        return self

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame of strings, in schema column order."""
        frame: pd.DataFrame = pd.DataFrame(self.rows).reindex(columns=list(COLUMNS))
        return frame

    def write(self, path: Path, *, shuffle: int | None = None) -> Path:
        """Write the rows as CSV (shuffled with seed ``shuffle`` when given)."""
        rows = list(self.rows)
        if shuffle is not None:
            random.Random(shuffle).shuffle(rows)
        pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(path, index=False)
        return path


def rules(data: Mapping[str, Any] | None = None) -> LoadedRules:
    """Rules from a mapping (defaults for everything not given)."""
    return LoadedRules(rules=parse_rules(dict(data or {}), "<test>"), path=None, sha256=None)


def run(
    tmp_path: Path,
    log: LogBuilder,
    *,
    rule_data: Mapping[str, Any] | None = None,
    previous: Policy | None = None,
    as_of: dt.datetime | None = None,
    name: str = "decisions.csv",
) -> Evaluation:
    """Write ``log`` to ``tmp_path/name`` and evaluate it."""
    path = log.write(tmp_path / name)
    return evaluate([path], rules(rule_data), previous=previous, as_of=as_of)


def load(tmp_path: Path, log: LogBuilder, name: str = "decisions.csv") -> Decisions:
    """Write ``log`` to ``tmp_path/name`` and read it, once for many evaluations."""
    return load_decisions([log.write(tmp_path / name)])


def run_loaded(
    decisions: Decisions,
    *,
    rule_data: Mapping[str, Any] | None = None,
    previous: Policy | None = None,
    as_of: dt.datetime | None = None,
) -> Evaluation:
    """Evaluate decisions already read."""
    return evaluate(DecisionsRead(decisions), rules(rule_data), previous=previous, as_of=as_of)


def verdict(evaluation: Evaluation, action_class: str) -> Verdict:
    """The single verdict of ``action_class``."""
    found = [v for v in evaluation.verdicts if v.state.key[0] == action_class]
    assert len(found) == 1, [v.state.key for v in evaluation.verdicts]
    return found[0]


def entry(evaluation: Evaluation, action_class: str) -> dict[str, Any]:
    """The policy entry of ``action_class``."""
    found = [a for a in evaluation.policy["actions"] if a["action_class"] == action_class]
    assert len(found) == 1, found
    return dict(found[0])


def save(tmp_path: Path, evaluation: Evaluation, name: str = "policy.yaml") -> Policy:
    """Write an evaluation's policy and read it back, as ``--previous`` does."""
    path = tmp_path / name
    write_atomically(path, policy_module.to_yaml(evaluation.document))
    return load_policy(path)


def previous_policy(
    tmp_path: Path,
    actions: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.datetime,
    group_by: tuple[str, ...] = ("action_class",),
    name: str = "previous.yaml",
) -> Policy:
    """A hand-written previous policy with only the fields trustctl reads back."""
    document = {
        "apiVersion": "trustctl/v1",
        "kind": "AutonomyPolicy",
        "metadata": {"as_of": iso(as_of), "group_by": list(group_by)},
        "actions": [
            {k: (iso(v) if isinstance(v, dt.datetime) else v) for k, v in a.items()}
            for a in actions
        ],
    }
    path = tmp_path / name
    path.write_text(yamlio.dump(document), encoding="utf-8")
    return load_policy(path)
