"""How a command meets the terminal: its consoles, stdout, and errors mapped to exit codes.

Exit codes: 0 ok, 1 ``check`` found drift, 2 bad usage or bad input, 3 internal error,
130 Ctrl-C, 141 stdout closed early (``| head``), as a shell reports a process killed by
SIGPIPE.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_DRIFT",
    "EXIT_INTERNAL",
    "NARROW_WIDTH",
    "WIDE_WIDTH",
    "err",
    "fails_cleanly",
    "out",
    "say",
]

EXIT_DRIFT = 1
EXIT_INTERNAL = 3
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, what a shell reports for a reader that closed the pipe (``| head``)."""

F = TypeVar("F", bound=Callable[..., Any])


#: Width of output written to a pipe or file (a CI log) when COLUMNS does not say.
NARROW_WIDTH = 80
#: The least width of ``--wide`` tables (every column), wherever they go.
WIDE_WIDTH = 160


@functools.cache
def _stdout_console() -> type[Console]:
    """Rich's console, made to leave a closed stdout to ``fails_cleanly``.

    Rich's own handler exits with code 1, which ``check`` uses for "the policy is stale".
    Made on first use: importing rich is most of what ``--help`` would otherwise cost.
    """
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    return _Console


def out(wide: bool = False, pipe_width: int = NARROW_WIDTH) -> Console:
    """The console for stdout: as wide as COLUMNS says, else the terminal, else
    ``pipe_width``; ``wide`` (every column) at least ``WIDE_WIDTH``."""
    console = _stdout_console()(highlight=False, soft_wrap=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = pipe_width
    if wide:
        console.width = max(console.width, WIDE_WIDTH)
    return console


def err() -> Console:
    """The console for diagnostics on stderr."""
    from rich.console import Console

    # soft_wrap: a diagnostic stays on one line (grep-able FILE:LINE), whatever the width.
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def say(text: str) -> None:
    """One line of plain text on stdout, never wrapped."""
    out().print(text, markup=False, soft_wrap=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail on the closed pipe again.

    As https://docs.python.org/3/library/signal.html#note-on-sigpipe recommends.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (a test runner's buffer): nothing to flush
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


class _Stdout:
    """``sys.stdout`` whose failed writes (a full disk, ``/dev/full``) are trustctl's error."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            written: int = self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(exc) from None
        return written

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _unwritable(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _unwritable(exc: OSError) -> Exception:
    from trustctl.errors import TrustctlError

    _silence_stdout()  # what is still buffered must not fail again at exit
    return TrustctlError(f"<stdout>: cannot write: {exc.strerror or exc}")


def fails_cleanly(command: F) -> F:
    """Map trustctl's errors to ``error: …`` on stderr and exit 2; anything else to exit 3.

    A reader that closes stdout early (``| head``) ends the command quietly with exit 141;
    stdout that cannot be written (``/dev/full``) is an error, exit 2.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from trustctl.errors import TrustctlError

        stdout = sys.stdout
        try:
            sys.stdout = _Stdout(stdout)
            try:
                return command(*args, **kwargs)
            finally:
                try:
                    sys.stdout.flush()  # a closed pipe surfaces here, not at the interpreter's exit
                finally:
                    sys.stdout = stdout
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except (typer.Exit, typer.Abort):
            raise
        except TrustctlError as exc:
            for line in str(exc).splitlines():
                err().print(f"error: {line}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as exc:  # the last resort: never a bare traceback
            err().print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in trustctl; please report it with the command you ran.",
                markup=False,
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper  # type: ignore[return-value]
