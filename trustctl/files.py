"""Atomic file writes: a target is replaced whole, or left exactly as it was."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator, Sequence
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


def write_together(writes: Sequence[tuple[Path, bytes]]) -> None:
    """Replace every path with its bytes, or, if any of them cannot be written, none.

    Every new content is first written and synced to a temporary file beside its target;
    only then are the temporary files renamed over the targets, in the order given. If a
    rename fails, the targets already replaced get their old bytes back (a target that did
    not exist is removed again). Raise ``TrustctlError`` naming the file that failed.
    """
    staged: list[tuple[Path, str]] = []
    try:
        for path, data in writes:
            staged.append((path, _stage(path, data)))
        old = [(path, _old_bytes(path)) for path, _ in staged]
        done: list[tuple[Path, bytes | None]] = []
        for (path, temporary), before in zip(staged, old, strict=True):
            try:
                os.replace(temporary, path)
            except BaseException as exc:  # Ctrl-C too: never half the pair
                for replaced, content in reversed(done):
                    _restore(replaced, content)
                if isinstance(exc, OSError):
                    raise TrustctlError(f"{path}: cannot write: {exc.strerror or exc}") from None
                raise
            done.append(before)
    finally:
        for _, temporary in staged:
            Path(temporary).unlink(missing_ok=True)
    for path, _ in staged:
        _sync_directory(path.parent)


def _stage(path: Path, data: bytes) -> str:
    """A synced temporary file beside ``path`` holding ``data``, with ``path``'s mode."""
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
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise TrustctlError(f"{path}: cannot write: {exc.strerror or exc}") from None
    return temporary


def _old_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TrustctlError(f"{path}: cannot read before replacing it: {exc.strerror}") from None


def _restore(path: Path, content: bytes | None) -> None:
    """Put back what ``path`` held before (best effort: the first error is the one reported)."""
    with contextlib.suppress(OSError, TrustctlError):
        if content is None:
            path.unlink(missing_ok=True)
        else:
            os.replace(_stage(path, content), path)


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
