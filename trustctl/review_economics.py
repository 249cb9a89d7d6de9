"""The review's economics section (``--review-minutes``), as HTML and as markdown."""

from __future__ import annotations

import html
from collections.abc import Sequence

from trustctl.economics import GroupEconomics

__all__ = ["HEADS", "economics_html", "economics_markdown", "rows"]

TITLE = "Economics: review time saved, failures that ran first"
HEADS = (
    "group",
    "decisions",
    "run without a human first",
    "review time saved",
    "failures that ran first",
    "at auto_notify",
)


def _minutes(value: float) -> str:
    return f"{value:,.0f} min" if value < 120 else f"{value / 60:,.1f} h"


def note(found: Sequence[GroupEconomics]) -> str:
    """What the numbers count, in one paragraph."""
    first = found[0]
    return (
        f"At {first.saving.minutes_per_review:g} minutes of human review per decision "
        f"(--review-minutes), over the review's {first.weeks:.1f} weeks: each decision run at "
        "auto_notify or full (the log's mode) saved one review; the failures among them ran "
        "before a human saw them. The last column: the review time a week that reaching "
        "auto_notify would save at the same volume, for a group below it."
    )


def rows(found: Sequence[GroupEconomics]) -> list[tuple[str, ...]]:
    """One row per group, as the tables show it."""
    table: list[tuple[str, ...]] = []
    for group in found:
        s = group.saving
        share = f" ({s.automated / s.decisions:.0%})" if s.decisions else ""
        failed = f"{s.failures}" + (f" ({s.critical} critical)" if s.critical else "")
        weekly = group.per_week_at_next
        table.append(
            (
                group.name,
                str(s.decisions),
                f"{s.automated}{share}",
                _minutes(s.minutes_saved),
                failed,
                "–" if weekly is None else f"{_minutes(weekly)}/week",
            )
        )
    return table


def economics_html(found: Sequence[GroupEconomics]) -> str:
    """The section as HTML (empty without ``--review-minutes``)."""
    if not found:
        return ""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in HEADS)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows(found)
    )
    return (
        f'<section id="economics"><h2>{e(TITLE)}</h2><p>{e(note(found))}</p>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>'
        "</table></div></section>"
    )


def economics_markdown(found: Sequence[GroupEconomics]) -> list[str]:
    """The section as markdown lines (none without ``--review-minutes``)."""
    if not found:
        return []
    lines = [f"## {TITLE}", "", note(found), ""]
    lines.append("| " + " | ".join(HEADS) + " |")
    lines.append("|" + "---|" * len(HEADS))
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows(found)]
    return [*lines, ""]
