"""kill -9 at random moments of `generate -o`: the policy is the old or the new one, whole."""

from __future__ import annotations

import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trustctl.cli import app
from trustctl.sample import generate_sample

BUDGET_SECONDS = 3.0
"""How long the kills go on, whatever the machine's speed (at least ``KILLS`` of them)."""
KILLS = 6
ARGS = ["generate", "log.csv", "-o", "policy.yaml"]


def _generate(*extra: str) -> bytes:
    result = CliRunner().invoke(app, [*ARGS, *extra])
    assert result.exit_code == 0, result.output
    return Path("policy.yaml").read_bytes()


def _start() -> int:
    """``trustctl generate -o`` in a forked child: no second start-up of the interpreter
    and its libraries, so the kills land in the reading, deciding and writing."""
    child = os.fork()
    if child == 0:  # pragma: no cover (the child never returns to pytest)
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 1)
        os.dup2(quiet, 2)
        code = 1
        try:
            app(ARGS)
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else 1
        finally:
            os._exit(code)
    return child


@pytest.mark.skipif(sys.platform == "win32", reason="fork and SIGKILL are POSIX")
def test_kill_9_leaves_the_old_or_the_new_policy_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    generate_sample(12_000, seed=3).to_csv("log.csv", index=False)
    old = _generate("--as-of", "2026-08-01T00:00:00Z")
    began = time.monotonic()
    new = _generate()
    run_time = time.monotonic() - began
    assert old != new
    Path("policy.yaml").write_bytes(old)
    chance = random.Random(9)
    outcomes: list[str] = []
    started = time.monotonic()
    while len(outcomes) < KILLS or time.monotonic() - started < BUDGET_SECONDS:
        child = _start()
        time.sleep(chance.uniform(0, 1.6 * run_time))  # some runs end before the kill
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        written = Path("policy.yaml").read_bytes()
        assert written in (old, new), f"kill {len(outcomes) + 1}: a policy neither old nor new"
        outcomes.append("old" if written == old else "new")
        Path("policy.yaml").write_bytes(old)  # each kill starts from the old policy
    assert "old" in outcomes, outcomes
    # A kill in the millisecond of the write may leave a temporary file named for its
    # process; the next write of the policy removes it, that process being gone.
    assert _generate() == new
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "log.csv",
        "policy.ledger.jsonl",
        "policy.yaml",
    ]
