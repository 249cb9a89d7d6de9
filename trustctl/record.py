"""A run against the ledger: its start read from the ledger, its events, and the policy with them.

A run as of ``T`` starts from the ledger's state before ``T`` and decides; what it finds
becomes events. If the ledger already records a run as of ``T`` (the same command run
twice), its events must be the ones found, and nothing is appended: the policy comes out
byte for byte the same. Approvals and rejections recorded as of ``T`` are applied last.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from trustctl import __version__
from trustctl.diff import label
from trustctl.errors import LedgerError
from trustctl.evaluate import Evaluation, evaluate
from trustctl.evidence import GroupKey, PriorState
from trustctl.inputs import Source
from trustctl.ledger import (
    SIGNED,
    Entry,
    Event,
    GroupHistory,
    Ledger,
    broken_link,
    canonical,
    group_key,
    instant,
    replay,
)
from trustctl.levels import Level
from trustctl.policy import build_policy
from trustctl.policy_model import LedgerHead, Policy, ProposalEntry
from trustctl.reasons import reason_text
from trustctl.rules import LoadedRules
from trustctl.signoff import Context, Outcome, apply_signed, inputs_digest, settle
from trustctl.times import stamp

__all__ = [
    "Mismatch",
    "Run",
    "context",
    "document",
    "find_group",
    "rules_digest",
    "run",
    "settled",
    "usable",
    "with_outcome",
]


def rules_digest(rules: LoadedRules) -> str:
    """The sha256 the ledger records for rules: of the rules in effect with ``--set``, else
    the file's, else the built-in rules' canonical JSON."""
    if rules.effective_sha256 is not None:
        return rules.effective_sha256
    if rules.sha256 is not None:
        return rules.sha256
    return hashlib.sha256(canonical(rules.rules.deciding())).hexdigest()


def usable(ledger: Ledger) -> Ledger:
    """``ledger``, refused when its chain is broken (``trustctl check`` says where)."""
    link = broken_link(ledger)
    if link is not None:
        raise LedgerError(
            f"{ledger.path}: {link}; the ledger's chain is broken (see trustctl check / verify)"
        )
    return ledger


@dataclass(frozen=True)
class Mismatch:
    """An event the ledger records as of a run that the run does not find, or the reverse."""

    entry: Entry | None
    """The ledger's entry the run did not find (``None``: the run found ``event``)."""
    event: Event | None
    """The event the run found that the ledger lacks."""
    outcome: Outcome | None
    """The run's outcome for the group."""

    def __str__(self) -> str:
        if self.entry is not None:
            why = "" if self.outcome is None else f": {reason_text(self.outcome.verdict.reason)}"
            return f"line {self.entry.seq}: {_describe(self.entry)}: not supported by the logs{why}"
        if self.event is not None:
            return f"{_describe(self.event)}: found in the logs but not in the ledger"
        return "no mismatch"


def _describe(event: Event) -> str:
    moves = " → ".join(level.value for level in (event.from_level, event.to_level) if level)
    group = " ".join(
        str(v) if k == "action_class" else f"{k}={v}" for k, v in event.group.items() if v
    )
    return f"{event.kind} {group} {moves} at {event.at}"


def _identity(event: Event) -> tuple[object, ...]:
    return (
        event.kind,
        tuple(sorted(event.group.items(), key=lambda item: item[0])),
        event.from_level,
        event.to_level,
        event.actor,
    )


@dataclass(frozen=True)
class Run:
    """One run: the evaluation, each group's outcome, and the ledger after it."""

    evaluation: Evaluation
    outcomes: tuple[Outcome, ...]
    ledger: Ledger
    """The ledger with this run's events appended (the same ledger when it records them)."""
    added: tuple[Entry, ...]
    mismatches: tuple[Mismatch, ...]
    """Where the ledger's record of a run as of the same moment differs from this one."""
    context: Context
    rules: LoadedRules

    @property
    def as_of(self) -> dt.datetime:
        return self.evaluation.as_of


def context(rules: LoadedRules, as_of: dt.datetime, inputs: Sequence[str]) -> Context:
    """What the events of a run at ``as_of`` on these rules and inputs share."""
    return Context(
        as_of=as_of,
        group_by=tuple(rules.rules.key_fields),
        inputs_sha256=inputs_digest(inputs),
        rules_sha256=rules_digest(rules),
        version=f"trustctl {__version__}",
        approval=rules.rules.approval,
    )


def _prior(history: GroupHistory, cap: tuple[Level, str] | None) -> PriorState:
    recorded = None if history.cap is None else (Level(history.cap["level"]), history.cap["by"])
    return PriorState(
        level=history.level,
        since=_when(history.since),
        last_promoted=_when(history.last_promoted),
        last_demoted=_when(history.last_demoted),
        cap=cap or recorded,
    )


def run(
    source: Source,
    rules: LoadedRules,
    ledger: Ledger,
    previous: Policy | None = None,
    as_of: dt.datetime | None = None,
) -> Run:
    """Decide as of ``as_of`` from where the ledger leaves each group before it.

    Without entries before that moment the run starts as the ledger's first run did (from
    the ``previous`` policy the ``initial`` entries name, else from the log), or, for a new
    ledger, from ``previous`` (a policy kept without a ledger) or the log.
    """
    group_by = tuple(rules.rules.key_fields)
    entries = ledger.entries
    caps = {} if previous is None else previous.prior_states()

    def prior_at(moment: dt.datetime) -> dict[GroupKey, PriorState] | None:
        earlier = [e for e in entries if e.when < moment]
        if earlier:
            before = replay(earlier, group_by)
            return {k: _prior(h, _cap(caps.get(k))) for k, h in before.items()}
        started = [
            e
            for e in entries
            if e.when == moment and e.kind == "initial" and e.history is not None
            if e.history.source == "previous policy"
        ]
        if started:
            return {group_key(group_by, e.group): _started(e) for e in started}
        if entries:
            return None
        return None if previous is None else dict(caps)

    evaluation = evaluate(source, rules, previous, as_of, prior_at=prior_at)
    moment = evaluation.as_of
    later = [e for e in entries if e.when > moment]
    if later:
        raise LedgerError(
            f"{ledger.path}: line {later[0].seq} is as of {later[0].at}, after {stamp(moment)}: "
            "a run cannot be recorded in the ledger's past; pass a later --as-of"
        )
    before = replay([e for e in entries if e.when < moment], group_by)
    ctx = context(rules, moment, [f.sha256 for f in evaluation.report.files])
    outcomes = settle(evaluation.verdicts, before, ctx)
    found = [event for outcome in outcomes for event in outcome.events]
    at_moment = [e for e in entries if e.when == moment]
    recorded = [e for e in at_moment if e.kind not in SIGNED]
    mismatches: tuple[Mismatch, ...] = ()
    if recorded:
        mismatches = _compare(recorded, found, outcomes, group_by)
        found = []
    try:
        outcomes = apply_signed(outcomes, [e for e in at_moment if e.kind in SIGNED], ctx)
    except LedgerError as exc:
        raise LedgerError(f"{ledger.path}: {exc}") from None
    after, added = ledger.with_events(found)
    return Run(evaluation, outcomes, after, added, mismatches, ctx, rules)


def _cap(prior: PriorState | None) -> tuple[Level, str] | None:
    return None if prior is None else prior.cap


def _when(text: str | None) -> dt.datetime | None:
    return None if text is None else instant(text)


def _started(entry: Entry) -> PriorState:
    """Where the ledger's first run started a group taken from a previous policy."""
    start = entry.history
    if start is None or entry.to_level is None:
        raise LedgerError(f"line {entry.seq}: an initial entry names no level or history")
    return PriorState(
        level=entry.to_level,
        since=_when(start.since),
        last_promoted=_when(start.last_promoted),
        last_demoted=_when(start.last_demoted),
        cap=None if start.cap is None else (Level(start.cap["level"]), start.cap["by"]),
    )


def _compare(
    recorded: Sequence[Entry],
    found: Sequence[Event],
    outcomes: Sequence[Outcome],
    group_by: Sequence[str],
) -> tuple[Mismatch, ...]:
    by_key = {o.verdict.state.key: o for o in outcomes}
    wanted = [_identity(e) for e in found]
    mismatches: list[Mismatch] = []
    for entry in recorded:
        identity = _identity(entry)
        if identity in wanted:
            wanted.remove(identity)
        else:
            outcome = by_key.get(group_key(group_by, entry.group))
            mismatches.append(Mismatch(entry, None, outcome))
    left = [e for e in found if _identity(e) in wanted]
    for event in left:
        mismatches.append(Mismatch(None, event, by_key.get(group_key(group_by, event.group))))
    return tuple(mismatches)


def document(done: Run, head: Entry | None) -> Policy:
    """The policy of a run: its outcomes, their proposals, and the ledger head it goes with."""
    evaluation = done.evaluation
    meta = evaluation.document.metadata
    proposals: Mapping[GroupKey, ProposalEntry] = {
        o.verdict.state.key: ProposalEntry(
            level=o.proposal.level,
            since=instant(o.proposal.since),
            reason=o.proposal.reason,
            expires=None if o.proposal.expires is None else instant(o.proposal.expires),
        )
        for o in done.outcomes
        if o.proposal is not None
    }
    rebuilt = build_policy(
        [o.verdict for o in done.outcomes],
        done.rules,
        evaluation.report,
        evaluation.as_of,
        0 if meta.ingest is None else meta.ingest.after_as_of,
        meta.filters,
        proposals=proposals,
        ledger=None if head is None else LedgerHead(seq=head.seq, hash=head.hash),
    )
    # Everything but the actions, the summary and the head is the evaluation's own.
    return rebuilt.model_copy(
        update={
            "metadata": meta.model_copy(
                update={"summary": rebuilt.metadata.summary, "ledger": rebuilt.metadata.ledger}
            )
        }
    )


def settled(done: Run, head: Entry | None = None) -> Evaluation:
    """The run's evaluation as it takes effect: the outcomes' verdicts and their policy."""
    return replace(
        done.evaluation,
        verdicts=tuple(o.verdict for o in done.outcomes),
        document=document(done, head),
    )


def find_group(outcomes: Sequence[Outcome], group_by: Sequence[str], name: str) -> Outcome:
    """The outcome of the group named ``name`` (its label, or an action class of one group)."""
    matches = [o for o in outcomes if label(tuple(group_by), o.verdict.state.key) == name]
    if not matches:
        matches = [o for o in outcomes if o.verdict.state.key[0] == name]
    if len(matches) != 1:
        known = ", ".join(sorted(label(tuple(group_by), o.verdict.state.key) for o in outcomes))
        what = "several groups" if matches else "no group"
        raise LedgerError(f"{name!r} names {what}; the groups are: {known}")
    return matches[0]


def with_outcome(done: Run, outcome: Outcome) -> Run:
    """``done`` with one group's outcome replaced."""
    key = outcome.verdict.state.key
    return replace(
        done,
        outcomes=tuple(outcome if o.verdict.state.key == key else o for o in done.outcomes),
    )
