"""``trustctl review`` end to end: evaluate, step through history, build the page, write it.

Every text and chart is ready before anything is written; the charts of ``-o review.md``
go to ``review_files/`` beside it, the page last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from trustctl.economics import GroupEconomics, group_economics, minutes_of
from trustctl.files import write_atomically
from trustctl.history import history, pick_groups
from trustctl.inputs import DecisionLogs
from trustctl.oc import operating_characteristics
from trustctl.pair import by_rerunning, default_ledger, open_ledger
from trustctl.policy_model import Policy
from trustctl.record import run, settled
from trustctl.review import Review, build_review
from trustctl.review_page import slug, to_html, to_markdown
from trustctl.review_signoff import sign_off
from trustctl.rules import LoadedRules

__all__ = ["Request", "html_page", "markdown_page", "review_of", "write_markdown"]


@dataclass(frozen=True)
class Request:
    """What the review is asked for."""

    logs: Sequence[Path]
    rules: LoadedRules
    policy: Path | None = None
    previous: Policy | None = None
    as_of: dt.datetime | None = None
    groups: Sequence[str] = ()
    recent: int = 10
    review_minutes: float | None = None
    """``--review-minutes``: the minutes a decision waits for a human, over the rules'
    ``economics.review_delay_minutes``; with either, the page has an economics section."""


def review_of(request: Request) -> Review:
    """The review's data: the verdicts as ``generate`` gives them, the history behind them."""
    where = None if request.policy is None else default_ledger(request.policy)
    source = DecisionLogs(request.logs)
    confirm = by_rerunning(source, request.rules, request.previous)
    book = open_ledger(request.previous, request.policy, where, confirm=confirm)
    done = run(source, request.rules, book, request.previous, request.as_of)
    evaluation = settled(done)
    found = history(request.logs, request.rules, until=evaluation.as_of)
    found = pick_groups(found, request.groups)
    minutes = minutes_of(request.review_minutes, request.rules.rules)
    review = build_review(
        evaluation,
        found,
        request.rules,
        policy=request.policy,
        recent=request.recent,
        minutes=minutes,
    )
    economics: tuple[GroupEconomics, ...] = ()
    if minutes is not None:
        shown = review.groups
        economics = tuple(
            group_economics(
                found,
                [g.verdict for g in shown],
                [g.name for g in shown],
                minutes,
                [g.trade_off for g in shown],
            )
        )
    if where is not None and book.exists:
        outcomes = {o.verdict.state.key: o for o in done.outcomes}
        group_by = request.rules.rules.key_fields
        entries = done.ledger.entries
        review = replace(
            review,
            groups=tuple(
                replace(g, signoff=sign_off(outcomes[key], entries, group_by, str(where)))
                if (key := g.verdict.state.key) in outcomes
                else g
                for g in review.groups
            ),
        )
    return replace(review, oc=operating_characteristics(request.rules.rules), economics=economics)


def html_page(review: Review) -> str:
    """The review as one self-contained HTML page, charts inline."""
    from trustctl.charts import group_charts  # matplotlib: only when a chart is drawn

    return to_html(review, {g.name: group_charts(g) for g in review.groups})


def markdown_page(review: Review) -> str:
    """The review as markdown without charts (they need files beside it: ``write_markdown``)."""
    return to_markdown(review, lambda group, chart: None)


def write_markdown(review: Review, output: Path) -> int:
    """Write the charts to ``NAME_files/`` beside ``output``, then the page linking them;
    return how many charts were written."""
    from trustctl.charts import group_charts

    charts = {g.name: group_charts(g) for g in review.groups}
    folder = output.with_name(f"{output.stem}_files")
    files = {
        (name, chart): f"{folder.name}/{slug(name)}-{chart}.svg"
        for name, group in charts.items()
        for chart in group
    }
    page = to_markdown(review, lambda name, chart: files.get((name, chart)))
    folder.mkdir(exist_ok=True)
    for (name, chart), relative in files.items():
        write_atomically(output.parent / relative, charts[name][chart].svg)
    write_atomically(output, page)
    return len(files)
