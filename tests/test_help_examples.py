"""Every command's --help ends with examples, and every example runs on sample_data/ as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main

from tests.clirun import ok, run
from trustctl.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> dict[str, str]:
    group = typer.main.get_group(app)
    return {name: command.help or "" for name, command in group.commands.items()}


def _examples(help_text: str) -> list[str]:
    after = help_text.split("Examples:", 1)[1]
    return [line.strip() for line in after.splitlines() if line.strip().startswith("trustctl ")]


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_help_has_examples(name: str) -> None:
    shown = ok(name, "--help").stdout
    assert "Examples:" in shown, name
    assert _examples(_commands()[name]), name
    assert all(example in shown for example in _examples(_commands()[name]))


@pytest.mark.slow
def test_every_example_runs_on_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("sample_data", "policies"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    ran = []
    for name, help_text in _commands().items():  # in --help's order: generate writes first
        for example in _examples(help_text):
            words = shlex.split(example)[1:]
            target = None
            if ">" in words:
                words, target = words[: words.index(">")], words[words.index(">") + 1]
            result = run(*words)
            # check exits 1 when the policy is stale: the job it is made for, not a failure.
            assert result.exit_code in ((0, 1) if name == "check" else (0,)), (
                example,
                result.output,
            )
            assert "Traceback" not in result.output
            if target is not None:
                Path(target).write_text(result.stdout, encoding="utf-8")
            ran.append(example)
    assert {example.split()[1] for example in ran} == set(_commands())
    assert re.search(r"^trustctl generate .* -o policy\.yaml$", ran[0])
