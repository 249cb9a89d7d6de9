"""Every ``--format`` of every command: each value the CLI offers is registered and runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from trustctl import formats
from trustctl.cli import DiffFormat, OutputFormat, app

runner = CliRunner()

#: Per command with ``--format``: its choices and its registry.
COMMANDS = {"generate": (OutputFormat, formats.GENERATE), "diff": (DiffFormat, formats.DIFF)}


@pytest.mark.parametrize("command", COMMANDS)
def test_the_choices_are_the_registered_formats(command: str) -> None:
    choices, registry = COMMANDS[command]
    assert [c.value for c in choices] == list(registry)


def _args(command: str, history_csv: Path, tmp_path: Path) -> list[str]:
    if command == "generate":
        return ["generate", str(history_csv)]
    old = tmp_path / "old.yaml"
    made = runner.invoke(app, ["generate", str(history_csv), "--as-of", "2026-02-01", "-o", old])
    assert made.exit_code == 0, made.output
    return ["diff", str(old), str(tmp_path / "new.yaml")]


@pytest.mark.parametrize(
    ("command", "name"), [(c, name) for c, (_, registry) in COMMANDS.items() for name in registry]
)
def test_every_registered_format_runs(
    command: str, name: str, history_csv: Path, tmp_path: Path
) -> None:
    new = runner.invoke(app, ["generate", str(history_csv), "-o", str(tmp_path / "new.yaml")])
    assert new.exit_code == 0, new.output
    result = runner.invoke(app, [*_args(command, history_csv, tmp_path), "--format", name])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.endswith("\n") and "k8s.restart_pod" in text  # in the policy and in the diff
    if name == "json":
        assert isinstance(json.loads(text), (dict, list))
    elif name == "yaml":
        assert yaml.safe_load(text)["kind"] == "AutonomyPolicy"
    elif name == "markdown":
        assert "| group |" in text
    else:
        assert ("k8s.rollback" in text and "│" in text) or "─" in text
