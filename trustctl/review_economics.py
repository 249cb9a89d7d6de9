"""The cost of waiting, as text: the review's economics section (HTML, markdown) and the
line ``explain`` prints for a group's next level."""

from __future__ import annotations

from collections.abc import Sequence

from trustctl import numbers
from trustctl.economics import GroupEconomics, TradeOff
from trustctl.markdown_cells import cell
from trustctl.review_html import e, table, text

__all__ = ["economics_html", "economics_markdown", "heads", "rows", "trade_off_text"]

TITLE = "Economics: the cost of waiting for a human, and of not waiting"


def _minutes(value: float) -> str:
    return f"{value:,.0f} min" if value < 120 else f"{value / 60:,.1f} h"


def _money(value: float) -> str:
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"


def _bound_words(t: TradeOff) -> str:
    risk = t.risk
    return (
        f"each severity's failure rate at its one-sided {numbers.confidence_text(risk.confidence)} "
        f"upper bound ({risk.method}) over the {risk.verified} verified executions the "
        "promotion evidence counts: "
        + ", ".join(
            f"{name} {k} → ≤ {numbers.bound_text(upper, 4, lower=False)}"
            for name, k, upper in risk.severities
        )
    )


def trade_off_text(t: TradeOff) -> str:
    """What reaching the next level would save and risk a week, in one line."""
    wait = t.delay_minutes / t.per_week if t.per_week else 0.0
    text = (
        f"at {t.level.value}, {t.per_week:g} decisions/week (the last 4 weeks') would not wait "
        f"{wait:g} min for a human: {_minutes(t.delay_minutes)}/week of remediation delay saved"
    )
    delay, failures = t.delay_cost, t.failure_cost
    if delay is not None and t.prices is not None:
        text += f", worth {_money(delay)}/week at {_money(t.prices.downtime_cost_per_minute)}/min"
    if not t.risk.verified:
        return text + "; against it, no verified outcome to bound the failures by"
    if failures is None:
        return text + f"; against it, {_bound_words(t)}"
    return (
        text + f"; against it, failures that would run without a human first: expected "
        f"≤ {_money(failures)}/week ({_bound_words(t)})"
    )


def _priced(found: Sequence[GroupEconomics]) -> bool:
    return any(g.next_level is not None and g.next_level.prices is not None for g in found)


def heads(found: Sequence[GroupEconomics]) -> tuple[str, ...]:
    """The table's columns; the costs only with the rules' prices."""
    base = (
        "group",
        "decisions",
        "run without a human first",
        "wait saved",
        "failures that ran first",
        "auto_notify would save",
    )
    return (*base, "worth", "failures would cost ≤") if _priced(found) else base


def note(found: Sequence[GroupEconomics]) -> str:
    """What the numbers count, in one paragraph."""
    first = found[0]
    text = (
        f"At {first.saving.minutes_per_review:g} minutes of waiting for a human per decision "
        f"(economics.review_delay_minutes, or --review-minutes), over the review's "
        f"{first.weeks:.1f} weeks: each decision run at auto_notify or full (the log's mode) "
        "saved one wait; the failures among them ran before a human saw them. For a group at "
        "suggest: the remediation delay a week reaching auto_notify would save at the last 4 "
        "weeks' volume"
    )
    if not _priced(found):
        return text + "."
    return text + (
        ", what it is worth (× downtime_cost_per_minute), and against it the expected cost a "
        "week of the failures that would then run without a human first: decisions/week × "
        "Σ over severities of the failure rate's upper bound × failure_cost (a failure with "
        "no severity counts as the costliest)."
    )


def rows(found: Sequence[GroupEconomics]) -> list[tuple[str, ...]]:
    """One row per group, as the tables show it."""
    priced = _priced(found)
    table: list[tuple[str, ...]] = []
    for group in found:
        s, t = group.saving, group.next_level
        share = f" ({s.automated / s.decisions:.0%})" if s.decisions else ""
        failed = f"{s.failures}" + (f" ({s.critical} critical)" if s.critical else "")
        row: tuple[str, ...] = (
            group.name,
            str(s.decisions),
            f"{s.automated}{share}",
            _minutes(s.minutes_saved),
            failed,
            "–" if t is None else f"{_minutes(t.delay_minutes)}/week",
        )
        if priced:
            delay = None if t is None else t.delay_cost
            risk = None if t is None else t.failure_cost
            row += (
                "–" if delay is None else f"{_money(delay)}/week",
                "–" if risk is None else f"{_money(risk)}/week",
            )
        table.append(row)
    return table


def economics_html(found: Sequence[GroupEconomics]) -> str:
    """The section as HTML (empty without economics); its table becomes cards on a phone."""
    if not found:
        return ""
    body = [
        [text(cell, "" if index == 0 else "n") for index, cell in enumerate(row)]
        for row in rows(found)
    ]
    return (
        f'<section id="economics"><h2>{e(TITLE)}</h2><p>{e(note(found))}</p>'
        + table(heads(found), body, cards=True, numeric=True)
        + "</section>"
    )


def economics_markdown(found: Sequence[GroupEconomics]) -> list[str]:
    """The section as markdown lines (none without economics)."""
    if not found:
        return []
    names = heads(found)
    lines = [f"## {TITLE}", "", note(found), ""]
    lines.append("| " + " | ".join(names) + " |")
    lines.append("|" + "---|" * len(names))
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(found)]
    return [*lines, ""]
