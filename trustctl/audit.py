"""What ``check`` and ``verify`` find: a broken chain, a policy the ledger does not record,
a stale head, changed rules, drift, and ledger entries the logs do not support."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from trustctl.diff import label
from trustctl.errors import LedgerError
from trustctl.evidence import GroupKey, sort_key
from trustctl.inputs import Source
from trustctl.ledger import (
    SIGNED,
    TRUSTCTL,
    GroupHistory,
    Ledger,
    broken_link,
    group_key,
    replay,
)
from trustctl.overrides import effective_sha256
from trustctl.policy_model import Action, Policy, RulesFile
from trustctl.record import Run, rules_digest, run
from trustctl.rules import LoadedRules
from trustctl.rules_diff import effective_of
from trustctl.times import stamp

__all__ = ["Finding", "check", "disagreements", "verify"]

Class = Literal["ledger", "chain", "head", "policy", "rules", "drift", "entry"]


@dataclass(frozen=True)
class Finding:
    """One thing ``check`` or ``verify`` found wrong."""

    kind: Class
    """``ledger`` (missing), ``chain`` (broken), ``head`` (not the policy's), ``policy``
    (a field the ledger does not record), ``rules`` (changed), ``drift`` (the evidence
    gives other levels), ``entry`` (a ledger entry the logs or its signer do not support)."""
    where: str
    """The file it is in."""
    group: str | None
    message: str

    def __str__(self) -> str:
        group = "" if self.group is None else f"{self.group}: "
        return f"{self.where}: {group}{self.message}"


def _day(text: str | None) -> str:
    return "an unknown date" if text is None else text[:10]


def _when(value: dt.datetime | None) -> str | None:
    return None if value is None else stamp(value)


def _group_findings(where: str, name: str, action: Action, history: GroupHistory) -> list[Finding]:
    found: list[Finding] = []

    def say(message: str) -> None:
        found.append(Finding("policy", where, name, message))

    last = f"last entry: {history.level.value} on {_day(history.changed)}"
    if action.level is not history.level:
        say(f"level {action.level.value} is not in the ledger ({last}) — edited by hand?")
    for field in ("since", "last_promoted", "last_demoted"):
        written, recorded = _when(getattr(action, field)), getattr(history, field)
        if written != recorded:
            say(f"{field} {written} is not in the ledger ({recorded}) — edited by hand?")
    pin = action.pin if action.pin is not None and action.pin.active else None
    recorded_pin = history.pin
    if pin is None and recorded_pin is not None:
        say(
            f"the ledger records a pin at {recorded_pin.level.value} by {recorded_pin.owner} "
            "that the policy does not show — removed by hand?"
        )
    elif pin is not None and (
        recorded_pin is None or (pin.level, pin.owner) != (recorded_pin.level, recorded_pin.owner)
    ):
        say(f"pin at {pin.level.value} by {pin.owner} is not in the ledger — added by hand?")
    proposed, pending = action.proposed, history.proposal
    if proposed is None and pending is not None:
        say(
            f"the ledger records a proposal to {pending.level.value} of {pending.since} that "
            "the policy does not show — removed by hand?"
        )
    elif proposed is not None and (
        pending is None
        or proposed.level is not pending.level
        or stamp(proposed.since) != pending.since
    ):
        say(
            f"proposal to {proposed.level.value} of {stamp(proposed.since)} is not in the "
            "ledger — added by hand?"
        )
    return found


def disagreements(policy: Policy, path: Path, ledger: Ledger) -> list[Finding]:
    """Where the policy is not what its ledger records: the head, and each group's state."""
    where = str(path)
    group_by = tuple(policy.metadata.group_by)
    found: list[Finding] = []
    recorded, head = policy.metadata.ledger, ledger.head
    if recorded is None and head is not None:
        found.append(
            Finding(
                "head",
                where,
                None,
                f"records no ledger head, but {ledger.path} has {head.seq} entries",
            )
        )
    elif recorded is not None and (
        head is None or (recorded.seq, recorded.hash) != (head.seq, head.hash)
    ):
        now = "no entries" if head is None else f"head {head.seq} {head.hash[:12]}"
        found.append(
            Finding(
                "head",
                where,
                None,
                f"records ledger head {recorded.seq} {recorded.hash[:12]}, but {ledger.path} "
                f"has {now} — the ledger or the policy was changed after they were written",
            )
        )
    try:
        states = replay(ledger.entries, group_by)
    except LedgerError as exc:
        return [*found, Finding("chain", str(ledger.path), None, str(exc))]
    actions = policy.by_key()
    for key in sorted(set(actions) | set(states), key=sort_key):
        name = label(group_by, key)
        action, history = actions.get(key), states.get(key)
        if history is None:
            found.append(Finding("policy", where, name, "not in the ledger — added by hand?"))
        elif action is None:
            found.append(
                Finding(
                    "policy",
                    where,
                    name,
                    f"in the ledger (at {history.level.value}) but not in the policy — "
                    "removed by hand?",
                )
            )
        else:
            found.extend(_group_findings(where, name, action, history))
    return found


def _drift(done: Run, where: str, policy: Policy, fresh: bool) -> list[Finding]:
    """The run's mismatches with the ledger and the entries it would add.

    Without a ledger (``fresh``) every group would start one and every pin and proposal be
    recorded anew: then only level changes, and proposals the policy does not show, are drift.
    """
    group_by = tuple(policy.metadata.group_by)
    actions = policy.by_key()
    found = [Finding("drift", where, None, str(m)) for m in done.mismatches]
    changed: dict[GroupKey, list[str]] = {}
    for entry in done.added:
        key = group_key(group_by, entry.group)
        if fresh and entry.kind not in ("promoted", "demoted", "proposed"):
            continue
        shown = actions.get(key)
        if (
            fresh
            and entry.kind == "proposed"
            and shown is not None
            and shown.proposed is not None
            and shown.proposed.level is entry.to_level
        ):
            continue
        moves = " → ".join(v.value for v in (entry.from_level, entry.to_level) if v is not None)
        if entry.kind in ("promoted", "demoted", "proposed"):
            text = entry.reason
        elif entry.kind == "initial":
            text = f"added: {entry.reason}"
        else:
            text = f"{entry.kind} {moves}: {entry.reason}"
        changed.setdefault(key, []).append(text)
    for key in sorted(changed, key=sort_key):
        for text in changed[key]:
            found.append(Finding("drift", where, label(group_by, key), f"would be {text}"))
    return found


def check(
    source: Source,
    rules: LoadedRules,
    policy: Policy,
    path: Path,
    ledger: Ledger,
    as_of: dt.datetime | None,
) -> list[Finding]:
    """Everything that keeps ``policy`` from being the proved, current policy."""
    where = str(path)
    found: list[Finding] = []
    link = broken_link(ledger)
    if not ledger.exists:
        head = policy.metadata.ledger
        found.append(
            Finding(
                "ledger",
                where,
                None,
                f"no ledger at {ledger.path}: nothing records how its levels were reached "
                + (
                    f"(trustctl generate … -o {path} starts one)"
                    if head is None
                    else f"although the policy records its head {head.seq} — deleted?"
                ),
            )
        )
    elif link is not None:
        found.append(Finding("chain", str(ledger.path), None, f"{link} — the chain is broken"))
    else:
        found.extend(disagreements(policy, path, ledger))
    recorded = policy.metadata.rules
    if recorded is not None and _rules_changed(recorded, rules):
        given = rules.path or "the built-in rules"
        found.append(
            Finding(
                "rules",
                where,
                None,
                f"rules changed since the policy was made ({given} is not the rules it "
                f"records: {recorded.path or 'the built-in rules'})",
            )
        )
    if link is None and not any(f.kind == "chain" for f in found):
        done = run(source, rules, ledger if ledger.exists else Ledger(ledger.path), policy, as_of)
        found.extend(_drift(done, where, policy, not ledger.entries))
    return found


def _rules_changed(recorded: RulesFile, rules: LoadedRules) -> bool:
    """Whether ``rules`` are not the rules in effect when the policy was made; compared by
    the rules in effect (a file equal to the built-in rules is the same rules) whenever
    those can be known, else by the file."""
    made_with = effective_of(recorded)
    if made_with is None:
        return (recorded.sha256, recorded.effective_sha256) != (
            rules.sha256,
            rules.effective_sha256,
        )
    return made_with != (rules.effective_sha256 or effective_sha256(rules.rules))


def verify(
    ledger: Ledger,
    policy: Policy,
    path: Path,
    source: Source | None,
    rules: Sequence[LoadedRules],
) -> tuple[list[Finding], int]:
    """Problems with the ledger's entries, and how many automatic entries were re-derived.

    The chain must hold and end at the policy's head; every signed entry names a person;
    with logs, every run the ledger records is run again as of its ``at`` from the ledger's
    state before it, and must find exactly the events recorded.
    """
    where = str(ledger.path)
    link = broken_link(ledger)
    if link is not None:
        return [Finding("chain", where, None, f"{link} — the chain is broken")], 0
    found = [f for f in disagreements(policy, path, ledger) if f.kind in ("head", "chain")]
    for entry in ledger.entries:
        signed = entry.kind in SIGNED or entry.rule == "pins"
        if signed and entry.actor == TRUSTCTL:
            found.append(
                Finding("entry", where, None, f"line {entry.seq}: {entry.kind} names no person")
            )
        if not signed and entry.actor != TRUSTCTL:
            found.append(
                Finding(
                    "entry",
                    where,
                    None,
                    f"line {entry.seq}: {entry.kind} is trustctl's to write, not {entry.actor}'s",
                )
            )
    if source is None or any(f.kind == "chain" for f in found):
        return found, 0
    by_digest = {rules_digest(r): r for r in rules}
    checked = 0
    for moment in sorted({e.when for e in ledger.entries}):
        at_moment = [e for e in ledger.entries if e.when == moment and e.kind not in SIGNED]
        if not at_moment:
            continue
        chosen = by_digest.get(at_moment[0].rules_sha256)
        if chosen is None:
            lines = f"lines {at_moment[0].seq}–{at_moment[-1].seq}"
            found.append(
                Finding(
                    "entry",
                    where,
                    None,
                    f"{lines} (as of {stamp(moment)}) were made with rules sha256 "
                    f"{at_moment[0].rules_sha256[:12]}…, not given: pass them with --rules",
                )
            )
            continue
        upto = [e for e in ledger.entries if e.when <= moment]
        part = Ledger(ledger.path, tuple(upto), (), exists=True)
        try:
            done = run(source, chosen, part, None, moment)
        except LedgerError as exc:
            found.append(Finding("entry", where, None, str(exc)))
            continue
        checked += len(at_moment)
        found.extend(Finding("entry", where, None, str(m)) for m in done.mismatches)
    return found, checked
