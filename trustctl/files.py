"""Atomic file writes: a target is replaced whole, or left exactly as it was."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from trustctl.errors import TrustctlError


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``path`` only when the block ends cleanly.

    The bytes go to a temporary file in the same folder, are synced, and the file is
    renamed over ``path``. On any failure ``path`` is left as it was and the temporary
    file is removed. An existing file keeps its permissions; a new one gets the usual
    ``0666`` less the umask (a bare temporary file would be ``0600``, unreadable to the
    platform that reads the policy). Raise ``TrustctlError`` when it cannot be written.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise TrustctlError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise TrustctlError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise TrustctlError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
    _sync_directory(path.parent)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, newlines as given), atomically."""
    with atomic_writer(path) as handle:
        handle.write(text.encode("utf-8"))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
