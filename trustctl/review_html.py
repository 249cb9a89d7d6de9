"""The review page's HTML building blocks: its CSS, escaped cells, tables that become cards
at phone width, and figures (inline SVG with a title and a text alternative)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CSS", "Cell", "Chart", "e", "figure", "table", "text"]


@dataclass(frozen=True)
class Chart:
    """One chart of one group: its file name, title, text alternative and SVG."""

    name: str
    title: str
    alt: str
    svg: str


CSS = """
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
table.numeric { width: auto; min-width: 60%; }
table.numeric th:not(:first-child) { text-align: right; }
#economics th { white-space: normal; }
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


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def table(
    heads: Sequence[str],
    rows: Sequence[Sequence[Cell | str]],
    *,
    cards: bool,
    numeric: bool = False,
) -> str:
    """A table of escaped text; with ``cards`` each row becomes a card at phone width;
    ``numeric``: as wide as its numbers, every heading but the first over them on the right."""
    head = "".join(f"<th>{e(h)}</th>" for h in heads)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text, classes = (cell, "") if isinstance(cell, str) else cell
            if cards and index == 0:
                classes = f"{classes} first".strip()
            label = f' data-label="{e(heads[index])}"' if cards and index else ""
            kind = f' class="{e(classes)}"' if classes else ""
            cells.append(f"<td{kind}{label}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    names = " ".join(name for name, on in (("cards", cards), ("numeric", numeric)) if on)
    kind = f' class="{names}"' if names else ""
    return (
        f'<div class="scroll"><table{kind}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def text(value: object, classes: str = "") -> Cell:
    return e(value), classes


def figure(chart: Chart, small: bool = False) -> str:
    label = e(chart.title)
    svg = chart.svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    svg = svg.replace(">", f"><title>{label}</title>", 1)
    kind = ' class="small"' if small else ""
    return f"<figure{kind}>{svg}<figcaption>{e(chart.alt)}</figcaption></figure>"
