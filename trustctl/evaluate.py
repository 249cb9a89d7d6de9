"""The main job end to end: decision logs and rules in, verdicts and the policy document out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trustctl.decide import Verdict, decide
from trustctl.errors import PolicyError
from trustctl.evidence import collect
from trustctl.ingest import Decisions, OnBadRows, load_decisions
from trustctl.policy import PolicyDocument, build_policy
from trustctl.rules import LoadedRules


@dataclass(frozen=True)
class Evaluation:
    """Everything one run computed."""

    as_of: dt.datetime
    decisions: Decisions
    verdicts: tuple[Verdict, ...]
    policy: dict[str, Any]


def parse_as_of(text: str) -> dt.datetime:
    """An ``--as-of`` value: ISO-8601 date or time; naive means UTC."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date or timestamp") from None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def evaluate(
    logs: Sequence[Path],
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
    on_bad_rows: OnBadRows = "fail",
) -> Evaluation:
    """Read the logs and decide every group's level as of ``as_of``.

    Without ``as_of`` the latest decision's timestamp is used (never the wall
    clock), so the same inputs always give the same policy.
    """
    _check_previous(previous, rules)
    return evaluate_decisions(load_decisions(logs, on_bad_rows), rules, previous, as_of)


def evaluate_decisions(
    decisions: Decisions,
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
) -> Evaluation:
    """Decide every group's level as of ``as_of`` from decisions already read.

    One read of the logs can be evaluated at many moments (time travel, replay).
    """
    _check_previous(previous, rules)
    frame = decisions.frame
    latest = frame["timestamp"].max()
    moment = as_of if as_of is not None else pd.Timestamp(latest).to_pydatetime()
    after = int((frame["timestamp"] > pd.Timestamp(moment)).sum())
    prior = previous.prior_states() if previous is not None else None
    verdicts = tuple(
        decide(
            state,
            rules.rules,
            moment,
            in_previous=None if prior is None else state.key in prior,
        )
        for state in collect(frame, rules.rules, moment, prior)
    )
    policy = build_policy(verdicts, rules, decisions.report, moment, after)
    return Evaluation(as_of=moment, decisions=decisions, verdicts=verdicts, policy=policy)


def _check_previous(previous: PolicyDocument | None, rules: LoadedRules) -> None:
    if previous is not None and tuple(previous.metadata.group_by) != rules.rules.group_by:
        raise PolicyError(
            f"the previous policy groups by {list(previous.metadata.group_by)} but the rules "
            f"group by {list(rules.rules.group_by)}; regenerate without --previous"
        )
