"""The human review time automation saves, and the failures that ran before a human saw them.

Given the minutes a person spends reviewing one decision before it runs (``--review-minutes``),
each decision run without prior human approval (at ``auto_notify`` or ``full``) saved that
review: minutes saved = automated decisions × minutes. Against it stand the failures among
those decisions, which ran before anyone could stop them. Nothing here is assumed: without
the minutes, no economics are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trustctl.errors import TrustctlError
from trustctl.history import History
from trustctl.levels import Level
from trustctl.verdict import Verdict

__all__ = ["GroupEconomics", "Saving", "group_economics", "parse_minutes"]


@dataclass(frozen=True)
class Saving:
    """Decisions run without a human first, and what that saved and risked."""

    minutes_per_review: float
    decisions: int
    automated: int
    failures: int
    critical: int

    @property
    def minutes_saved(self) -> float:
        """``automated × minutes_per_review``."""
        return self.automated * self.minutes_per_review

    @property
    def hours_saved(self) -> float:
        return self.minutes_saved / 60


@dataclass(frozen=True)
class GroupEconomics:
    """One group over the review's weeks: what automation saved, and what the next level
    would save per week at the recent volume (when it is the first level without review)."""

    name: str
    saving: Saving
    weeks: float
    """The weeks the saving was counted over (the review's steps)."""
    next_level: Level | None
    """``auto_notify`` when the group is below it and could reach it, else ``None``."""
    per_week_at_next: float | None
    """Minutes of review a week the next level would save, at the weeks' average volume."""


def parse_minutes(value: float | None) -> float | None:
    """``--review-minutes``: a positive number of minutes, or ``None`` (not given)."""
    if value is not None and not 0 < value < 10_000:
        raise TrustctlError(f"--review-minutes: {value} is not a number of minutes in (0, 10000)")
    return value


def group_economics(
    found: History, verdicts: Sequence[Verdict], names: Sequence[str], minutes: float
) -> list[GroupEconomics]:
    """Each verdict's group over the steps of ``found`` (its activity since the step before
    each): decisions, those run without a human first and their failures."""
    span = found.steps[-1].as_of - found.steps[0].as_of if found.steps else None
    weeks = max(span.total_seconds() / 604800, 1.0) if span is not None else 1.0
    result = []
    for verdict, name in zip(verdicts, names, strict=True):
        key = verdict.state.key
        active = [step.activity_of(key) for step in found.steps[1:]]
        saving = Saving(
            minutes_per_review=minutes,
            decisions=sum(a.decisions for a in active),
            automated=sum(a.unattended for a in active),
            failures=sum(a.failures for a in active),
            critical=sum(a.critical for a in active),
        )
        below = verdict.level.rank < Level.AUTO_NOTIFY.rank
        reachable = below and verdict.next.level is Level.AUTO_NOTIFY
        result.append(
            GroupEconomics(
                name=name,
                saving=saving,
                weeks=weeks,
                next_level=Level.AUTO_NOTIFY if reachable else None,
                per_week_at_next=saving.decisions / weeks * minutes if reachable else None,
            )
        )
    return result
