"""The output formats of every command with ``--format``: results to text.

``--format`` looks its value up here; adding a format is adding one entry. Tables are
rendered on the console they will be printed on, so they take its width and colours.
Each command's renderers are imported when one of its formats is used, not with this
module: ``generate`` does not load the review, replay or ``oc`` code (``EXPLAIN``,
``WHATIF`` and ``REPLAY``, kept beside their renderers, are looked up on first use).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from trustctl import policy_csv, render
from trustctl.markdown_cells import cell, code
from trustctl.policy import to_json, to_yaml

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from trustctl.audit import Finding
    from trustctl.diff import DistanceChange, LevelChange, MetadataChange, ProposalChange
    from trustctl.evaluate import Evaluation
    from trustctl.explain_formats import Explained
    from trustctl.history import History
    from trustctl.ingest import BadRow
    from trustctl.oc import Report
    from trustctl.policy_model import Policy
    from trustctl.replay_formats import Replay
    from trustctl.review import Review
    from trustctl.whatif_formats import Shown

__all__ = [
    "CHECK",
    "DIFF",
    "EXPLAIN",
    "GENERATE",
    "HISTORY",
    "OC",
    "REPLAY",
    "REVIEW",
    "WHATIF",
    "Changes",
    "Checked",
    "Generated",
    "Stepped",
    "bad_rows_jsonl",
]

R = TypeVar("R")
Format = Callable[[R, "Console"], str]
"""Text of a result, for the console it will be printed on."""


@dataclass(frozen=True)
class Generated:
    """What ``generate`` shows: the evaluation and where its policy was written."""

    evaluation: Evaluation
    written_to: Path | None = None
    wide: bool = False
    """The table with every column (``--wide``), not the five that fit 80 columns."""
    sort: str = "name"
    """The order of the rows of every format but YAML (``--sort``): name, level or next."""


@dataclass(frozen=True)
class Changes:
    """What ``diff`` shows: the level changes between two policies, and what else differs."""

    changes: Sequence[LevelChange]
    old: Policy
    new: Policy
    new_path: str
    """The new policy's path as given, for the commands that reproduce a verdict."""

    @property
    def parts(
        self,
    ) -> tuple[
        list[MetadataChange], Sequence[LevelChange], list[DistanceChange], list[ProposalChange]
    ]:
        """Metadata, level, distance and proposal changes."""
        from trustctl.diff import distance_changes, metadata_changes, proposal_changes

        return (
            metadata_changes(self.old, self.new),
            self.changes,
            distance_changes(self.old, self.new),
            proposal_changes(self.old, self.new),
        )


def _printed(console: Console, *items: RenderableType) -> str:
    with console.capture() as captured:
        for item in items:
            console.print(item)
    return captured.get()


def _line(console: Console, text: str) -> str:
    """One line of plain text, never wrapped."""
    with console.capture() as captured:
        console.print(text, markup=False, soft_wrap=True)
    return captured.get()


def _policy_table(result: Generated, console: Console) -> str:
    evaluation = result.evaluation
    summary = evaluation.document.metadata.summary
    group_by = evaluation.document.metadata.group_by
    rows = render.sorted_verdicts(evaluation.verdicts, result.sort)
    table = _printed(console, render.review_table(rows, group_by, result.wide))
    if summary is None:
        return table
    return table + _line(
        console,
        f"{summary.groups} groups: {summary.promoted} promoted, {summary.demoted} demoted, "
        f"{summary.unchanged} unchanged, {summary.new} new, {summary.proposed} proposed"
        + (f"; policy written to {result.written_to}" if result.written_to else ""),
    )


def _sorted_json(result: Generated) -> str:
    """The policy as JSON, its actions in ``--sort`` order (the policy's own by default)."""
    document = result.evaluation.document
    if result.sort == "name":
        return to_json(document)
    actions = document.by_key()
    order = render.sorted_verdicts(result.evaluation.verdicts, result.sort)
    keys = [v.state.key for v in order if v.state.key in actions]
    ordered = tuple(actions[key] for key in keys)
    shown = set(keys)
    rest = tuple(a for a in document.actions if document.key_of(a) not in shown)
    return to_json(document.model_copy(update={"actions": ordered + rest}))


GENERATE: Mapping[str, Format[Generated]] = {
    "yaml": lambda result, _: to_yaml(result.evaluation.document),
    "json": lambda result, _: _sorted_json(result),
    "table": _policy_table,
    "markdown": lambda result, _: render.review_markdown(
        render.sorted_verdicts(result.evaluation.verdicts, result.sort),
        result.evaluation.document.metadata,
    ),
    "csv": lambda result, _: policy_csv.policy_csv(
        render.sorted_verdicts(result.evaluation.verdicts, result.sort),
        tuple(result.evaluation.document.metadata.group_by),
    ),
}
"""``generate --format``: the policy (YAML, JSON), the review table, it as markdown, or
one CSV row per group; all but the YAML (the policy file itself) in ``--sort`` order."""


def _diff_table(result: Changes, console: Console) -> str:
    from trustctl import diff_formats

    return _printed(console, *diff_formats.diff_tables(*result.parts))


def _diff_markdown(result: Changes, _: Console) -> str:
    from trustctl import diff_formats
    from trustctl.weekly import Update, pr_body

    metadata, levels, distances, _proposals = result.parts
    body = pr_body(Update(result.old, result.new, (), result.new_path, None))
    extra = diff_formats.diff_markdown_sections(metadata, levels, distances)
    return body + ("\n" + extra if extra else "")


def _diff_json(result: Changes, _: Console) -> str:
    from trustctl import diff_formats

    return diff_formats.diff_json(*result.parts)


DIFF: Mapping[str, Format[Changes]] = {
    "table": _diff_table,
    "markdown": _diff_markdown,
    "json": _diff_json,
}
"""``diff --format``: tables, markdown for a pull request body (with the metadata and
distances it leaves out), or JSON."""


def _history_table(shown: Stepped, console: Console) -> str:
    from trustctl import history_formats

    return _printed(console, history_formats.history_table(shown.found, shown.wide))


def _history_json(shown: Stepped, _: Console) -> str:
    from trustctl import history_formats

    return history_formats.history_json(shown.found)


def _history_csv(shown: Stepped, _: Console) -> str:
    from trustctl import history_formats

    return history_formats.history_csv(shown.found)


@dataclass(frozen=True)
class Stepped:
    """What ``history`` shows: the steps, and whether the table has every column."""

    found: History
    wide: bool = False
    """The table with each gate's counts and both bounds (``--wide``)."""


HISTORY: Mapping[str, Format[Stepped]] = {
    "table": _history_table,
    "json": _history_json,
    "csv": _history_csv,
}
"""``history --format``: a table, JSON or CSV, one row per step and group."""


def _review_html(review: Review, _: Console) -> str:
    from trustctl import review_pages

    return review_pages.html_page(review)


def _review_markdown(review: Review, _: Console) -> str:
    from trustctl import review_pages

    return review_pages.markdown_page(review)


REVIEW: Mapping[str, Format[Review]] = {
    "html": _review_html,
    "markdown": _review_markdown,
}
"""``review --format``: one self-contained HTML page, or markdown (its charts only with -o)."""


def _oc_table(report: Report, _: Console) -> str:
    from trustctl import oc_report

    return oc_report.table(report)


def _oc_markdown(report: Report, _: Console) -> str:
    from trustctl import oc_report

    return oc_report.markdown(report)


def _oc_json(report: Report, _: Console) -> str:
    from trustctl import oc_report

    return oc_report.as_json(report)


OC: Mapping[str, Format[Report]] = {
    "table": _oc_table,
    "markdown": _oc_markdown,
    "json": _oc_json,
}
"""``oc --format``: plain-text tables, markdown, or every number as JSON."""

if TYPE_CHECKING:
    EXPLAIN: Mapping[str, Format[Explained]]
    """``explain --format``: text (tables, or key: value lines below 100 columns), markdown
    or JSON."""
    WHATIF: Mapping[str, Format[Shown]]
    """``whatif --format``: per group the level under each scenario, as a table, markdown,
    JSON or CSV."""
    REPLAY: Mapping[str, Format[Replay]]
    """``whatif --replay --format``: per group and scenario, the share automated and the
    first promotion; per scenario the failures that would have run before a human saw them."""

#: The registries kept in the module of their renderers, by the name they have here.
_BESIDE_RENDERERS = {
    "EXPLAIN": "trustctl.explain_formats",
    "WHATIF": "trustctl.whatif_formats",
    "REPLAY": "trustctl.replay_formats",
}


def __getattr__(name: str) -> Any:
    """``EXPLAIN``, ``WHATIF`` and ``REPLAY``: imported with their renderers when first used."""
    if name in _BESIDE_RENDERERS:
        return importlib.import_module(_BESIDE_RENDERERS[name]).FORMATS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bad_rows_jsonl(rows: Iterable[BadRow]) -> str:
    """Rows left out with ``--on-bad-rows skip`` as JSON Lines (``--bad-rows-out``)."""
    return "".join(
        json.dumps(
            {"location": b.location, "errors": list(b.errors), "record": b.record},
            ensure_ascii=False,
            default=str,
        )
        + "\n"
        for b in rows
    )


@dataclass(frozen=True)
class Checked:
    """What ``check`` shows: the policy, its ledger, and what was found wrong."""

    policy: Path
    ledger: Path
    groups: int
    entries: int
    findings: Sequence[Finding]

    @property
    def verdict(self) -> str:
        """One line: up to date, or how many problems of which classes."""
        if not self.findings:
            return (
                f"{self.policy}: up to date ({self.groups} groups; ledger {self.ledger}: "
                f"{self.entries} entries, chain intact)"
            )
        kinds = sorted({f.kind for f in self.findings})
        return f"{self.policy}: {len(self.findings)} problem(s) ({', '.join(kinds)})"


def _check_text(result: Checked, console: Console) -> str:
    lines = [f"{f.kind}: {f}" for f in result.findings]
    return "".join(_line(console, text) for text in [*lines, result.verdict])


def _check_markdown(result: Checked, _: Console) -> str:
    head = f"### trustctl check: `{result.policy}`\n\n{result.verdict}\n"
    if not result.findings:
        return head
    rows = [
        "| class | file | group | finding |",
        "|---|---|---|---|",
        *(
            f"| {f.kind} | {code(f.where)} | {'' if f.group is None else code(f.group)} | "
            f"{cell(f.message)} |"
            for f in result.findings
        ),
    ]
    return head + "\n" + "\n".join(rows) + "\n"


def _check_json(result: Checked, _: Console) -> str:
    data = {
        "policy": str(result.policy),
        "ledger": str(result.ledger),
        "ok": not result.findings,
        "groups": result.groups,
        "entries": result.entries,
        "findings": [
            {"class": f.kind, "file": f.where, "group": f.group, "message": f.message}
            for f in result.findings
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


CHECK: Mapping[str, Format[Checked]] = {
    "text": _check_text,
    "json": _check_json,
    "markdown": _check_markdown,
}
"""``check --format``: one line per problem, JSON, or markdown for a CI step summary."""
