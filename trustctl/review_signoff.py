"""The review's sign-off block: what the ledger records for a group, when ``--policy`` has one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trustctl.ledger import SIGNED, TRUSTCTL, Entry, Proposal, Rejection, group_key
from trustctl.signoff import Outcome

__all__ = ["SignOff", "sign_off", "signoff_lines"]


@dataclass(frozen=True)
class SignOff:
    """One group's state in the ledger beside the policy in force."""

    ledger: str
    head: int
    """The ledger's last line."""
    proposal: Proposal | None
    """The promotion waiting for a person, if any."""
    rejection: Rejection | None
    """The rejection that keeps it from being proposed again, while it holds."""
    signed: tuple[Entry, ...]
    """The group's entries a person signed (approvals, rejections, pins), latest last."""


def sign_off(
    outcome: Outcome, entries: Sequence[Entry], group_by: Sequence[str], ledger: str
) -> SignOff:
    """The ledger's state for ``outcome``'s group."""
    key = outcome.verdict.state.key
    signed = tuple(
        e
        for e in entries
        if group_key(tuple(group_by), e.group) == key and (e.kind in SIGNED or e.actor != TRUSTCTL)
    )
    head = entries[-1].seq if entries else 0
    return SignOff(ledger, head, outcome.proposal, outcome.rejection, signed)


def signoff_lines(found: SignOff, name: str) -> list[str]:
    """The state in a few lines of plain text, with the command that answers a proposal."""
    lines = [f"ledger {found.ledger}, {found.head} entries"]
    proposal = found.proposal
    if proposal is not None:
        until = f", until {proposal.expires}" if proposal.expires else ""
        lines.append(
            f"waiting for sign-off: {proposal.level.value} proposed on {proposal.since}{until} "
            f"— trustctl approve {name} --by NAME --reason TEXT (or trustctl reject)"
        )
    else:
        lines.append("no promotion waiting for sign-off")
    rejection = found.rejection
    if rejection is not None:
        until = f" until {rejection.until}" if rejection.until else ""
        lines.append(
            f"{rejection.level.value} rejected by {rejection.by} on {rejection.at}{until}: "
            f"{rejection.reason}"
        )
    for entry in found.signed[-3:]:
        level = "" if entry.to_level is None else f" {entry.to_level.value}"
        lines.append(
            f"line {entry.seq}: {entry.kind}{level} by {entry.actor} at {entry.at}: {entry.reason}"
        )
    return lines
