"""A person's sign-off: approving a promotion that waits for one, or rejecting it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from trustctl.audit import disagreements
from trustctl.diff import label
from trustctl.errors import LedgerError, SignOffRefused
from trustctl.inputs import Source
from trustctl.ledger import Ledger, Proposal
from trustctl.policy_model import Action, LedgerHead, NextStep, Policy, Summary
from trustctl.reasons import reason_text
from trustctl.record import context, document, find_group, run, with_outcome
from trustctl.rules import LoadedRules
from trustctl.signoff import approve as approve_outcome
from trustctl.signoff import reject as reject_proposal
from trustctl.signoff import rejected_needs, rejected_reason
from trustctl.times import stamp

__all__ = ["approve", "reject", "trusted"]


def trusted(policy: Policy, path: Path, ledger: Ledger) -> None:
    """Refuse to sign on a policy its ledger does not record (``check`` lists everything)."""
    if not ledger.exists:
        raise LedgerError(f"{ledger.path}: no ledger: sign-off is recorded in the ledger")
    problems = disagreements(policy, path, ledger)
    if problems:
        raise LedgerError(f"{problems[0]}; the policy and its ledger disagree (trustctl check)")


def approve(
    source: Source,
    rules: LoadedRules,
    policy: Policy,
    ledger: Ledger,
    group: str,
    by: str,
    reason: str,
    as_of: dt.datetime | None,
) -> tuple[Policy, Ledger, str]:
    """Recompute; apply the group's waiting promotion if the evidence still earns it.

    Return the new policy, the ledger with the run's events and the approval, and what
    was approved. Raise ``SignOffRefused`` when no promotion of the group waits.
    """
    done = run(source, rules, ledger, policy, as_of)
    if done.mismatches:
        raise LedgerError(f"{ledger.path}: {done.mismatches[0]}")
    outcome = find_group(done.outcomes, done.context.group_by, group)
    name = label(done.context.group_by, outcome.verdict.state.key)
    if outcome.proposal is None:
        why = reason_text(outcome.verdict.reason)
        raise SignOffRefused(f"{name}: no promotion waits for sign-off: {why}")
    approved, event = approve_outcome(outcome, by, reason, done.context)
    after, _ = done.ledger.with_events([event])
    moves = f"{approved.earned.previous_level.value} → {approved.earned.level.value}"
    return document(with_outcome(done, approved), after.head), after, f"{name}: {moves}"


def _find(policy: Policy, group: str) -> Action:
    group_by = tuple(policy.metadata.group_by)
    named = [a for a in policy.actions if label(group_by, policy.key_of(a)) == group]
    named = named or [a for a in policy.actions if a.action_class == group]
    if len(named) != 1:
        known = ", ".join(label(group_by, policy.key_of(a)) for a in policy.actions)
        raise LedgerError(f"{group!r} names {'several groups' if named else 'no group'}: {known}")
    return named[0]


def reject(
    policy: Policy, ledger: Ledger, rules: LoadedRules, group: str, by: str, reason: str
) -> tuple[Policy, Ledger, str]:
    """Reject the group's waiting promotion as of the policy's ``as_of``; it is not proposed
    again before ``approval.expires`` has passed."""
    recorded = policy.metadata.rules
    if recorded is not None and (recorded.sha256, recorded.effective_sha256) != (
        rules.sha256,
        rules.effective_sha256,
    ):
        raise LedgerError(
            f"--rules: not the rules the policy was made with ({recorded.path or 'built-in'})"
        )
    action = _find(policy, group)
    name = label(tuple(policy.metadata.group_by), policy.key_of(action))
    proposed = action.proposed
    if proposed is None:
        raise SignOffRefused(f"{name}: no promotion waits for sign-off: {action.reason}")
    ctx = context(rules, policy.metadata.as_of, [f.sha256 for f in policy.metadata.inputs])
    group_fields = {n: action.part(n) for n in ctx.group_by}
    waiting = Proposal(
        proposed.level,
        stamp(proposed.since),
        proposed.reason,
        None if proposed.expires is None else stamp(proposed.expires),
    )
    rejection, event = reject_proposal(action.level, waiting, by, reason, ctx, group_fields)
    after, _ = ledger.with_events([event])
    held = action.model_copy(
        update={
            "change": "unchanged",
            "limited_by": "approval",
            "reason": rejected_reason(action.level, rejection),
            "proposed": None,
            "next": NextStep(
                level=proposed.level,
                needs=rejected_needs(rejection),
                clean_decisions_needed=None,
            ),
        }
    )
    actions = tuple(held if a is action else a for a in policy.actions)
    changes = [a.change for a in actions]
    summary = Summary(
        groups=len(actions),
        promoted=changes.count("promoted"),
        demoted=changes.count("demoted"),
        unchanged=changes.count("unchanged"),
        new=changes.count("new"),
        proposed=changes.count("proposed"),
    )
    head = after.head
    meta = policy.metadata.model_copy(
        update={
            "summary": summary,
            "ledger": None if head is None else LedgerHead(seq=head.seq, hash=head.hash),
        }
    )
    moves = f"{action.level.value} → {proposed.level.value}"
    return (
        policy.model_copy(update={"actions": actions, "metadata": meta}),
        after,
        f"{name}: {moves}",
    )
