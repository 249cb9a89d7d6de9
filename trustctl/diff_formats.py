"""``diff`` as tables, markdown or JSON: metadata, levels with both reasons, distances."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from trustctl.diff import DistanceChange, LevelChange, MetadataChange, ProposalChange
from trustctl.markdown_cells import cell
from trustctl.render import change_cell

__all__ = [
    "diff_json",
    "diff_markdown_sections",
    "diff_tables",
    "distance_table",
    "level_table",
    "metadata_table",
]


def _table(title: str, headings: Sequence[str], wrapped: Sequence[str] = ()) -> Table:
    """A table whose ``wrapped`` columns take the width left; the others wrap only when
    the width left cannot hold them (80 columns), so no cell is cut."""
    table = Table(title=title, title_justify="left")
    for heading in headings:
        table.add_column(heading, ratio=1 if heading in wrapped else None, overflow="fold")
    return table


def _reasons(new: str | None, old: str | None) -> Text:
    """The new reason, and the old one below it when it says something else."""
    text = Text(new or "")
    if old and old != new:
        text.append(f"\nbefore: {old}", style="dim")
    return text


def metadata_table(changes: Sequence[MetadataChange]) -> Table:
    """What the two policies' metadata says differently."""
    table = _table("metadata", ("what", "old", "new"), wrapped=("old", "new"))
    for c in changes:
        table.add_row(Text(c.name), Text(c.old or "–"), Text(c.new or "–"))
    return table


def level_table(changes: Sequence[LevelChange]) -> Table:
    """Level changes between two policies, with the new reason and the old one."""
    table = _table("policy changes", ("group", "change", "old", "new", "reason"), ("reason",))
    for c in changes:
        table.add_row(
            Text(c.label),
            change_cell(c.kind, c.kind),
            Text(c.old or "–"),
            Text(c.new or "–"),
            _reasons(c.reason, c.old_reason),
        )
    return table


def _step(level: str | None, needed: int | None) -> str:
    if level is None:
        return "none"
    return level if needed is None else f"{level}: {needed} clean"


def distance_table(changes: Sequence[DistanceChange]) -> Table:
    """Groups at the same level whose next step moved."""
    table = _table(
        "next level: other distance, same level",
        ("group", "level", "old", "new", "reason"),
        ("reason",),
    )
    for c in changes:
        table.add_row(
            Text(c.label),
            Text(c.level),
            Text(_step(c.old_next, c.old_needed)),
            Text(_step(c.new_next, c.new_needed)),
            _reasons(c.new_reason, c.old_reason),
        )
    return table


def _proposal_table(changes: Sequence[ProposalChange]) -> Table:
    table = _table("proposals (waiting for sign-off)", ("group", "change", "level", "proposed"))
    for c in changes:
        table.add_row(
            Text(c.label), change_cell(c.kind, "proposed"), Text(c.level), Text(c.proposed)
        )
    return table


def diff_tables(
    metadata: Sequence[MetadataChange],
    levels: Sequence[LevelChange],
    distances: Sequence[DistanceChange],
    proposals: Sequence[ProposalChange],
) -> list[RenderableType]:
    """Every table with something in it; the level table (or its absence) always said."""
    shown: list[RenderableType] = []
    if metadata:
        shown.append(metadata_table(metadata))
    shown.append(level_table(levels) if levels else Text("no autonomy level changes"))
    if distances:
        shown.append(distance_table(distances))
    if proposals:
        shown.append(_proposal_table(proposals))
    return shown


def _listed(items: Sequence[Any]) -> list[dict[str, Any]]:
    found = []
    for item in items:
        data = asdict(item)
        if "key" in data:
            data["key"] = list(item.key)
        found.append(data)
    return found


def diff_json(
    metadata: Sequence[MetadataChange],
    levels: Sequence[LevelChange],
    distances: Sequence[DistanceChange],
    proposals: Sequence[ProposalChange],
) -> str:
    """Every difference as JSON: ``metadata``, ``levels``, ``distances``, ``proposals``."""
    data = {
        "metadata": _listed(metadata),
        "levels": _listed(levels),
        "distances": _listed(distances),
        "proposals": _listed(proposals),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def diff_markdown_sections(
    metadata: Sequence[MetadataChange],
    levels: Sequence[LevelChange],
    distances: Sequence[DistanceChange],
) -> str:
    """What the pull request's body does not say: every metadata difference, the old
    reason of each level change, and the groups whose distance to the next level moved."""
    lines = []
    before = [c for c in levels if c.old_reason and c.old_reason != c.reason]
    if before:
        lines += ["### Level changes: the reasons before", ""]
        lines += [f"- **{c.label}** ({c.old}): {c.old_reason}" for c in before]
        lines.append("")
    if metadata:
        lines += ["### Metadata", "", "| what | old | new |", "|---|---|---|"]
        lines += [f"| {c.name} | {cell(c.old or '–')} | {cell(c.new or '–')} |" for c in metadata]
        lines.append("")
    if distances:
        lines += ["### Next level: other distance, same level", ""]
        for c in distances:
            lines.append(
                f"- **{c.label}** ({c.level}): {_step(c.old_next, c.old_needed)} → "
                f"{_step(c.new_next, c.new_needed)}"
            )
            if c.new_reason:
                lines.append(f"  - why: {c.new_reason}")
            if c.old_reason and c.old_reason != c.new_reason:
                lines.append(f"  - before: {c.old_reason}")
        lines.append("")
    return "\n".join(lines)
