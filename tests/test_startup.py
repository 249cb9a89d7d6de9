"""Start-up cost, guarded by what each command imports rather than by a clock.

Importing pandas, pyarrow, numpy or scipy costs more CPU than ``--help`` may take in all, and
``scipy.optimize`` alone more than ``generate`` does with a small log. A timed test would be
flaky on a shared machine; the modules a fresh interpreter loads are not.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_CSV

_LOADED = """
import json, runpy, sys
sys.argv = ["trustctl", *sys.argv[1:]]
try:
    runpy.run_module("trustctl", run_name="__main__")
except SystemExit as stop:
    code = stop.code
else:
    code = 0
sys.stderr.write("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def _loaded(*args: str | Path, code: int = 0) -> set[str]:
    """The modules ``trustctl ARGS`` has loaded when it ends (exit ``code`` expected)."""
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(done.stderr.splitlines()[-1])
    assert report["code"] in ((0, None) if code == 0 else (code,)), done.stderr
    return set(report["modules"])


def _packages(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


_HEAVY = {"pandas", "pyarrow", "numpy", "scipy", "yaml", "matplotlib", "rich"}


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_help_and_version_load_no_data_libraries(args: tuple[str, ...]) -> None:
    assert _packages(_loaded(*args)) & (_HEAVY | {"pydantic"}) == set()


@pytest.mark.parametrize("command", ["generate", "whatif", "review"])
def test_a_commands_help_loads_no_data_libraries(command: str) -> None:
    # (Typer itself loads pydantic to convert a command's options.)
    assert _packages(_loaded(command, "--help")) & _HEAVY == set()


def test_generate_loads_neither_scipy_optimize_nor_stats(tmp_path: Path) -> None:
    loaded = _loaded("generate", SAMPLE_CSV, "-o", tmp_path / "policy.yaml")
    assert "trustctl.evaluate" in loaded  # it did the work
    assert {"scipy.optimize", "scipy.stats", "matplotlib"} & loaded == set()
    # The progress bar's code is loaded only to show one (logs over 100 MB, on a terminal).
    assert "rich.progress" not in loaded


def test_generate_loads_no_pandas(tmp_path: Path) -> None:
    # pandas costs about 0.4 s of CPU to import, more than the rest of a small generate.
    # pyarrow imports it too at its first conversion from or to numpy (trustctl.arrays).
    loaded = _loaded("generate", SAMPLE_CSV, "-o", tmp_path / "policy.yaml")
    assert "trustctl.evaluate" in loaded  # it did the work
    assert "pandas" not in _packages(loaded)


def test_aggregate_and_generate_from_evidence_load_no_pandas(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence.parquet"
    assert "pandas" not in _packages(_loaded("aggregate", SAMPLE_CSV, "-o", evidence))
    loaded = _loaded("generate", "--evidence", evidence, "-o", tmp_path / "policy.yaml")
    assert "trustctl.evaluate" in loaded
    assert "pandas" not in _packages(loaded)


def test_commands_annotations_are_objects_not_text() -> None:
    # Typer evaluates annotations given as text (``from __future__ import annotations``)
    # again for every command on every run: a fifth of what --help costs.
    from trustctl.cli import COMMANDS, command_function

    for name in COMMANDS:
        callback = command_function(name)
        texts = [
            name
            for name, hint in inspect.get_annotations(callback).items()
            if isinstance(hint, str)
        ]
        assert texts == [], callback.__name__


def _command_modules(modules: set[str]) -> set[str]:
    return {name for name in modules if name.startswith("trustctl.cli_")} - {"trustctl.cli_options"}


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("generat",)])
def test_the_listing_imports_no_command(args: tuple[str, ...]) -> None:
    # Each command's options become click objects only when it runs (trustctl.cli.COMMANDS).
    assert _command_modules(_loaded(*args, code=2 if args == ("generat",) else 0)) == set()


@pytest.mark.parametrize(
    ("command", "module"),
    [("generate", "cli_policy"), ("whatif", "cli_whatif"), ("sql", "cli_evidence")],
)
def test_a_command_imports_its_own_module_only(command: str, module: str) -> None:
    assert _command_modules(_loaded(command, "--help")) == {f"trustctl.{module}"}
