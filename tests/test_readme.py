"""The README stays true: every command documented, the Quickstart is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from trustctl.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_group(app)
    return sorted(group.commands)


def test_every_command_has_a_section_and_an_example() -> None:
    commands = _commands()
    assert {"generate", "check", "diff", "explain", "validate", "sample"} <= set(commands)
    for name in commands:
        assert f"### `trustctl {name}`" in README, name
        assert re.search(rf"^\$ trustctl {name} ", README, re.MULTILINE), name


def test_quickstart_is_the_two_make_targets_and_ci_runs_the_test_one() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", quickstart, re.MULTILINE)
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)


def test_exit_codes_are_documented() -> None:
    section = README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("0", "1", "2", "3"):
        assert f"| {code} |" in section


def test_how_it_is_built_names_every_module_once() -> None:
    section = README.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`((?!tests/)[\w/]+\.py)`", section)
    modules = sorted(
        p.relative_to(ROOT / "trustctl").as_posix()
        for p in (ROOT / "trustctl").rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    )
    assert sorted(named) == modules


def test_every_module_says_its_job_and_lists_its_public_names() -> None:
    import ast

    for path in sorted((ROOT / "trustctl").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstring = ast.get_docstring(tree)
        assert docstring and docstring.splitlines()[0].strip(), f"{path.name}: no one-line job"
        if path.name.startswith("_"):
            continue  # private (``_terminal.py``), or the package's own files
        assigned = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert "__all__" in assigned, f"{path.name}: internal modules are _private or list __all__"
