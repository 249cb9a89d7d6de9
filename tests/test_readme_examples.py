"""Every console block of the README runs as written and exits as the README says.

Blocks run in README order in one directory holding copies of ``sample_data/``,
``policies/`` and ``schemas/``, with ``logs/`` a copy of the sample: a reader following the
README top to bottom. A block whose first line is ``# for your own …`` (your logs, your
machine, your shell) says it cannot run here and is skipped; one whose first line is
``# instead of …`` runs on the files as they were before the block above it. A command
exits 2 when the README shows ``error:`` after it, 1 when it ends with ``# exits 1``, else
0; every output line the README shows, but ``...`` and table rules, is in what the command
printed (spaces between words do not count: tables take the terminal's width).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from clirun import run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SKIP = re.compile(r"^# for your own \w+")
INSTEAD = re.compile(r"^# instead of ")


@dataclass
class Command:
    """One ``$`` line of a block, the output shown under it, and where it is."""

    line: int
    text: str
    shown: list[str] = field(default_factory=list)

    @property
    def expected_exit(self) -> int:
        if any(line.startswith("error:") for line in self.shown):
            return 2
        return 1 if re.search(r"#\s*exits 1\b", self.text) else 0


def blocks() -> list[tuple[int, list[str]]]:
    """Every console block: the line it starts on and its lines."""
    found = []
    for match in re.finditer(r"^```console\n(.*?)^```", README, re.MULTILINE | re.DOTALL):
        found.append((README[: match.start()].count("\n") + 2, match.group(1).splitlines()))
    return found


def commands(start: int, lines: list[str]) -> list[Command]:
    """The ``$`` commands of a block (``\\`` joins lines) with the output under each."""
    result: list[Command] = []
    pending = ""
    for offset, line in enumerate(lines):
        stripped = line.strip()
        if pending:
            pending += " " + stripped.removesuffix("\\")
            if not stripped.endswith("\\"):
                result.append(Command(start + offset, pending))
                pending = ""
        elif stripped.startswith("$ "):
            text = stripped[2:]
            if text.endswith("\\"):
                pending = text.removesuffix("\\")
            else:
                result.append(Command(start + offset, text))
        elif result and stripped and stripped != "...":
            result[-1].shown.append(stripped)
    return result


def runnable() -> list[tuple[bool, list[Command]]]:
    """Per block to run: whether it runs instead of the block before, and its commands."""
    return [
        (bool(lines) and bool(INSTEAD.match(lines[0])), commands(start, lines))
        for start, lines in blocks()
        if not (lines and SKIP.match(lines[0]))
    ]


def _words(text: str) -> str:
    return " ".join(text.split())


def _files(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _restore(folder: Path, files: dict[Path, bytes]) -> None:
    for path in folder.iterdir():
        if path.is_file() and path not in files:
            path.unlink()
    for path, data in files.items():
        path.write_bytes(data)


def _execute(command: Command, folder: Path) -> tuple[int, str]:
    words = shlex.split(command.text, comments=True)
    if words[0] != "trustctl":
        done = subprocess.run(
            command.text, shell=True, cwd=folder, capture_output=True, text=True, check=False
        )
        return done.returncode, done.stdout + done.stderr
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    result = run(*words[1:])
    if target is not None:
        (folder / target).write_text(result.stdout, encoding="utf-8")
    return result.exit_code, result.stdout + result.stderr


@pytest.mark.slow
def test_every_console_block_runs_as_the_readme_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("sample_data", "policies", "schemas"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "sample_data", tmp_path / "logs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")  # no table wraps
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    todo = runnable()
    assert sum(len(found) for _, found in todo) > 30, "the README's examples are found"
    failures = []
    before = after = _files(tmp_path)
    for instead, found in todo:
        if instead:
            _restore(tmp_path, before)
        else:
            before = after
        for command in found:
            code, printed = _execute(command, tmp_path)
            lines = {_words(line) for line in printed.splitlines()}
            missing = [
                line
                for line in command.shown
                if _words(line) not in lines and set(line) - set("─- ")
            ]
            if code != command.expected_exit or missing:
                failures.append(
                    f"README.md:{command.line}: $ {command.text}\n  exit {code}, expected "
                    f"{command.expected_exit}; not printed: {missing[:3]}\n"
                    f"  printed: {printed[:300]}"
                )
        after = _files(tmp_path)
    assert not failures, "\n".join(failures)
