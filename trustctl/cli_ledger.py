"""The ledger's commands: ``verify`` every entry, ``approve`` or ``reject`` a promotion."""

from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import EXIT_DRIFT, fails_cleanly, say
from trustctl.cli_options import (
    AsOfOption,
    LedgerOption,
    Logs,
    RulesOption,
    instant,
    rules_with,
    stdin_logs,
)

__all__ = ["approve", "reject", "verify"]


ByOption = Annotated[str, typer.Option("--by", help="Who signs: a person's name.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, in a sentence.")]


def _signer(by: str, reason: str) -> tuple[str, str]:
    from trustctl.errors import TrustctlError
    from trustctl.ledger import TRUSTCTL

    if not by.strip() or by.strip() == TRUSTCTL:
        raise TrustctlError("--by: the name of the person who signs")
    if not reason.strip():
        raise TrustctlError("--reason: say why")
    return by.strip(), reason.strip()


@fails_cleanly
@stdin_logs
def verify(
    policy: Annotated[Path, typer.Option("--policy", help="The policy whose ledger to verify.")],
    logs: Annotated[
        list[Path] | None,
        typer.Argument(help="Decision logs: re-derive every automatic entry from them."),
    ] = None,
    ledger: LedgerOption = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            help="Rules the ledger's runs were made with (repeatable). Default: the built-in.",
        ),
    ] = None,
) -> None:
    """Exit 1 unless every ledger entry is intact and either earned from the logs or signed.

    Examples:

    \b
      trustctl verify --policy policy.yaml sample_data/
      trustctl verify --policy policy.yaml
    """
    from trustctl import audit
    from trustctl.inputs import Logs as LogFiles
    from trustctl.ledger import read
    from trustctl.pair import default_ledger
    from trustctl.policy import load_policy

    committed = load_policy(policy)
    book = read(ledger or default_ledger(policy), missing_ok=False)
    loaded = [rules_with(path) for path in rules] if rules else [rules_with(None)]
    source = LogFiles(logs) if logs else None
    found, derived = audit.verify(book, committed, policy, source, loaded)
    for finding in found:
        say(f"{finding.kind}: {finding}")
    if found:
        say(f"{book.path}: {len(found)} problem(s)")
        raise typer.Exit(EXIT_DRIFT)
    how = (
        f"{derived} automatic entries re-derived from the logs"
        if source is not None
        else "no logs given: automatic entries not re-derived"
    )
    say(f"{book.path}: {len(book.entries)} entries, chain intact, head matches {policy}; {how}")


@fails_cleanly
@stdin_logs
def approve(
    group: Annotated[str, typer.Argument(help="The group, e.g. k8s.restart_pod.")],
    logs: Logs,
    policy: Annotated[Path, typer.Option("--policy", help="The policy to sign.")],
    by: ByOption,
    reason: ReasonOption,
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Apply a promotion waiting for sign-off, if the logs still earn it (exit 1 if not).

    Examples:

    \b
      trustctl approve k8s.restart_pod sample_data/ --policy policy.yaml --by Dana --reason ok
    """
    from trustctl import approvals
    from trustctl.inputs import Logs as LogFiles
    from trustctl.ledger import read
    from trustctl.pair import default_ledger, write_pair
    from trustctl.policy import load_policy
    from trustctl.record import usable

    name, why = _signer(by, reason)
    committed = load_policy(policy)
    path = ledger or default_ledger(policy)
    book = usable(read(path))
    approvals.trusted(committed, policy, book)
    signed, after, what = approvals.approve(
        LogFiles(logs), rules_with(rules), committed, book, group, name, why, instant(as_of)
    )
    write_pair(signed, policy, book, after, path)
    say(f"{what} approved by {name}; {policy} and {path} written")


@fails_cleanly
def reject(
    group: Annotated[str, typer.Argument(help="The group, e.g. k8s.restart_pod.")],
    policy: Annotated[Path, typer.Option("--policy", help="The policy to sign.")],
    by: ByOption,
    reason: ReasonOption,
    rules: RulesOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Reject a promotion waiting for sign-off; it is not proposed again before it expires.

    Examples:

    \b
      trustctl reject k8s.restart_pod --policy candidate.yaml --by Dana --reason "Q4 freeze"
    """
    from trustctl import approvals
    from trustctl.ledger import read
    from trustctl.pair import default_ledger, write_pair
    from trustctl.policy import load_policy
    from trustctl.record import usable

    name, why = _signer(by, reason)
    committed = load_policy(policy)
    path = ledger or default_ledger(policy)
    book = usable(read(path))
    approvals.trusted(committed, policy, book)
    signed, after, what = approvals.reject(committed, book, rules_with(rules), group, name, why)
    write_pair(signed, policy, book, after, path)
    say(f"{what} rejected by {name}; {policy} and {path} written")
