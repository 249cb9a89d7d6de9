"""Turning verdicts and diffs into rich tables and markdown (no maths here).

Every string that can hold log or rules data (ids, services, rationales, owners) goes
to rich as a ``Text``, never as a ``str``: rich would read ``[prod]`` as markup and
``:fire:`` as an emoji code.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from trustctl import numbers, times
from trustctl.diff import label
from trustctl.markdown_cells import cell, code
from trustctl.policy_model import Metadata
from trustctl.reasons import first_need, reason_text
from trustctl.verdict import Check, Verdict

__all__ = [
    "change_cell",
    "check_word",
    "next_text",
    "review_markdown",
    "review_table",
    "sorted_verdicts",
]

_ARROW = {"promoted": "↑", "demoted": "↓", "unchanged": "=", "new": "+", "proposed": "⇡"}

_MARK = {"promoted": "↑", "demoted": "↓", "unchanged": " ", "new": "+", "proposed": "⇡"}
"""A change in front of the level, in the narrow table (unchanged: a space, so levels align)."""

_CHANGE_STYLE = {"promoted": "green", "demoted": "red", "proposed": "yellow"}
"""Colours of level changes; a console without colour (a pipe, NO_COLOR) prints them plain."""


def _rate(k: int, n: int, lower: float) -> str:
    """``k/n`` and the lower bound, rounded down: a table never overstates a bound."""
    return f"{k}/{n} ≥{numbers.bound_text(lower, 3, lower=True)}" if n else "–"


def _cells(*texts: str) -> list[Text]:
    """Table cells shown exactly as given (no markup, no emoji codes)."""
    return [Text(text) for text in texts]


def change_cell(text: str, change: str) -> Text:
    """A cell about a level change: promotions green, demotions red, proposals yellow."""
    return Text(text, style=_CHANGE_STYLE.get(change, ""))


def next_text(verdict: Verdict) -> str:
    """The next step in a few words: the clean decisions it needs, else its first need (a
    cap names its tier and, for a system tier, the services there); ``explain`` shows all
    of ``verdict.next.needs``. Never cut: table cells wrap."""
    step = verdict.next
    if step.level is None and verdict.pin is not None and verdict.pin.active:
        return "pinned"
    if step.level is not None and step.clean_decisions_needed:
        return f"{step.level.value}: {step.clean_decisions_needed} clean"
    first = first_need(step)
    return first if step.level is None else f"{step.level.value}: {first}"


def _lower(n: int, lower: float) -> str:
    """A gate's lower bound, rounded down, or ``–`` with nothing counted."""
    return numbers.bound_text(lower, 3, lower=True) if n else "–"


def sorted_verdicts(verdicts: Sequence[Verdict], by: str) -> list[Verdict]:
    """Rows in ``by`` order: ``name`` (the group keys'), ``level`` (highest first) or
    ``next`` (fewest clean decisions to the next level first; capped, pinned, top last)."""
    rows = list(verdicts)
    if by == "level":
        return sorted(rows, key=lambda v: -v.level.rank)
    if by == "next":

        def distance(v: Verdict) -> tuple[int, int]:
            if v.next.level is None:
                return (2, 0)
            clean = v.next.clean_decisions_needed
            return (1, 0) if clean is None else (0, clean)

        return sorted(rows, key=distance)
    return rows


def review_table(
    verdicts: Sequence[Verdict], group_by: tuple[str, ...], wide: bool = False
) -> Table:
    """The policy as a table, one row per group: five columns that fit 80, or ``wide``,
    every column (counts, unverified, critical failures, what limits the level)."""
    if not wide:
        return _narrow_table(verdicts, group_by)
    table = Table(title="trustctl autonomy policy", title_justify="left", box=box.SIMPLE_HEAD)
    for heading in ("group", "level", "change", "agreement", "success"):
        table.add_column(heading, no_wrap=heading in ("group", "level"))
    table.add_column("unverif.", justify="right")
    table.add_column("crit.", justify="right")
    table.add_column("limited by")
    table.add_column("next", overflow="fold")
    for v in verdicts:
        e = v.state.evidence
        table.add_row(
            *_cells(label(group_by, v.state.key), v.level.value),
            change_cell(f"{_ARROW[v.change]} {v.change}", v.change),
            *_cells(
                _rate(e.agreed, e.reviewed, v.agreement.lower),
                _rate(e.succeeded, e.verified, v.success.lower),
                str(e.unverified),
                str(v.state.critical_failures),
                v.limited_by or "",
                next_text(v),
            ),
        )
    return table


def _narrow_table(verdicts: Sequence[Verdict], group_by: tuple[str, ...]) -> Table:
    """Group, level (its change as an arrow), both gates' lower bounds and the next step;
    long cells wrap, none is cut."""
    table = Table(
        title="trustctl autonomy policy",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("group", overflow="fold")
    table.add_column("level", no_wrap=True)
    table.add_column("agree≥", justify="right", no_wrap=True)
    table.add_column("succ.≥", justify="right", no_wrap=True)
    table.add_column("next", overflow="fold")
    for v in verdicts:
        e = v.state.evidence
        table.add_row(
            Text(label(group_by, v.state.key)),
            change_cell(f"{_MARK[v.change]}{v.level.value}", v.change),
            *_cells(
                _lower(e.reviewed, v.agreement.lower),
                _lower(e.verified, v.success.lower),
                next_text(v),
            ),
        )
    return table


def _markdown_header(metadata: Metadata) -> list[str]:
    """Which moment, inputs and rules a markdown table describes."""
    rules = metadata.rules
    lines = [f"**trustctl autonomy policy** as of {times.stamp(metadata.as_of)}", ""]
    lines += [f"- input: `{f.path}` sha256 `{f.sha256}`" for f in metadata.inputs]
    if rules is not None:
        lines.append(
            f"- rules: {f'`{rules.path}`' if rules.path else 'built-in defaults'}"
            + (f" sha256 `{rules.sha256}`" if rules.sha256 else "")
        )
    return [*lines, ""]


def review_markdown(verdicts: Sequence[Verdict], metadata: Metadata) -> str:
    """The review table as GitHub markdown, with every reason and the next step, under a
    header saying which moment, inputs and rules it describes."""
    group_by = metadata.group_by
    lines = [
        *_markdown_header(metadata),
        "| group | level | change | agreement | success | limited by | next | reason |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        e = v.state.evidence
        texts = (
            v.level.value,
            v.change,
            _rate(e.agreed, e.reviewed, v.agreement.lower),
            _rate(e.succeeded, e.verified, v.success.lower),
            v.limited_by or "",
            next_text(v),
            reason_text(v.reason),
        )
        row = [code(label(group_by, v.state.key)), *map(cell, texts)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def check_word(check: Check) -> str:
    """``pass``/``FAIL`` for a gate; ``holds``/``DEMOTES`` for a demotion check."""
    if check.rule.startswith("demote.") or check.rule == "agent_version_change":
        return "holds" if check.passed else "DEMOTES"
    if check.rule == "cooldown":
        return "BLOCKS"
    return "pass" if check.passed else "FAIL"
