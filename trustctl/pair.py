"""A policy and its ledger on disk: where the ledger is, opening both, writing both at once."""

from __future__ import annotations

from pathlib import Path

from trustctl.audit import disagreements
from trustctl.errors import LedgerError
from trustctl.files import write_together
from trustctl.ledger import Ledger, read
from trustctl.policy import to_json, to_yaml
from trustctl.policy_model import Policy
from trustctl.record import usable

__all__ = ["default_ledger", "ledger_paths", "open_ledger", "write_pair"]


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


def open_ledger(policy: Policy | None, policy_path: Path | None, path: Path | None) -> Ledger:
    """The ledger a run builds on (empty when there is none): refused when its chain is
    broken, or when ``policy`` (``--previous``) is not what it records."""
    if path is None:
        return Ledger(Path("ledger.jsonl"))
    ledger = usable(read(path))
    recorded = None if policy is None else policy.metadata.ledger
    if recorded is not None and not ledger.exists:
        raise LedgerError(
            f"{policy_path}: records ledger head {recorded.seq}, but {path} does not exist "
            "(pass it with --ledger)"
        )
    if policy is not None and policy_path is not None and ledger.entries:
        problems = disagreements(policy, policy_path, ledger)
        if problems:
            raise LedgerError(
                f"{problems[0]}; --previous and its ledger disagree (see trustctl check)"
            )
    return ledger


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
