"""A policy and its ledger on disk: where the ledger is, opening both, writing both at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from trustctl.audit import disagreements
from trustctl.errors import LedgerError
from trustctl.files import write_together
from trustctl.inputs import Source
from trustctl.ledger import SIGNED, Entry, Ledger, read
from trustctl.policy import to_json, to_yaml
from trustctl.policy_model import Policy
from trustctl.record import run, usable
from trustctl.rules import LoadedRules

__all__ = [
    "Confirm",
    "ahead",
    "by_rerunning",
    "check_pair",
    "default_ledger",
    "ledger_paths",
    "open_ledger",
    "write_pair",
]

Confirm = Callable[[Ledger, dt.datetime], Sequence[object]]
"""Re-run the evaluation on a ledger as of a moment: the mismatches with what it records."""


def default_ledger(policy: Path) -> Path:
    """The ledger beside a policy: ``policy.yaml`` → ``policy.ledger.jsonl``."""
    return policy.with_suffix(".ledger.jsonl")


def ledger_paths(
    previous: Path | None, output: Path | None, given: Path | None
) -> tuple[Path | None, Path | None]:
    """Where ``generate`` reads the ledger from and writes it to.

    ``--ledger`` is both; else it is read beside ``--previous`` (or beside ``-o`` without
    one) and written beside ``-o``. Nothing is written without ``-o``.
    """
    if given is not None:
        return given, given if output is not None else None
    source = previous or output
    return (
        None if source is None else default_ledger(source),
        None if output is None else default_ledger(output),
    )


def open_ledger(
    policy: Policy | None, policy_path: Path | None, path: Path | None, *, confirm: Confirm
) -> Ledger:
    """The ledger a run builds on (empty when there is none): refused when its chain is
    broken, or when ``policy`` (``--previous``) is not what it records.

    A policy one run behind its ledger (the write was interrupted between the ledger and
    the policy; see :func:`ahead`) is accepted only when ``confirm`` finds that the logs
    give exactly the entries it lacks: that run is then completed, never laundered.
    """
    if path is None:
        return Ledger(Path("ledger.jsonl"))
    ledger = usable(read(path))
    recorded = None if policy is None else policy.metadata.ledger
    if recorded is not None and not ledger.exists:
        raise LedgerError(
            f"{policy_path}: records ledger head {recorded.seq}, but {path} does not exist "
            "(pass it with --ledger)"
        )
    if policy is None or policy_path is None or not ledger.entries:
        return ledger
    problems = disagreements(policy, policy_path, ledger)
    if not problems:
        return ledger
    missing = ahead(policy, policy_path, ledger)
    if missing:
        mismatches = confirm(ledger, missing[0].when)
        if not mismatches:
            return ledger
        raise LedgerError(
            f"{ledger.path}: lines {missing[0].seq}-{missing[-1].seq} are ahead of "
            f"{policy_path}, and a run as of {missing[0].at} does not give them "
            f"({mismatches[0]}): not an interrupted write (see trustctl verify)"
        )
    raise LedgerError(f"{problems[0]}; --previous and its ledger disagree (see trustctl check)")


def check_pair(policy: Policy, policy_path: Path) -> Ledger | None:
    """The ledger beside ``policy_path`` when there is one, refused when its chain is broken
    or the policy is not what it records (``validate``: no logs, nothing computed)."""
    path = default_ledger(policy_path)
    recorded = policy.metadata.ledger
    if not path.exists():
        if recorded is None:
            return None
        raise LedgerError(
            f"{policy_path}: records ledger head {recorded.seq}, but {path} does not exist"
        )
    ledger = usable(read(path))
    problems = disagreements(policy, policy_path, ledger)
    if problems:
        raise LedgerError(f"{problems[0]} (see trustctl check)")
    return ledger


def by_rerunning(source: Source, rules: LoadedRules, previous: Policy | None) -> Confirm:
    """Confirm a ledger's entries by running the evaluation again as of their moment."""
    return lambda ledger, at: run(source, rules, ledger, previous, at).mismatches


def ahead(policy: Policy, policy_path: Path, ledger: Ledger) -> tuple[Entry, ...]:
    """The entries of one unsigned run that ``ledger`` has after the head ``policy`` records,
    when the policy is otherwise exactly what the ledger recorded up to its head.

    That is what a write interrupted between its two renames leaves (the ledger is replaced
    first, so it is never behind its policy). Empty for anything else.
    """
    recorded = policy.metadata.ledger
    if recorded is None or not 0 < recorded.seq < len(ledger.entries):
        return ()
    if ledger.entries[recorded.seq - 1].hash != recorded.hash:
        return ()
    before = replace(
        ledger, entries=ledger.entries[: recorded.seq], lines=ledger.lines[: recorded.seq]
    )
    if disagreements(policy, policy_path, before):
        return ()
    extra = ledger.entries[recorded.seq :]
    if any(e.kind in SIGNED or e.when != extra[0].when for e in extra):
        return ()
    return extra


def write_pair(
    policy: Policy,
    policy_path: Path,
    before: Ledger,
    after: Ledger,
    ledger_path: Path,
) -> None:
    """Write the policy and its ledger together: both, or, if either fails, neither."""
    if before.path != ledger_path and ledger_path.exists():
        raise LedgerError(
            f"{ledger_path}: exists and is not the ledger read ({before.path}); a ledger is "
            "never overwritten by another one (pass --ledger)"
        )
    is_json = policy_path.suffix.lower() == ".json"
    text = (to_json if is_json else to_yaml)(policy).encode("utf-8")
    writes = [(policy_path, text)]
    if after.data() != before.data() or before.path != ledger_path or not before.exists:
        writes.append((ledger_path, after.data()))  # replaced first: never behind the policy
    write_together(writes)
