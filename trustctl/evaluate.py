"""The main job end to end: a source of decisions and the rules in, verdicts and the policy out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trustctl import times
from trustctl.decide import decide
from trustctl.errors import InputError, PolicyError
from trustctl.evidence import GroupKey, PriorState, collect_segments
from trustctl.ingest import BadRow, Decisions, IngestReport
from trustctl.inputs import DecisionLogs, Source
from trustctl.policy import Plain, build_policy, to_data
from trustctl.policy_model import Policy
from trustctl.rules import LoadedRules
from trustctl.verdict import Verdict

__all__ = ["Evaluation", "PriorAt", "evaluate"]


PriorAt = Callable[[dt.datetime], "dict[GroupKey, PriorState] | None"]
"""Where each group starts at a moment (``None``: from the log alone)."""


@dataclass(frozen=True)
class Evaluation:
    """Everything one run computed."""

    as_of: dt.datetime
    report: IngestReport
    verdicts: tuple[Verdict, ...]
    document: Policy
    """The policy document."""
    decisions: Decisions | None = None
    """The decisions read (``None`` when the source read evidence files or slices)."""
    bad_rows: tuple[BadRow, ...] = ()
    """The rows left out with ``on_bad_rows="skip"``."""

    @property
    def policy(self) -> dict[str, Plain]:
        """The policy as plain data, key for key as it is written."""
        return to_data(self.document)


def evaluate(
    source: Source | Sequence[Path],
    rules: LoadedRules,
    previous: Policy | None = None,
    as_of: dt.datetime | None = None,
    prior_at: PriorAt | None = None,
) -> Evaluation:
    """Read the source and decide every group's level as of ``as_of``.

    A sequence of paths is read as ``DecisionLogs`` (the decisions are kept). Rows
    recorded after ``as_of`` are left out before event rows are merged, so the policy is
    the one that could have been computed at that moment. Without ``as_of`` the source's
    own cut is used (the ``--as-of`` evidence files were aggregated at), else the time
    the last thing read was recorded (never the wall clock), so the same inputs always
    give the same policy.
    ``prior_at``, when given, says where each group starts at that moment (the ledger's
    state before it) in place of ``previous``'s levels.
    """
    if previous is not None and tuple(previous.metadata.group_by) != rules.rules.key_fields:
        raise PolicyError(
            f"the previous policy groups by {list(previous.metadata.group_by)} but the rules "
            f"group by {list(rules.rules.key_fields)}; regenerate without --previous"
        )
    reader = DecisionLogs(source) if isinstance(source, Sequence) else source
    read = reader.read(as_of, rules.rules.bands)
    moment = as_of or read.until or read.latest
    if moment is None:
        raise InputError([reader.nothing])
    if previous is not None and previous.metadata.as_of > moment:
        raise PolicyError(
            f"the previous policy is as of {times.stamp(previous.metadata.as_of)}, after "
            f"{times.stamp(moment)}: a policy cannot build on one from its future; "
            "pass an earlier --previous or a later --as-of"
        )
    if prior_at is not None:
        prior = prior_at(moment)
    else:
        prior = None if previous is None else previous.prior_states()
    states = collect_segments(read.segments, rules.rules, moment, prior)
    if not states:
        # Most likely a mistyped --as-of or window: an empty policy would say nothing.
        raise InputError(
            [
                f"no decision in the {rules.rules.window} window before {times.stamp(moment)} "
                f"({read.after_as_of} decision(s) are later); check --as-of and the rules' window"
            ]
        )
    verdicts = tuple(
        decide(
            state, rules.rules, moment, in_previous=None if prior is None else state.key in prior
        )
        for state in states
    )
    return Evaluation(
        as_of=moment,
        report=read.report,
        verdicts=verdicts,
        document=build_policy(verdicts, rules, read.report, moment, read.after_as_of, read.filters),
        decisions=read.decisions,
        bad_rows=read.bad_rows,
    )
