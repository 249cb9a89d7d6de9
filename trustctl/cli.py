"""The app: every command in the order ``--help`` lists them, and ``main``.

Each command lives in the ``cli_*`` module of its group; their shared options are in
``cli_options``, their exit codes in ``_terminal``. Only the command being run is imported
and built (its options made into click's objects): ``--help`` lists the others from
``COMMANDS``, and the core is imported inside each command. For the same reason the command
modules do without ``from __future__ import annotations``: Typer would evaluate a command's
annotations from their text again on every run.
"""

import importlib
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from gettext import gettext
from typing import Annotated, Any, NamedTuple

import typer
from typer._click import Command, Context, HelpFormatter
from typer._click.utils import make_default_short_help
from typer.core import TyperGroup
from typer.main import get_command_from_info
from typer.models import CommandInfo

from trustctl import __version__

__all__ = ["COMMANDS", "app", "command_function", "main"]


class Entry(NamedTuple):
    """Where a command is defined, and what ``trustctl --help`` says of it."""

    module: str
    """The ``trustctl.cli_*`` module defining a function of the command's name."""
    summary: str
    """The first paragraph of the function's docstring (a test keeps them equal)."""


#: Every command, in the order ``--help`` lists them.
COMMANDS: dict[str, Entry] = {
    "generate": Entry(
        "cli_policy", "Compute the autonomy policy from decision logs (the main job)."
    ),
    "check": Entry(
        "cli_policy",
        "Exit 1 unless the policy is what its ledger records and what the evidence gives (CI).",
    ),
    "verify": Entry(
        "cli_ledger",
        "Exit 1 unless every ledger entry is intact and either earned from the logs or signed.",
    ),
    "approve": Entry(
        "cli_ledger",
        "Apply a promotion waiting for sign-off, if the logs still earn it (exit 1 if not).",
    ),
    "reject": Entry(
        "cli_ledger",
        "Reject a promotion waiting for sign-off; it is not proposed again before it expires.",
    ),
    "diff": Entry("cli_policy", "What changed between two policies, with the reasons."),
    "explain": Entry(
        "cli_explain",
        "The full reasoning for one action class: evidence, gates, caps, pins, next step, history.",
    ),
    "validate": Entry(
        "cli_policy",
        "Check logs, rules and a policy file without computing anything; exit 0 or 2.",
    ),
    "aggregate": Entry(
        "cli_evidence",
        "Write the evidence of some logs (counts per group and UTC day) for `generate --evidence`.",
    ),
    "sql": Entry(
        "cli_evidence",
        "Print the query that computes the evidence table inside a warehouse or Spark.",
    ),
    "sample": Entry(
        "cli_evidence",
        "Write a realistic synthetic decision log (decisions.csv) into a directory.",
    ),
    "history": Entry(
        "cli_review",
        "The policy at each step, each built on the step before, as a weekly job runs.",
    ),
    "review": Entry(
        "cli_review",
        "The promotion review: a page with every group's verdict, trust over time and evidence.",
    ),
    "oc": Entry(
        "cli_review",
        "Print how often, and how soon, the rules promote and demote a class of known true rate.",
    ),
    "update": Entry(
        "cli_weekly",
        "The weekly job in one step: exit 1 and rewrite the policy only when a level changes.",
    ),
    "schema": Entry(
        "cli_weekly",
        "Print the JSON Schema of a trustctl file, generated from the model that reads it.",
    ),
    "whatif": Entry(
        "cli_whatif", "The baseline and scenarios side by side, from one read of the logs."
    ),
}


def command_function(name: str) -> Callable[..., None]:
    """The function of command ``name``, its module imported."""
    function: Callable[..., None] = getattr(
        importlib.import_module(f"trustctl.{COMMANDS[name].module}"), name
    )
    return function


class _Commands(MutableMapping[str, Command]):
    """The commands by name, each built the first time it is looked up."""

    def __init__(self) -> None:
        self._built: dict[str, Command] = {}

    def __getitem__(self, name: str) -> Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            info = CommandInfo(callback=command_function(name))
            self._built[name] = get_command_from_info(
                info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
        return self._built[name]

    def __setitem__(self, name: str, command: Command) -> None:
        raise TypeError(f"trustctl's commands are listed in COMMANDS, not added ({name})")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"trustctl's commands are listed in COMMANDS, not removed ({name})")

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class _Group(TyperGroup):
    """Typer's group, building only the command that runs; ``--help`` lists the summaries."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        # As TyperGroup.format_commands writes them, without building every command.
        limit = formatter.width - 6 - max(map(len, COMMANDS))
        rows = [
            (name, make_default_short_help(entry.summary, limit).strip())
            for name, entry in COMMANDS.items()
        ]
        with formatter.section(gettext("Commands")):
            formatter.write_dl(rows)


app = typer.Typer(
    name="trustctl",
    cls=_Group,
    help="Decide, from evidence, how much authority an AI operations agent has earned.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
