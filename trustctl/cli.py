"""The app: every command registered in the order ``--help`` lists them, and ``main``.

Each command lives in the ``cli_*`` module of its group; their shared options are in
``cli_options``, their exit codes in ``_terminal``. The core is imported inside each
command so ``--help`` and ``--version`` stay fast. For the same reason the command modules
do without ``from __future__ import annotations``: Typer would evaluate each command's
annotations from their text again on every run, a fifth of what ``--help`` costs.
"""

import os
import sys
from typing import Annotated

import typer

from trustctl import (
    __version__,
    cli_evidence,
    cli_explain,
    cli_ledger,
    cli_policy,
    cli_review,
    cli_weekly,
    cli_whatif,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="trustctl",
    help="Decide, from evidence, how much authority an AI operations agent has earned.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

for _command in (
    cli_policy.generate,
    cli_policy.check,
    cli_ledger.verify,
    cli_ledger.approve,
    cli_ledger.reject,
    cli_policy.diff,
    cli_explain.explain,
    cli_policy.validate,
    cli_evidence.aggregate,
    cli_evidence.sql,
    cli_evidence.sample,
    cli_review.history,
    cli_review.review,
    cli_review.oc,
    cli_weekly.update,
    cli_weekly.schema,
    cli_whatif.whatif,
):
    app.command()(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trustctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Decide, from evidence, how much authority an AI operations agent has earned."""


def main() -> None:
    """Run the command line; refuse to start with stdout closed (``>&-``)."""
    if sys.stdout is None:
        # Descriptor 1 is free: a file opened later would take it, and printing would write
        # into that file. Hold it with /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        if sys.stderr is not None:
            sys.stderr.write("error: <stdout>: closed; redirect it to a file or /dev/null\n")
        raise SystemExit(2)
    app()
