"""Every ``--format`` of every command: each value the CLI offers is registered and runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main
import yaml
from clirun import ok

from trustctl import formats
from trustctl.cli import DiffFormat, HistoryFormat, OutputFormat, app

#: Per command with ``--format``: its choices and its registry.
COMMANDS = {
    "generate": (OutputFormat, formats.GENERATE),
    "diff": (DiffFormat, formats.DIFF),
    "history": (HistoryFormat, formats.HISTORY),
}


def test_every_command_with_a_format_option_is_listed_here() -> None:
    group = typer.main.get_group(app)
    with_format = {
        name
        for name, command in group.commands.items()
        if any("--format" in getattr(p, "opts", ()) for p in command.params)
    }
    assert with_format == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_choices_are_the_registered_formats(command: str) -> None:
    choices, registry = COMMANDS[command]
    assert [c.value for c in choices] == list(registry)


def _args(command: str, history_csv: Path, tmp_path: Path) -> list[str]:
    if command == "generate":
        return ["generate", str(history_csv)]
    if command == "history":
        return ["history", str(history_csv), "--every", "30d"]
    old = tmp_path / "old.yaml"
    ok("generate", history_csv, "--as-of", "2026-02-01", "-o", old)
    return ["diff", str(old), str(tmp_path / "new.yaml")]


@pytest.mark.parametrize(
    ("command", "name"), [(c, name) for c, (_, registry) in COMMANDS.items() for name in registry]
)
def test_every_registered_format_runs(
    command: str, name: str, history_csv: Path, tmp_path: Path
) -> None:
    ok("generate", history_csv, "-o", tmp_path / "new.yaml")
    text = ok(*_args(command, history_csv, tmp_path), "--format", name).stdout
    assert text.endswith("\n") and "k8s.restart_pod" in text  # in the policy and in the diff
    if name == "json":
        assert isinstance(json.loads(text), (dict, list))
    elif name == "yaml":
        assert yaml.safe_load(text)["kind"] == "AutonomyPolicy"
    elif name == "markdown":
        assert "| group |" in text
    elif name == "csv":
        assert text.startswith("as_of,group,")
    else:
        assert ("k8s.rollback" in text and "│" in text) or "─" in text
