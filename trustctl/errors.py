"""The errors the core raises; the command layer maps them to exit codes."""

from __future__ import annotations

__all__ = [
    "InputError",
    "LedgerError",
    "PolicyError",
    "RulesError",
    "TrustctlError",
    "first_line",
]


class TrustctlError(Exception):
    """A failure caused by the user's input or usage (exit code 2)."""

    exit_code = 2


class InputError(TrustctlError):
    """Decision logs that cannot be read or do not follow schema v1."""

    def __init__(self, messages: list[str], total: int | None = None) -> None:
        self.messages = messages
        self.total = len(messages) if total is None else total
        more = self.total - len(messages)
        text = "\n".join(messages)
        if more > 0:
            text += f"\n... and {more} more"
        super().__init__(text)


class RulesError(TrustctlError):
    """A rules file that is not a valid ``TrustRules`` document."""


class PolicyError(TrustctlError):
    """A policy file that is not a valid ``AutonomyPolicy`` document."""


class LedgerError(TrustctlError):
    """A ledger file that cannot be read, or whose entries do not make a history."""


def first_line(exc: BaseException) -> str:
    """A library's message as one line: its first (Arrow appends a whole schema to some)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SignOffRefused(TrustctlError):
    """``approve`` or ``reject`` found no promotion waiting for the group (exit code 1)."""

    exit_code = 1
