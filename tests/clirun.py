"""The one way tests run the command line: Typer's CliRunner, with the checks every test wants."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from trustctl.cli import app

runner = CliRunner()


def run(*args: str | Path, stdin: bytes | None = None) -> Result:
    """Run ``trustctl`` with these arguments (paths as text), ``stdin`` on standard input."""
    return runner.invoke(app, [str(a) for a in args], input=stdin)


def ok(*args: str | Path, stdin: bytes | None = None) -> Result:
    """Run ``trustctl`` and check that it exited 0 (the output is shown if not)."""
    result = run(*args, stdin=stdin)
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def assert_clean_failure(result: Result, code: int = 2) -> None:
    """Exit ``code``, every diagnostic line on stderr, no traceback anywhere."""
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def failure(result: Result, code: int = 2) -> str:
    """What a clean failure (see ``assert_clean_failure``) said on stderr."""
    assert_clean_failure(result, code)
    return result.stderr


def policy_yaml(*args: str | Path) -> str:
    """The policy ``generate`` prints as YAML for these arguments."""
    return ok("generate", *args, "--format", "yaml").stdout
