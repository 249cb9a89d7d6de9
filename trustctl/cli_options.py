"""Options every evaluating command shares: ``--set`` over the rules and ``--where`` filters."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from trustctl.filters import Filter
    from trustctl.rules import LoadedRules

__all__ = ["SetOption", "WhereOption", "filters_of", "rules_with"]

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override one rules key, e.g. promote.auto_notify.agreement.threshold=0.97 "
        "or window=90d (the value is YAML; checked as the rules file is). Repeatable.",
    ),
]
WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        help="Count only decisions meeting COLUMN=VALUE (also != < <= > >=, or "
        "'COLUMN in A,B'), judged after a decision's event rows merge. Repeatable: all hold.",
    ),
]


def rules_with(path: Path | None, sets: list[str] | None) -> LoadedRules:
    """The rules file (or the built-in rules) with every ``--set`` laid over it."""
    from trustctl.overrides import apply_overrides, parse_override
    from trustctl.rules import load_rules

    overrides = [parse_override(text) for text in sets or []]
    return apply_overrides(load_rules(path), overrides)


def filters_of(where: list[str] | None) -> tuple[Filter, ...]:
    """Every ``--where`` parsed."""
    from trustctl.filters import parse_filter

    return tuple(parse_filter(text) for text in where or [])
