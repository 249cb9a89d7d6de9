"""The main job end to end: decision logs and rules in, verdicts and the policy document out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from trustctl.decide import Verdict, decide, stamp
from trustctl.errors import InputError, PolicyError
from trustctl.evidence import GroupKey, GroupState, PriorState, collect, collect_segments
from trustctl.ingest import BadRow, Decisions, IngestReport, OnBadRows, load_decisions
from trustctl.policy import PolicyDocument, build_policy
from trustctl.rules import LoadedRules
from trustctl.segments import NO_TIME


@dataclass(frozen=True)
class Evaluation:
    """Everything one run computed."""

    as_of: dt.datetime
    report: IngestReport
    verdicts: tuple[Verdict, ...]
    policy: dict[str, Any]
    decisions: Decisions | None = None
    """The decisions read (``None`` when the run read evidence files or streamed the logs)."""
    bad_rows: tuple[BadRow, ...] = ()
    """The rows left out with ``on_bad_rows="skip"``."""


def parse_as_of(text: str) -> dt.datetime:
    """An ``--as-of`` value: ISO-8601 date or time; naive means UTC."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date or timestamp") from None
    value = value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value
    if not _EARLIEST <= value <= _LATEST:
        raise ValueError(f"{text!r} is outside the years 1970 to 2200")
    return value.astimezone(dt.timezone.utc)


_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_LATEST = dt.datetime(2200, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def evaluate(
    logs: Sequence[Path],
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
    on_bad_rows: OnBadRows = "fail",
) -> Evaluation:
    """Read the logs and decide every group's level as of ``as_of``.

    Rows stamped after ``as_of`` are left out before event rows are merged, so the
    policy is the one that could have been computed at that moment. Without
    ``as_of`` the latest row's timestamp is used (never the wall clock), so the
    same inputs always give the same policy.
    """
    _check_previous(previous, rules)
    decisions = load_decisions(logs, on_bad_rows, until=as_of)
    return _evaluate(decisions, rules, previous, as_of)


def evaluate_decisions(
    decisions: Decisions,
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
) -> Evaluation:
    """Decide every group's level as of ``as_of`` from decisions already read.

    One read of the logs can be evaluated at many moments (replay). For exact time
    travel, read them with ``load_decisions(..., until=as_of)``: decisions read
    whole may carry event rows recorded after ``as_of``.
    """
    _check_previous(previous, rules)
    return _evaluate(decisions, rules, previous, as_of)


def evaluate_streamed(
    logs: Sequence[Path],
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
    on_bad_rows: OnBadRows = "fail",
) -> Evaluation:
    """Like ``evaluate``, reading the logs one slice of decisions at a time (``--low-memory``).

    The policy is the same; memory does not grow with the size of the logs.
    """
    from trustctl.stream import stream_segments

    _check_previous(previous, rules)
    streamed = stream_segments(logs, on_bad_rows, until=as_of)
    recorded = streamed.segments["last_recorded_at"]
    if as_of is None and not (recorded > NO_TIME).any():
        raise InputError(["the logs hold no decision"])
    moment = as_of or dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
        microseconds=int(recorded.max())
    )
    prior = _prior(previous, moment)
    states = collect_segments(streamed.segments, rules.rules, moment, prior)
    result = _decide(
        states, streamed.report, rules, prior, moment, streamed.report.decisions_after_until
    )
    return replace(result, bad_rows=streamed.bad_rows)


def evaluate_evidence(
    paths: Sequence[Path],
    rules: LoadedRules,
    previous: PolicyDocument | None = None,
    as_of: dt.datetime | None = None,
) -> Evaluation:
    """Decide every group's level from evidence files (``trustctl aggregate``'s output).

    The policy is the one the logs they were aggregated from give. ``as_of`` defaults
    to the ``--as-of`` they were aggregated with, else the latest time they know of;
    an earlier one cannot be honoured (later rows are already counted in) and is refused.
    """
    from trustctl import evidence_files

    _check_previous(previous, rules)
    found = evidence_files.read(paths)
    moment = as_of or found.until or found.latest
    if moment is None:
        raise InputError(["the evidence files hold no decisions"])
    if found.latest is not None and moment < found.latest:
        raise InputError(
            [
                f"--as-of {stamp(moment)} is before the latest time the evidence holds "
                f"({stamp(found.latest)}); aggregate the logs with --as-of instead"
            ]
        )
    if found.until is not None and moment > found.until:
        raise InputError(
            [
                f"--as-of {stamp(moment)} is after the --as-of the evidence was aggregated at "
                f"({stamp(found.until)}); later rows were left out of it"
            ]
        )
    prior = _prior(previous, moment)
    states = collect_segments(found.segments, rules.rules, moment, prior)
    return _decide(states, found.report, rules, prior, moment, found.report.decisions_after_until)


def _evaluate(
    decisions: Decisions,
    rules: LoadedRules,
    previous: PolicyDocument | None,
    as_of: dt.datetime | None,
) -> Evaluation:
    frame = decisions.frame
    if as_of is not None:
        moment = as_of
    else:
        moment = pd.Timestamp(frame["recorded_at"].max()).to_pydatetime()
    after = decisions.report.decisions_after_until + int(
        (frame["timestamp"] > pd.Timestamp(moment)).sum()
    )
    prior = _prior(previous, moment)
    states = collect(frame, rules.rules, moment, prior)
    result = _decide(states, decisions.report, rules, prior, moment, after)
    return replace(result, decisions=decisions, bad_rows=decisions.bad_rows)


def _prior(
    previous: PolicyDocument | None, moment: dt.datetime
) -> dict[GroupKey, PriorState] | None:
    if previous is not None and previous.metadata.as_of > moment:
        raise PolicyError(
            f"the previous policy is as of {stamp(previous.metadata.as_of)}, after "
            f"{stamp(moment)}: a policy cannot build on one from its future; "
            "pass an earlier --previous or a later --as-of"
        )
    return previous.prior_states() if previous is not None else None


def _decide(
    states: list[GroupState],
    report: IngestReport,
    rules: LoadedRules,
    prior: dict[GroupKey, PriorState] | None,
    moment: dt.datetime,
    after: int,
) -> Evaluation:
    if not states:
        # Most likely a mistyped --as-of or window: an empty policy would say nothing.
        raise InputError(
            [
                f"no decision in the {rules.rules.window} window before {stamp(moment)} "
                f"({after} decision(s) are later); check --as-of and the rules' window"
            ]
        )
    verdicts = tuple(
        decide(
            state, rules.rules, moment, in_previous=None if prior is None else state.key in prior
        )
        for state in states
    )
    policy = build_policy(verdicts, rules, report, moment, after)
    return Evaluation(as_of=moment, report=report, verdicts=verdicts, policy=policy)


def _check_previous(previous: PolicyDocument | None, rules: LoadedRules) -> None:
    if previous is not None and tuple(previous.metadata.group_by) != rules.rules.group_by:
        raise PolicyError(
            f"the previous policy groups by {list(previous.metadata.group_by)} but the rules "
            f"group by {list(rules.rules.group_by)}; regenerate without --previous"
        )
