"""Operating characteristics as a text table, markdown or JSON (no maths here)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from itertools import groupby

from trustctl.oc_model import Drift, Promotion, Report, Steady

__all__ = ["as_json", "markdown", "table"]


def _share(value: float) -> str:
    """A probability as a percentage; a small one is never shown as 0."""
    if value in (0, 1):
        return f"{100 * value:g}%"
    if value < 0.0005:
        return "<0.1%"
    if value > 0.9995 and value < 1:
        return ">99.9%"
    return f"{100 * value:.1f}%"


def _week(week: int | None, weeks: int) -> str:
    return f"> {weeks}" if week is None else str(week)


def _grid(headers: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(row) for row in rows)]


def _heading(text: str, markdown: bool) -> str:
    return f"**{text}**" if markdown else text


def _promotion_block(rows: Sequence[Promotion], report: Report, markdown: bool) -> list[str]:
    first = rows[0]
    title = (
        f"{first.rule}: lower bound ≥ {first.threshold:g} over ≥ {first.min_decisions} — "
        f"promoted within {report.weeks} weekly runs (median week)"
    )
    mark = "" if all(r.exact for r in rows) else "~"
    table = []
    for rate, cells in groupby(sorted(rows, key=lambda r: r.rate), key=lambda r: r.rate):
        by_volume = {c.volume: c for c in cells}
        label = f"{rate:g}" + (" (at the threshold)" if rate == first.threshold else "")
        table.append(
            [label]
            + [
                mark
                + _share(by_volume[v].promoted)
                + ("" if by_volume[v].median_week is None else f" ({by_volume[v].median_week})")
                for v in report.volumes
            ]
        )
    headers = ["true rate", *(f"{v}/week" for v in report.volumes)]
    return [_heading(title, markdown), "", *_grid(headers, table, markdown), ""]


def _demotion_block(
    drifts: Sequence[Drift], steady: Sequence[Steady], report: Report, markdown: bool
) -> list[str]:
    first = drifts[0]
    weeks = report.weeks
    title = (
        f"{first.rule}: upper bound < {first.threshold:g} — true rate {first.before:g} for "
        f"{first.weeks_before} weeks after the promotion, then {first.after:g}"
    )
    drop = [
        [
            f"{d.volume}/week",
            _share(d.demoted),
            _week(d.median_week, weeks),
            _week(d.p90_week, weeks),
        ]
        for d in drifts
    ]
    drop_headers = [
        "volume",
        f"demoted within {weeks} weeks of the drop",
        "median weeks",
        "90th percentile",
    ]
    steady_rows = []
    for rate, cells in groupby(sorted(steady, key=lambda s: s.rate), key=lambda s: s.rate):
        by_volume = {c.volume: c for c in cells}
        steady_rows.append([f"{rate:g}", *(_share(by_volume[v].demoted) for v in report.volumes)])
    steady_headers = ["steady true rate", *(f"{v}/week" for v in report.volumes)]
    return [
        _heading(title, markdown),
        "",
        *_grid(drop_headers, drop, markdown),
        "",
        f"Wrongly demoted within {weeks} weeks of the promotion, at a steady rate above "
        f"{first.threshold:g}:",
        "",
        *_grid(steady_headers, steady_rows, markdown),
        "",
    ]


def _methods(report: Report) -> str:
    if report.demotion_method == report.method:
        return report.method
    return f"{report.method} (demotion: {report.demotion_method})"


def _preamble(report: Report) -> list[str]:
    recent = (
        f"and its last {report.recent_weeks} weeks (demote.recent {report.recent})"
        if report.recent is not None
        else "(no demote.recent)"
    )
    lines = [
        f"Bounds: {_methods(report)} at {100 * report.confidence:g}%. Weekly runs; a volume is "
        "the decisions a gate counts per week (reviewed for agreement, verified for success).",
        f"Evidence: the last {report.window_weeks} weeks (window {report.window}); demotion "
        f"checks judge the record since the promotion {recent}.",
    ]
    if report.simulated:
        lines.append(
            f"Numbers marked ~ and every demotion figure: simulation of {report.runs} classes "
            f"per row, seed {report.seed}; the others are exact."
        )
    else:
        lines.append("Every number is exact.")
    return [*lines, ""]


def _text(report: Report, markdown: bool) -> str:
    lines = _preamble(report)
    for _, promotions in groupby(report.promotions, key=lambda p: p.rule):
        lines += _promotion_block(list(promotions), report, markdown)
    steady = {rule: list(rows) for rule, rows in groupby(report.steady, key=lambda s: s.rule)}
    for rule, drifts in groupby(report.drifts, key=lambda d: d.rule):
        lines += _demotion_block(list(drifts), steady[rule], report, markdown)
    return "\n".join(lines).rstrip() + "\n"


def table(report: Report) -> str:
    """The report as aligned plain-text tables."""
    return _text(report, markdown=False)


def markdown(report: Report) -> str:
    """The report as markdown tables, for a README or a pull request body."""
    return _text(report, markdown=True)


def as_json(report: Report) -> str:
    """Every number of the report as JSON."""
    return json.dumps(asdict(report), indent=2) + "\n"
