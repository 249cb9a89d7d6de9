"""``trustctl history`` as a table, JSON or CSV: one row per step and group."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from rich import box
from rich.table import Table
from rich.text import Text

from trustctl import numbers, times
from trustctl.diff import label
from trustctl.history import History
from trustctl.render import change_cell

__all__ = ["history_csv", "history_json", "history_table", "rows"]

_COLUMNS = (
    "as_of",
    "group",
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
    "decisions",
    "unattended",
    "unattended_failures",
    "unattended_critical",
)


def rows(found: History) -> Iterator[dict[str, str | int | float]]:
    """Each step and group as flat data (bounds to six places, rounded outwards)."""
    for step in found.steps:
        for v in step.verdicts:
            e = v.state.evidence
            active = step.activity_of(v.state.key)
            yield {
                "as_of": times.stamp(step.as_of),
                "group": label(found.group_by, v.state.key),
                "level": v.level.value,
                "change": v.change,
                "agreed": e.agreed,
                "reviewed": e.reviewed,
                "agreement_lower": numbers.outward(v.agreement.lower, lower=True),
                "agreement_upper": numbers.outward(v.agreement.upper, lower=False),
                "succeeded": e.succeeded,
                "verified": e.verified,
                "success_lower": numbers.outward(v.success.lower, lower=True),
                "success_upper": numbers.outward(v.success.upper, lower=False),
                "decisions": active.decisions,
                "unattended": active.unattended,
                "unattended_failures": active.failures,
                "unattended_critical": active.critical,
            }


def history_json(found: History) -> str:
    """Every step with its groups, as JSON."""
    steps: dict[str, list[dict[str, str | int | float]]] = {}
    for row in rows(found):
        steps.setdefault(str(row["as_of"]), []).append(
            {name: value for name, value in row.items() if name != "as_of"}
        )
    for step in found.steps:
        steps.setdefault(times.stamp(step.as_of), [])
    data = {
        "group_by": list(found.group_by),
        "steps": [{"as_of": as_of, "groups": groups} for as_of, groups in sorted(steps.items())],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def history_csv(found: History) -> str:
    """One CSV row per step and group."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows(found))
    return out.getvalue()


def _lower(n: int, lower: float) -> str:
    return numbers.bound_text(lower, 3, lower=True) if n else "–"


_CHANGE = {"promoted": "↑", "demoted": "↓", "unchanged": " ", "new": "+", "proposed": "⇡"}


def _rate(k: int, n: int, lower: float, upper: float) -> str:
    """``k/n [lower, upper]``, the bounds rounded outwards (``–`` with nothing counted)."""
    if not n:
        return "–"
    low = numbers.bound_text(lower, 3, lower=True)
    return f"{k}/{n} [{low}, {numbers.bound_text(upper, 3, lower=False)}]"


def history_table(found: History, wide: bool = False) -> Table:
    """Steps as a table that fits 80 columns: the date once per step, a row per group.

    The bounds are the gates' lower bounds; ``wide`` (``--wide``) has the counts and both
    bounds of each gate instead; ``--format csv`` or ``json`` has every number.
    """
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1 if wide else 0)
    )
    gates = (
        (("agreement", False), ("success", False)) if wide else (("agree≥", True), ("succ.≥", True))
    )
    for heading, right in (
        ("as of", False),
        ("group", False),
        ("level", False),
        *gates,
        ("dec.", True),
        ("unatt.", True),
        ("fail", True),
        ("crit", True),
    ):
        # Only the group wraps (a banded label at a space), so no number or date is ever cut.
        table.add_column(
            heading,
            no_wrap=heading != "group",
            overflow="fold",
            justify="right" if right else "left",
        )
    for step in found.steps:
        day = step.as_of.strftime("%Y-%m-%d")
        for index, v in enumerate(step.verdicts):
            e = v.state.evidence
            active = step.activity_of(v.state.key)
            if wide:
                shown = (
                    _rate(e.agreed, e.reviewed, v.agreement.lower, v.agreement.upper),
                    _rate(e.succeeded, e.verified, v.success.lower, v.success.upper),
                )
            else:
                shown = (_lower(e.reviewed, v.agreement.lower), _lower(e.verified, v.success.lower))
            table.add_row(
                Text(day if index == 0 else ""),
                Text(label(found.group_by, v.state.key)),
                change_cell(_CHANGE[v.change] + v.level.value, v.change),
                *(
                    Text(cell)
                    for cell in (
                        *shown,
                        str(active.decisions),
                        str(active.unattended),
                        str(active.failures),
                        str(active.critical),
                    )
                ),
            )
    return table
