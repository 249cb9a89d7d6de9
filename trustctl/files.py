"""Atomic file writes: a target is replaced whole, or left exactly as it was."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from trustctl.errors import TrustctlError

__all__ = ["atomic_writer", "check_outputs", "read_input", "write_atomically", "write_together"]


def check_outputs(outputs: Sequence[Path | None], inputs: Sequence[Path | None]) -> None:
    """Refuse, before anything is read, outputs that would lose data or cannot be files.

    An output must be a regular file or a new file in an existing directory; a symlink is
    written through, so it is its target that must be one. Raise ``TrustctlError`` when an
    output is another name (a symlink, a hard link, ``./``) for one of ``inputs`` or of
    the other outputs, or is a directory, device, FIFO or socket. (``None``: not given.)
    """
    read: dict[object, Path] = {}
    for path in inputs:
        if path is not None:
            with contextlib.suppress(OSError):  # an input that is not there fails when read
                read[_identity(Path(os.path.realpath(path)))] = path
    written: dict[object, Path] = {}
    for path in outputs:
        if path is None:
            continue
        target, _ = _target(path)
        identity = _identity(target)
        if identity in read:
            raise TrustctlError(f"{path}: is the input {read[identity]}; refusing to write over it")
        if identity in written:
            raise TrustctlError(
                f"{path}: is also the output {written[identity]}; give each output its own file"
            )
        written[identity] = path


def _identity(target: Path) -> object:
    """What makes two paths one file: its device and inode, or (not yet there) its path."""
    try:
        info = target.stat()
    except FileNotFoundError:
        return target
    return (info.st_dev, info.st_ino)


def _target(path: Path) -> tuple[Path, int]:
    """Where writing ``path`` lands, and the mode the file is to have.

    Symlinks are followed (coreutils writes through them: the link stays, its target gets
    the bytes). The target must be a regular file, which keeps its permissions, or a new
    file in an existing directory, which gets the usual ``0666`` less the umask (a bare
    temporary file would be ``0600``, unreadable to the platform that reads the policy).
    Never a device: renaming over ``/dev/null`` would replace it with a file.
    """
    target = Path(os.path.realpath(path))
    try:
        info = target.stat()
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise TrustctlError(
                f"{path}: cannot write: no such directory {target.parent}"
            ) from None
        return target, 0o666 & ~_umask()
    except OSError as exc:
        raise TrustctlError(f"{path}: cannot write: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise TrustctlError(
            f"{path}: not a regular file (a directory, device, FIFO or socket); "
            "refusing to write over it"
        )
    return target, stat.S_IMODE(info.st_mode)


def _temporary(path: Path, target: Path) -> tuple[int, str]:
    """A new temporary file beside ``target``, on its file system (for the rename).

    Its name carries this process's id: one left by a run killed while writing
    (``kill -9`` can be neither caught nor cleaned up after) is removed by the next write
    of the same target, once no process has that id.
    """
    _sweep(target)
    try:
        return tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp"
        )
    except OSError as exc:
        raise TrustctlError(f"{path}: cannot write: {exc.strerror}") from None


def _sweep(target: Path) -> None:
    """Remove temporary files of ``target`` left by processes that no longer run."""
    ours = re.compile(rf"\.{re.escape(target.name)}\.([0-9]+)\.[a-z0-9_]{{8}}\.tmp", re.ASCII)
    with contextlib.suppress(OSError):
        for left in target.parent.iterdir():
            found = ours.fullmatch(left.name)
            if found and not _running(int(found.group(1))):
                left.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: running
        return True
    return True


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary stream whose bytes replace ``path`` only when the block ends cleanly.

    The bytes go to a temporary file in the same folder, are synced, and the file is
    renamed over ``path`` (over a symlink's target: see ``_target``). On any failure
    ``path`` is left as it was and the temporary file is removed. Raise
    ``TrustctlError`` when it cannot be written.
    """
    target, mode = _target(path)
    descriptor, temporary = _temporary(path, target)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise TrustctlError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
    _sync_directory(target.parent)


def write_together(writes: Sequence[tuple[Path, bytes]]) -> None:
    """Replace every path with its bytes, or, if any of them cannot be written, none.

    Every new content is first written and synced to a temporary file beside its target,
    in the order given; only then are the temporary files renamed over the targets, in the
    reverse order (so the first target given, the one a user named, is the one a failure to
    write is reported for, and the last is replaced first). If a rename fails, the targets
    already replaced get their old bytes back (a target that did not exist is removed
    again). Raise ``TrustctlError`` naming the file that failed.
    """
    staged: list[tuple[Path, Path, str]] = []
    try:
        for path, data in writes:
            staged.append((path, Path(os.path.realpath(path)), _stage(path, data)))
        staged.reverse()
        old = [_old_bytes(target) for _, target, _ in staged]
        done: list[tuple[Path, bytes | None]] = []
        for (path, target, temporary), before in zip(staged, old, strict=True):
            try:
                os.replace(temporary, target)
            except BaseException as exc:  # Ctrl-C too: never half the pair
                for replaced, content in reversed(done):
                    _restore(replaced, content)
                if isinstance(exc, OSError):
                    raise TrustctlError(f"{path}: cannot write: {exc.strerror or exc}") from None
                raise
            done.append((target, before))
    finally:
        for _, _, temporary in staged:
            Path(temporary).unlink(missing_ok=True)
    for _, target, _ in staged:
        _sync_directory(target.parent)


def _stage(path: Path, data: bytes) -> str:
    """A synced temporary file beside ``path``'s target holding ``data``, with its mode."""
    target, mode = _target(path)
    descriptor, temporary = _temporary(path, target)
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


def read_input(path: Path) -> bytes:
    """The bytes of an input file; ``OSError`` when it cannot be read or is not a regular
    file (reading a FIFO would wait for a writer, a device might never end)."""
    if not stat.S_ISREG(path.stat().st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or directory)")
    return path.read_bytes()


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
