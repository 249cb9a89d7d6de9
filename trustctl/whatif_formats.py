"""``whatif`` as a table, markdown, JSON or CSV: per group the level under each scenario."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustctl import times
from trustctl.diff import label
from trustctl.evidence import GroupKey, sort_key
from trustctl.markdown_cells import cell
from trustctl.reasons import first_need, reason_text
from trustctl.verdict import Verdict
from trustctl.whatif import Outcome, WhatIf

__all__ = ["FORMATS", "Shown", "changes_at", "framed_table", "markdown_table"]

_MISSING = "–"


@dataclass(frozen=True)
class Shown:
    """What ``whatif`` prints: the result, whether reasons are wanted, whether it is a sweep."""

    result: WhatIf
    reasons: bool = False
    sweep: str | None = None
    """The ``--sweep`` key, when the scenarios are its values."""


def _by_key(outcome: Outcome) -> dict[GroupKey, Verdict]:
    return {v.state.key: v for v in outcome.evaluation.verdicts}


def _keys(result: WhatIf) -> list[GroupKey]:
    found: set[GroupKey] = set()
    for outcome in (result.baseline, *result.scenarios):
        found |= {v.state.key for v in outcome.evaluation.verdicts}
    return sorted(found, key=sort_key)


def _clean(verdict: Verdict) -> int | None:
    return verdict.next.clean_decisions_needed


def _mark(verdict: Verdict | None, base: Verdict | None) -> str:
    """``↑``/``↓`` when the level differs from the baseline's, ``*`` when only the distance does."""
    if verdict is None or base is None:
        return "" if verdict is base else "+" if base is None else _MISSING
    if verdict.level.rank != base.level.rank:
        return "↑" if verdict.level.rank > base.level.rank else "↓"
    return "*" if _clean(verdict) != _clean(base) else ""


def _cell(verdict: Verdict | None, mark: str = "") -> str:
    if verdict is None:
        return _MISSING
    clean = _clean(verdict)
    text = verdict.level.value + ("" if clean is None else f" ({clean})")
    return f"{mark} {text}".strip() if mark else text


def changes_at(result: WhatIf, key: GroupKey) -> list[tuple[str, str]]:
    """Along a sweep: each value at which the group's level differs from the value before."""
    found: list[tuple[str, str]] = []
    before = None
    for outcome in result.scenarios:
        verdict = _by_key(outcome).get(key)
        level = None if verdict is None else verdict.level.value
        if before is not None and level != before:
            found.append((outcome.scenario.name, level or _MISSING))
        before = level
    return found


def _summary(result: WhatIf, outcome: Outcome) -> str:
    base, mine = _by_key(result.baseline), _by_key(outcome)
    marks = [_mark(mine.get(k), base.get(k)) for k in _keys(result)]
    return (
        f"{outcome.scenario.name}: {marks.count('↑')} promoted, {marks.count('↓')} demoted, "
        f"{marks.count('*')} at another distance from the next level than the baseline"
        + (f", {marks.count('+')} groups only here" if "+" in marks else "")
        + (f", {marks.count(_MISSING)} groups gone" if _MISSING in marks else "")
    )


def _header(shown: Shown) -> list[str]:
    result = shown.result
    base = result.baseline
    rules = base.rules.path or "built-in rules"
    extra = [
        *base.rules.overrides,
        *(f"where {f}" for f in base.evaluation.document.metadata.filters),
    ]
    lines = [
        f"baseline: {rules}{''.join(', ' + e for e in extra)}, as of "
        f"{times.stamp(base.evaluation.as_of)}"
    ]
    if shown.sweep is not None:
        names = [o.scenario.name for o in result.scenarios]
        lines.append(f"sweep: {shown.sweep} = {', '.join(names)}")
        return lines
    for outcome in result.scenarios:
        lines.append(
            f"{outcome.scenario.name}: {'; '.join(outcome.scenario.changes()) or 'no change'}"
        )
    return lines


def _rows(shown: Shown) -> list[list[str]]:
    result = shown.result
    base = _by_key(result.baseline)
    rows = []
    for key in _keys(result):
        row = [label(result.group_by, key), _cell(base.get(key))]
        for outcome in result.scenarios:
            verdict = _by_key(outcome).get(key)
            row.append(_cell(verdict, _mark(verdict, base.get(key))))
        if shown.sweep is not None:
            row.append(
                ", ".join(f"{v}: {level}" for v, level in changes_at(result, key)) or "never"
            )
        rows.append(row)
    return rows


def _columns(shown: Shown) -> list[str]:
    names = ["group", "baseline", *(o.scenario.name for o in shown.result.scenarios)]
    return [*names, "changes at"] if shown.sweep is not None else names


def _reasons(shown: Shown) -> list[str]:
    """Each scenario's reason for every group whose cell it changes."""
    result = shown.result
    base = _by_key(result.baseline)
    lines = []
    for outcome in result.scenarios:
        for key, verdict in sorted(_by_key(outcome).items(), key=lambda item: sort_key(item[0])):
            if _mark(verdict, base.get(key)):
                name = label(result.group_by, key)
                lines.append(f"{outcome.scenario.name} · {name}: {reason_text(verdict.reason)}")
    return lines


def _footer(shown: Shown) -> list[str]:
    summaries = [] if shown.sweep else [_summary(shown.result, o) for o in shown.result.scenarios]
    legend = "(n): clean decisions the next level needs; ↑ ↓ level vs baseline; * distance only"
    return [*summaries, legend, *(_reasons(shown) if shown.reasons else [])]


def framed_table(
    console: Console,
    header: list[str],
    columns: list[str],
    rows: list[list[str]],
    footer: list[str],
) -> str:
    """Header lines, a table whose cells fold rather than cut, then footer lines."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in columns:
        table.add_column(Text(name), overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    with console.capture() as captured:
        for line in header:
            console.print(Text(line), soft_wrap=True)
        console.print()
        console.print(table)
        for line in footer:
            console.print(Text(line), soft_wrap=True)
    return captured.get()


def _table(shown: Shown, console: Console) -> str:
    return framed_table(console, _header(shown), _columns(shown), _rows(shown), _footer(shown))


def markdown_table(
    header: list[str], columns: list[str], rows: list[list[str]], footer: list[str]
) -> str:
    """The markdown twin of ``framed_table``: header and footer lines as list items around
    one table, every cell and line escaped (``markdown_cells.cell``)."""
    out = [f"- {cell(line)}" for line in header]
    out += ["", "| " + " | ".join(cell(c) for c in columns) + " |"]
    out += ["|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    out += ["", *(f"- {cell(line)}" for line in footer)]
    return "\n".join(out) + "\n"


def _markdown(shown: Shown, _: Console) -> str:
    return markdown_table(_header(shown), _columns(shown), _rows(shown), _footer(shown))


def _verdict_data(verdict: Verdict | None) -> dict[str, object]:
    if verdict is None:
        return {"level": None}
    return {
        "level": verdict.level.value,
        "clean_decisions_needed": _clean(verdict),
        "next": first_need(verdict.next),
        "reason": reason_text(verdict.reason),
    }


def _group_data(shown: Shown, key: GroupKey) -> dict[str, object]:
    result = shown.result
    base = _by_key(result.baseline).get(key)
    data: dict[str, object] = {"group": label(result.group_by, key)}
    for outcome in (result.baseline, *result.scenarios):
        verdict = _by_key(outcome).get(key)
        data[outcome.scenario.name] = {**_verdict_data(verdict), "mark": _mark(verdict, base)}
    if shown.sweep:
        data["changes_at"] = [{"value": v, "level": lv} for v, lv in changes_at(result, key)]
    return data


def _json(shown: Shown, _: Console) -> str:
    result = shown.result
    data = {
        "baseline": {
            "as_of": times.stamp(result.baseline.evaluation.as_of),
            "rules": result.baseline.rules.path,
            "overrides": list(result.baseline.rules.overrides),
            "filters": list(result.baseline.evaluation.document.metadata.filters),
        },
        "scenarios": [
            {
                "name": o.scenario.name,
                "changes": o.scenario.changes(),
                "as_of": times.stamp(o.evaluation.as_of),
                "effective_sha256": o.rules.effective_sha256,
                "summary": None if shown.sweep else _summary(result, o),
            }
            for o in result.scenarios
        ],
        "groups": [_group_data(shown, key) for key in _keys(result)],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _csv(shown: Shown, _: Console) -> str:
    result = shown.result
    base = _by_key(result.baseline)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["as_of", "group", "scenario", "level", "clean_decisions_needed", "mark", "reason"]
    )
    for key in _keys(result):
        for outcome in (result.baseline, *result.scenarios):
            verdict = _by_key(outcome).get(key)
            writer.writerow(
                [
                    times.stamp(outcome.evaluation.as_of),
                    label(result.group_by, key),
                    outcome.scenario.name,
                    "" if verdict is None else verdict.level.value,
                    "" if verdict is None or _clean(verdict) is None else _clean(verdict),
                    _mark(verdict, base.get(key)),
                    "" if verdict is None else reason_text(verdict.reason),
                ]
            )
    return out.getvalue()


FORMATS: Mapping[str, Callable[[Shown, Console], str]] = {
    "table": _table,
    "markdown": _markdown,
    "json": _json,
    "csv": _csv,
}
"""``whatif --format``: a table, markdown, JSON, or CSV with one row per group and scenario."""
