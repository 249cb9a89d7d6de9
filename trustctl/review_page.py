"""The review as one self-contained HTML page or as markdown: layout only, no numbers made here.

The HTML has its CSS inline and its charts as inline SVG: no script, no request to any
other host, readable at phone width, printable (charts never split across pages).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from trustctl import numbers, oc_report, times
from trustctl.calibration import Calibration
from trustctl.pace import eta_text, pace_text
from trustctl.reasons import check_text, needs_text, reason_text
from trustctl.render import check_word
from trustctl.review import GroupReview, Review
from trustctl.review_economics import economics_html, economics_markdown
from trustctl.review_signoff import signoff_lines

__all__ = ["Chart", "slug", "to_html", "to_markdown"]


@dataclass(frozen=True)
class Chart:
    """One chart of one group: its file name, title, text alternative and SVG."""

    name: str
    title: str
    alt: str
    svg: str


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

_CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 62rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; margin: .2rem 0 .6rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .4rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .3rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.scroll, pre { overflow-x: auto; }
pre { font-size: .8rem; }
table { border-collapse: collapse; width: 100%; margin: .3rem 0 .8rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .5rem;
  border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
th { background: #f6f8fa; white-space: nowrap; }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.nowrap, .level { white-space: nowrap; }
.level { font-weight: 600; }
.verdict { font-size: 1.1rem; margin: .3rem 0; }
.reason { margin: .2rem 0 .6rem; }
.FAIL, .DEMOTES, .BLOCKS { color: #b3261e; font-weight: 600; }
.pass, .holds { color: #1a7f37; }
figure { margin: .8rem 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; width: 100%; height: auto; max-width: 48rem; }
figure.small svg { max-width: 26rem; }
figcaption { color: var(--muted); font-size: .85rem; }
.rollups { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
  gap: 0 1rem; }
.counted { color: #1a7f37; }
.not-counted { color: var(--muted); }
.signoff td { height: 2.2rem; }
@media (max-width: 40rem) {
  body { font-size: 14px; }
  main { padding: .6rem; }
  table.cards thead { display: none; }
  table.cards tr { display: block; border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.cards td { display: block; border: 0; padding: .05rem .2rem; white-space: normal;
    text-align: left; overflow-wrap: anywhere; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
  table.cards td.first { font-weight: 600; }
}
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  section.group { break-before: page; }
  a { color: inherit; text-decoration: none; }
}
"""

Cell = tuple[str, str]
"""A table cell's text and its CSS classes."""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(heads: Sequence[str], rows: Sequence[Sequence[Cell | str]], *, cards: bool) -> str:
    """A table of escaped text; with ``cards`` each row becomes a card at phone width."""
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text, classes = (cell, "") if isinstance(cell, str) else cell
            if cards and index == 0:
                classes = f"{classes} first".strip()
            label = f' data-label="{_e(heads[index])}"' if cards and index else ""
            kind = f' class="{_e(classes)}"' if classes else ""
            cells.append(f"<td{kind}{label}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    kind = ' class="cards"' if cards else ""
    return (
        f'<div class="scroll"><table{kind}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _text(value: object, classes: str = "") -> Cell:
    return _e(value), classes


def _figure(chart: Chart, small: bool = False) -> str:
    label = _e(chart.title)
    svg = chart.svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    svg = svg.replace(">", f"><title>{label}</title>", 1)
    kind = ' class="small"' if small else ""
    return f"<figure{kind}>{svg}<figcaption>{_e(chart.alt)}</figcaption></figure>"


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
        f"<p>{_e(_calibration_text(calibration))}</p>",
    ]
    if chart is not None:
        parts.append(_figure(chart, small=True))
    rows = [[_text(c, "n") for c in row] for row in _cut_rows(calibration)]
    parts.append(_table(_CUT_HEADS, rows, cards=False))
    return "".join(parts)


def _disagreements_html(group: GroupReview) -> str:
    parts = [f"<h3>Disagreements in the window: {group.disagreements}</h3>"]
    if not group.disagreements:
        return parts[0]
    parts.append('<div class="rollups">')
    for rollup in group.rollups:
        rows = [(_text(value), _text(count, "n")) for value, count in rollup.counts_text()]
        parts.append(_table((f"by {rollup.by}", "n"), rows, cards=False))
    parts.append("</div>")
    parts.append(
        f"<p>The {len(group.recent)} most recent, and whether the current promotion evidence "
        "counts them:</p>"
    )
    recent = [
        (
            _text(d.decision_id, "nowrap"),
            _text(times.stamp(d.timestamp)),
            _text(d.human_decision),
            _text(d.reviewer),
            _text(d.rationale),
            _text("counted", "counted") if d.counted else _text("not counted", "not-counted"),
        )
        for d in group.recent
    ]
    heads = ("decision", "time", "human", "reviewer", "rationale", "evidence")
    parts.append(_table(heads, recent, cards=True))
    return "".join(parts)


def _group_html(group: GroupReview, charts: Mapping[str, Chart]) -> str:
    v = group.verdict
    parts = [
        f'<section class="group" id="{slug(group.name)}">',
        f'<h2>{_e(group.name)} — <span class="level">{_e(v.level.value)}</span></h2>',
        f'<p class="verdict"><strong>Verdict:</strong> <span class="level">{_e(v.level.value)}'
        f"</span> ({_e(v.change)}, was {_e(v.previous_level.value)})</p>",
        f'<p class="reason">{_e(reason_text(v.reason))}</p>',
        f"<p><strong>Next:</strong> {_e(needs_text(v.next))}"
        + (
            f"<br><strong>At the recent pace:</strong> {_e(eta_text(group.eta))}"
            if group.eta
            else ""
        )
        + "</p>",
    ]
    gates = [(_text(rule), _text(word, word), _text(text)) for rule, word, text in _rows(group)]
    parts.append(_table(("rule", "result", "numbers"), gates, cards=True))
    for name in ("trust", "volume"):
        if name in charts:
            parts.append(_figure(charts[name]))
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
    items = "".join(f"<li>{_e(line)}</li>" for line in lines)
    return "<h3>Sign-off</h3>" + (f"<ul>{items}</ul>" if items else "")


_OC_TITLE = "Operating characteristics of these rules"
_OC_NOTE = "What the rules in use do at known true rates, as `trustctl oc` prints it."


def _oc_html(review: Review) -> str:
    if review.oc is None:
        return ""
    return (
        f"<section><h2>{_OC_TITLE}</h2><p>{_e(_OC_NOTE)}</p>"
        f"<pre>{_e(oc_report.table(review.oc))}</pre></section>"
    )


def _oc_markdown(review: Review) -> list[str]:
    if review.oc is None:
        return []
    return [f"## {_OC_TITLE}", "", _OC_NOTE, "", oc_report.markdown(review.oc)]


def to_html(review: Review, charts: Mapping[str, Mapping[str, Chart]]) -> str:
    """The review as one HTML page; ``charts`` by group name, then chart name."""
    as_of = times.stamp(review.header.as_of)
    meta = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in _header_lines(review))
    summary = [
        (
            (f'<a href="#{slug(g.name)}">{_e(g.name)}</a>', "nowrap"),
            _text(g.verdict.level.value, "level"),
            _text(g.verdict.change, "nowrap"),
            _text(g.verdict.limited_by or "–", "nowrap"),
            _text(g.next_step),
            _text(pace_text(g.eta)),
        )
        for g in review.groups
    ]
    heads = ("group", "level", "change", "limited by", "next", "at the recent pace")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Promotion review — {_e(as_of)}</title><style>{_CSS}</style></head><body><main>"
        f'<header><h1>Promotion review</h1><dl class="meta">{meta}</dl></header>'
        "<section><h2>Summary: closest to promotion first</h2>"
        + _table(heads, summary, cards=True)
        + "</section>"
        + "".join(_group_html(g, charts.get(g.name, {})) for g in review.groups)
        + economics_html(review.economics)
        + _oc_html(review)
        + "</main></body></html>\n"
    )


# --- markdown ------------------------------------------------------------------------------


def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(heads) + " |",
        "|" + "---|" * len(heads),
        *("| " + " | ".join(_md(c) for c in row) + " |" for row in rows),
        "",
    ]


def to_markdown(review: Review, link: Callable[[str, str], str | None]) -> str:
    """The review as markdown; ``link(group, chart)`` gives a chart's path, or ``None``."""
    lines = ["# Promotion review", ""]
    lines += [f"- **{k}:** {_md(v)}" for k, v in _header_lines(review)]
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
            lines += [*(f"- {_md(x)}" for x in signoff_lines(group.signoff, group.name)), ""]
        lines += _md_table(("reviewers", "decision", "date"), [("", "", "")])
    lines += economics_markdown(review.economics)
    lines += _oc_markdown(review)
    return "\n".join(lines)
