"""The commands for the weekly job and the tools around it: ``schema``."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from trustctl._terminal import fails_cleanly

__all__ = ["register"]


class SchemaName(str, Enum):
    """The files ``trustctl schema`` describes."""

    rules = "rules"
    policy = "policy"
    ledger = "ledger"
    evidence = "evidence"


@fails_cleanly
def schema(
    name: Annotated[SchemaName, typer.Argument(help="rules, policy, ledger or evidence.")],
) -> None:
    """Print the JSON Schema of a trustctl file, generated from the model that reads it.

    The same schemas are in the repository's schemas/ directory, for editors and CI.

    Examples:

    \b
      trustctl schema rules
      trustctl schema policy > policy.schema.json
    """
    from trustctl.schemas import schema_text

    sys.stdout.write(schema_text(name.value))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command()(schema)
