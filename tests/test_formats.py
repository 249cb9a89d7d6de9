"""Every ``--format`` of every command: each value the CLI offers is registered and runs."""

from __future__ import annotations

import json

import pytest
import typer.main
import yaml
from clirun import ok, run
from conftest import LogFiles, history

from trustctl import formats
from trustctl.cli import app
from trustctl.cli_explain import ExplainFormat
from trustctl.cli_policy import CheckFormat, DiffFormat, OutputFormat
from trustctl.cli_review import HistoryFormat, OcFormat, ReviewFormat
from trustctl.cli_whatif import WhatifFormat

#: Per command with ``--format``: its choices and its registry.
COMMANDS = {
    "generate": (OutputFormat, formats.GENERATE),
    "diff": (DiffFormat, formats.DIFF),
    "history": (HistoryFormat, formats.HISTORY),
    "whatif": (WhatifFormat, formats.WHATIF),
    "review": (ReviewFormat, formats.REVIEW),
    "check": (CheckFormat, formats.CHECK),
    "explain": (ExplainFormat, formats.EXPLAIN),
}
#: Every command with ``--format``; oc's formats run in tests/test_oc.py (every one,
#: byte-identical for one seed).
CHOICES = {**COMMANDS, "oc": (OcFormat, formats.OC)}


def test_every_command_with_a_format_option_is_listed_here() -> None:
    group = typer.main.get_group(app)
    with_format = {
        name
        for name, command in group.commands.items()
        if any("--format" in getattr(p, "opts", ()) for p in command.params)
    }
    assert with_format == set(CHOICES)


@pytest.mark.parametrize("command", CHOICES)
def test_the_choices_are_the_registered_formats(command: str) -> None:
    choices, registry = CHOICES[command]
    assert [c.value for c in choices] == list(registry)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Each command's arguments, on one log and two policies written once for all formats."""
    folder = tmp_path_factory.mktemp("formats")
    log = LogFiles(folder).csv(history(), name="history.csv")
    old, new = folder / "old.yaml", folder / "new.yaml"
    ok("generate", log, "--as-of", "2026-02-01", "-o", old)
    ok("generate", log, "-o", new)
    edited = folder / "edited.yaml"
    edited.write_text(new.read_text().replace("level: auto_notify", "level: full", 1))
    (folder / "edited.ledger.jsonl").write_bytes((folder / "new.ledger.jsonl").read_bytes())
    return {
        "generate": ["generate", str(log)],
        "diff": ["diff", str(old), str(new)],
        "history": ["history", str(log), "--every", "30d"],
        "whatif": ["whatif", str(log), "--scenario", "strict: window=30d"],
        "review": ["review", str(log)],
        "check": ["check", str(log), "--policy", str(edited)],
        "explain": ["explain", "k8s.restart_pod", str(log)],
    }


@pytest.mark.parametrize(
    ("command", "name"), [(c, name) for c, (_, registry) in COMMANDS.items() for name in registry]
)
def test_every_registered_format_runs(
    command: str, name: str, inputs: dict[str, list[str]]
) -> None:
    result = run(*inputs[command], "--format", name)
    assert result.exit_code == (1 if command == "check" else 0), result.output
    text = result.stdout
    assert text.endswith("\n") and "k8s.restart_pod" in text  # in the policy and in the diff
    if name == "json":
        assert isinstance(json.loads(text), (dict, list))
    elif name == "yaml":
        assert yaml.safe_load(text)["kind"] == "AutonomyPolicy"
    elif name == "markdown":  # a table of groups, the pull request's body, or one class
        assert "| group |" in text or "### Level changes" in text or "| rule |" in text
    elif name == "csv":  # history's steps, or generate's groups
        assert text.startswith(("as_of,group,", "group,action_class,level,"))
    elif name == "html":
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    elif command == "check":
        assert "level full is not in the ledger" in text
    elif command == "explain":
        assert "─" in text and "reason: " in text  # COLUMNS=120: tables
    else:
        assert "─" in text  # a rich table
