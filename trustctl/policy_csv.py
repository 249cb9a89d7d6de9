"""``generate --format csv``: one row per group with every number of the policy table."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from trustctl import numbers
from trustctl.diff import label
from trustctl.reasons import needs_text, reason_text
from trustctl.verdict import Verdict

__all__ = ["COLUMNS", "policy_csv"]

COLUMNS = (
    "level",
    "change",
    "agreed",
    "reviewed",
    "agreement_lower",
    "agreement_upper",
    "succeeded",
    "verified",
    "success_lower",
    "success_upper",
    "unverified",
    "timeouts",
    "critical_failures",
    "limited_by",
    "next_level",
    "clean_decisions_needed",
    "needs",
    "reason",
)
"""After ``group`` and each ``group_by`` column."""


def policy_csv(verdicts: Sequence[Verdict], group_by: tuple[str, ...]) -> str:
    """The groups in the policy's order; bounds to six places, rounded outwards."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", *group_by, *COLUMNS])
    for v in verdicts:
        e = v.state.evidence
        step = v.next
        writer.writerow(
            [
                label(group_by, v.state.key),
                *v.state.key,
                v.level.value,
                v.change,
                e.agreed,
                e.reviewed,
                numbers.outward(v.agreement.lower, lower=True),
                numbers.outward(v.agreement.upper, lower=False),
                e.succeeded,
                e.verified,
                numbers.outward(v.success.lower, lower=True),
                numbers.outward(v.success.upper, lower=False),
                e.unverified,
                e.timeouts,
                v.state.critical_failures,
                v.limited_by or "",
                "" if step.level is None else step.level.value,
                "" if step.clean_decisions_needed is None else step.clean_decisions_needed,
                needs_text(step),
                reason_text(v.reason),
            ]
        )
    return out.getvalue()
