"""The review as one self-contained HTML page or as markdown: layout only, no numbers made here.

The HTML has its CSS inline and its charts as inline SVG: no script, no request to any
other host, readable at phone width, printable (charts never split across pages).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from trustctl import numbers, oc_report, times
from trustctl.calibration import Calibration
from trustctl.markdown_cells import cell
from trustctl.pace import eta_text, pace_text
from trustctl.reasons import check_text, needs_text, reason_text
from trustctl.render import check_word
from trustctl.review import GroupReview, Review
from trustctl.review_economics import economics_html, economics_markdown, trade_off_text
from trustctl.review_html import CSS, Chart, e, figure, table, text
from trustctl.review_signoff import signoff_lines

__all__ = ["Chart", "slug", "to_html", "to_markdown"]


def slug(name: str) -> str:
    """A group name as an id and a file name (``k8s.scale system_tier=2`` → ``k8s-scale-…``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _rows(group: GroupReview) -> list[tuple[str, str, str]]:
    """The verdict's checks as (rule, result, numbers), the cap last."""
    found = [(c.rule, check_word(c), check_text(c)) for c in group.verdict.checks]
    cap = group.verdict.cap
    if cap.limited_by is not None:
        found.append(("caps", "caps", f"at most {cap.level.value} ({cap.tier})"))
    return found


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _header_lines(review: Review) -> list[tuple[str, str]]:
    header = review.header
    lines = [
        ("as of", times.stamp(header.as_of)),
        (
            "window",
            f"{header.window_from:%Y-%m-%d} to {times.stamp(header.as_of)} ({review.rules.window})",
        ),
    ]
    lines += [("input", f"{path} sha256 {sha}") for path, sha in header.inputs]
    rules = header.rules + (f" sha256 {header.rules_sha256}" if header.rules_sha256 else "")
    lines.append(("rules", rules))
    lines.append(("compared with", header.policy or "the log's own modes (no --policy given)"))
    lines.append(("trustctl", header.version))
    return lines


def _summary(group: GroupReview) -> tuple[str, str, str, str, str, str]:
    v = group.verdict
    return (
        group.name,
        v.level.value,
        v.change,
        v.limited_by or "–",
        group.next_step,
        pace_text(group.eta),
    )


# --- HTML ----------------------------------------------------------------------------------


def _cut_rows(calibration: Calibration) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            f"≥ {c.cut:.2f}",
            str(c.reviewed),
            str(c.approved),
            _pct(c.rate),
            numbers.bound_text(c.lower, 3, lower=True) if c.reviewed else "–",
        )
        for c in calibration.cuts
    ]


_CUT_HEADS = ("confidence", "reviewed", "approved", "rate", "lower bound")


def _calibration_text(calibration: Calibration) -> str:
    return (
        f"{calibration.decisions} judged decisions with a confidence: Brier score "
        f"{calibration.brier:.4f}, expected calibration error (10 bins) {calibration.ece:.4f}."
    )


def _calibration_html(calibration: Calibration, chart: Chart | None) -> str:
    parts = [
        "<h3>Calibration of ai_confidence</h3>",
        f"<p>{e(_calibration_text(calibration))}</p>",
    ]
    if chart is not None:
        parts.append(figure(chart, small=True))
    rows = [[text(c, "n") for c in row] for row in _cut_rows(calibration)]
    parts.append(table(_CUT_HEADS, rows, cards=True, numeric=True))
    return "".join(parts)


def _disagreements_html(group: GroupReview) -> str:
    parts = [f"<h3>Disagreements in the window: {group.disagreements}</h3>"]
    if not group.disagreements:
        return parts[0]
    parts.append('<div class="rollups">')
    for rollup in group.rollups:
        rows = [(text(value), text(count, "n")) for value, count in rollup.counts_text()]
        parts.append(table((f"by {rollup.by}", "n"), rows, cards=False))
    parts.append("</div>")
    parts.append(
        f"<p>The {len(group.recent)} most recent, and whether the current promotion evidence "
        "counts them:</p>"
    )
    recent = [
        (
            text(d.decision_id, "nowrap"),
            text(times.stamp(d.timestamp)),
            text(d.human_decision),
            text(d.reviewer),
            text(d.rationale),
            text("counted", "counted") if d.counted else text("not counted", "not-counted"),
        )
        for d in group.recent
    ]
    heads = ("decision", "time", "human", "reviewer", "rationale", "evidence")
    parts.append(table(heads, recent, cards=True))
    return "".join(parts)


def _group_html(group: GroupReview, charts: Mapping[str, Chart]) -> str:
    v = group.verdict
    parts = [
        f'<section class="group" id="{slug(group.name)}">',
        f'<h2>{e(group.name)} — <span class="level">{e(v.level.value)}</span></h2>',
        f'<p class="verdict"><strong>Verdict:</strong> <span class="level">{e(v.level.value)}'
        f"</span> ({e(v.change)}, was {e(v.previous_level.value)})</p>",
        f'<p class="reason">{e(reason_text(v.reason))}</p>',
        f"<p><strong>Next:</strong> {e(needs_text(v.next))}"
        + (
            f"<br><strong>At the recent pace:</strong> {e(eta_text(group.eta))}"
            if group.eta
            else ""
        )
        + (
            f"<br><strong>Cost of waiting:</strong> {e(trade_off_text(group.trade_off))}"
            if group.trade_off
            else ""
        )
        + "</p>",
    ]
    gates = [(text(rule), text(word, word), text(numbers)) for rule, word, numbers in _rows(group)]
    parts.append(table(("rule", "result", "numbers"), gates, cards=True))
    for name in ("trust", "volume"):
        if name in charts:
            parts.append(figure(charts[name]))
    parts.append(_disagreements_html(group))
    if group.calibration is not None:
        parts.append(_calibration_html(group.calibration, charts.get("reliability")))
    parts.append(_signoff_html(group))
    parts.append(
        '<div class="scroll"><table class="signoff"><thead><tr>'
        "<th>reviewers</th><th>decision</th><th>date</th></tr></thead>"
        "<tbody><tr><td></td><td></td><td></td></tr></tbody></table></div></section>"
    )
    return "".join(parts)


def _signoff_html(group: GroupReview) -> str:
    found = group.signoff
    lines = [] if found is None else signoff_lines(found, group.name)
    items = "".join(f"<li>{e(line)}</li>" for line in lines)
    return "<h3>Sign-off</h3>" + (f"<ul>{items}</ul>" if items else "")


_OC_TITLE = "Operating characteristics of these rules"
_OC_NOTE = "What the rules in use do at known true rates, as `trustctl oc` prints it."


def _oc_html(review: Review) -> str:
    if review.oc is None:
        return ""
    return (
        f"<section><h2>{_OC_TITLE}</h2><p>{e(_OC_NOTE)}</p>"
        f"<pre>{e(oc_report.table(review.oc))}</pre></section>"
    )


def _oc_markdown(review: Review) -> list[str]:
    if review.oc is None:
        return []
    return [f"## {_OC_TITLE}", "", _OC_NOTE, "", oc_report.markdown(review.oc)]


def to_html(review: Review, charts: Mapping[str, Mapping[str, Chart]]) -> str:
    """The review as one HTML page; ``charts`` by group name, then chart name."""
    as_of = times.stamp(review.header.as_of)
    meta = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _header_lines(review))
    summary = [
        (
            (f'<a href="#{slug(g.name)}">{e(g.name)}</a>', "nowrap"),
            text(g.verdict.level.value, "level"),
            text(g.verdict.change, "nowrap"),
            text(g.verdict.limited_by or "–", "nowrap"),
            text(g.next_step),
            text(pace_text(g.eta)),
        )
        for g in review.groups
    ]
    heads = ("group", "level", "change", "limited by", "next", "at the recent pace")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Promotion review — {e(as_of)}</title><style>{CSS}</style></head><body><main>"
        f'<header><h1>Promotion review</h1><dl class="meta">{meta}</dl></header>'
        "<section><h2>Summary: closest to promotion first</h2>"
        + table(heads, summary, cards=True)
        + "</section>"
        + "".join(_group_html(g, charts.get(g.name, {})) for g in review.groups)
        + economics_html(review.economics)
        + _oc_html(review)
        + "</main></body></html>\n"
    )


# --- markdown ------------------------------------------------------------------------------


def _md_table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(heads) + " |",
        "|" + "---|" * len(heads),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows),
        "",
    ]


def to_markdown(review: Review, link: Callable[[str, str], str | None]) -> str:
    """The review as markdown; ``link(group, chart)`` gives a chart's path, or ``None``."""
    lines = ["# Promotion review", ""]
    lines += [f"- **{k}:** {cell(v)}" for k, v in _header_lines(review)]
    lines += ["", "## Summary: closest to promotion first", ""]
    lines += _md_table(
        ("group", "level", "change", "limited by", "next", "at the recent pace"),
        [_summary(g) for g in review.groups],
    )
    for group in review.groups:
        v = group.verdict
        lines += [f"## {group.name} — {v.level.value}", ""]
        lines += [
            f"**Verdict:** {v.level.value} ({v.change}, was {v.previous_level.value})",
            "",
            reason_text(v.reason),
            "",
            f"**Next:** {needs_text(v.next)}",
            "",
            *([f"**At the recent pace:** {eta_text(group.eta)}", ""] if group.eta else []),
            *(
                [f"**Cost of waiting:** {trade_off_text(group.trade_off)}", ""]
                if group.trade_off
                else []
            ),
        ]
        lines += _md_table(("rule", "result", "numbers"), _rows(group))
        for name, title in (("trust", "trust over time"), ("volume", "decisions per week")):
            path = link(group.name, name)
            if path is not None:
                lines += [f"![{group.name}: {title}]({path})", ""]
        lines += [f"### Disagreements in the window: {group.disagreements}", ""]
        for rollup in group.rollups if group.disagreements else ():
            lines += _md_table((f"by {rollup.by}", "n"), rollup.counts_text())
        if group.recent:
            lines += _md_table(
                ("decision", "time", "human", "reviewer", "rationale", "evidence"),
                [
                    (
                        d.decision_id,
                        times.stamp(d.timestamp),
                        d.human_decision,
                        d.reviewer,
                        d.rationale,
                        "counted" if d.counted else "not counted",
                    )
                    for d in group.recent
                ],
            )
        calibration = group.calibration
        if calibration is not None:
            lines += ["### Calibration of ai_confidence", "", _calibration_text(calibration), ""]
            path = link(group.name, "reliability")
            if path is not None:
                lines += [f"![{group.name}: reliability]({path})", ""]
            lines += _md_table(_CUT_HEADS, _cut_rows(calibration))
        lines += ["### Sign-off", ""]
        if group.signoff is not None:
            lines += [*(f"- {cell(x)}" for x in signoff_lines(group.signoff, group.name)), ""]
        lines += _md_table(("reviewers", "decision", "date"), [("", "", "")])
    lines += economics_markdown(review.economics)
    lines += _oc_markdown(review)
    return "\n".join(lines)
