"""Only the command that runs is built; every run shows what Typer builds from all of them.

``trustctl.cli`` lists the commands from ``COMMANDS`` and builds a command's options only
when it runs. These tests run the same arguments through that app and through the app as
Typer builds it with every command registered, and compare what each prints and returns.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

import pytest
import typer
from typer.testing import CliRunner, Result

from trustctl import cli
from trustctl.cli import COMMANDS, app, command_function

runner = CliRunner()


def _built() -> typer.Typer:
    """The app with every command registered and built, as Typer does by default."""
    built = typer.Typer(
        name="trustctl",
        help=app.info.help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    built.callback()(cli._root)
    for name in COMMANDS:
        built.command()(command_function(name))
    return built


BUILT = _built()


def _both(args: list[str], env: Mapping[str, str] | None = None) -> tuple[Result, Result]:
    return tuple(  # type: ignore[return-value]
        runner.invoke(which, args, env=env, prog_name="trustctl") for which in (app, BUILT)
    )


def _same(lazy: Result, built: Result) -> None:
    assert (lazy.exit_code, lazy.stdout, lazy.stderr) == (
        built.exit_code,
        built.stdout,
        built.stderr,
    )


def test_the_commands_are_typers_in_the_same_order() -> None:
    built = typer.main.get_group(BUILT)
    assert list(typer.main.get_group(app).commands) == list(built.commands) == list(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_summary_is_the_first_paragraph_of_the_commands_docstring(name: str) -> None:
    docstring = inspect.getdoc(command_function(name)) or ""
    assert COMMANDS[name].summary == " ".join(docstring.split("\n\n")[0].split())


@pytest.mark.parametrize("columns", ["40", "50", "51", "63", "72", "79", "80", "81", "120", "300"])
@pytest.mark.parametrize("args", [["--help"], []])
def test_the_listing_is_byte_identical_at_every_width(
    args: list[str], columns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    lazy, built = _both(args)
    assert "Commands:" in lazy.stdout + lazy.stderr
    _same(lazy, built)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_commands_help_is_byte_identical(name: str) -> None:
    _same(*_both([name, "--help"]))


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["generat"],  # did you mean 'generate'?
        ["nosuch"],
        ["--nosuch"],
        ["generate", "--nosuch"],
        ["generate", "--sort", "nosuch"],
        ["diff"],
        ["sql", "--dialect", "nosuch"],
    ],
)
def test_versions_and_usage_errors_are_byte_identical(args: list[str]) -> None:
    lazy, built = _both(args)
    assert lazy.exit_code in (0, 2)
    _same(lazy, built)


@pytest.mark.parametrize(
    ("shell", "words"),
    [
        ("bash", "trustctl "),
        ("bash", "trustctl ge"),
        ("bash", "trustctl generate --so"),
        ("bash", "trustctl generate --sort "),
        ("zsh", "trustctl "),
        ("zsh", "trustctl re"),
        ("zsh", "trustctl whatif --"),
        ("fish", "trustctl "),
        ("fish", "trustctl sql --dialect "),
    ],
)
def test_completion_is_byte_identical(shell: str, words: str) -> None:
    env = {
        "_TRUSTCTL_COMPLETE": f"complete_{shell}",
        "_TYPER_COMPLETE_ARGS": words,
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
    }
    lazy, built = _both([], env)
    assert lazy.stdout.strip(), lazy.output
    _same(lazy, built)
