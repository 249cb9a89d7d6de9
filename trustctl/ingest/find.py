"""Finding the decision-log files among the paths given: directories searched, each file once."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from trustctl.errors import InputError

__all__ = ["find_logs", "format_of", "is_directory", "once", "walk"]

_SUFFIXES = (".csv", ".jsonl", ".ndjson", ".parquet", ".csv.gz", ".jsonl.gz", ".ndjson.gz")


def format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix.removesuffix(".gz").lstrip(".").replace("ndjson", "jsonl")
    return None


def find_logs(arguments: Sequence[Path]) -> list[Path]:
    """Expand files and directories into the sorted list of decision-log files.

    A directory is searched recursively; a symlink to a file in it is read, a symlink to a
    directory is not followed (as ``find`` and ``grep -r`` do). A file reached by more than
    one path (named twice, a hard link, a symlink) is read once, under the first of its
    paths in sorted order. A directory that cannot be listed, and a file with a log's name
    that is not a regular file (a FIFO, a device, a dangling link), are errors: a log is
    never skipped in silence.
    """
    found: list[Path] = []
    for argument in arguments:
        if is_directory(argument):
            inside = walk(argument)
            if not inside:
                raise InputError(
                    [f"{argument}: no decision logs (*.csv, *.jsonl, *.parquet) in it"]
                )
            found.extend(inside)
        elif format_of(argument) is None:
            raise InputError(
                [f"{argument}: unknown log format; use .csv, .jsonl, .ndjson, .parquet or .gz"]
            )
        else:
            found.append(argument)
    if not found:
        raise InputError(["no decision logs given"])
    return once(sorted(found, key=str))


def is_directory(path: Path) -> bool:
    """Whether ``path`` is a directory; ``False`` for a regular file; refused otherwise."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError([f"{path}: no such file or directory"]) from None
    except OSError as exc:
        raise InputError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    if stat.S_ISDIR(mode):
        return True
    if not stat.S_ISREG(mode):
        raise InputError([f"{path}: not a regular file (a FIFO, device or socket is not read)"])
    return False


def walk(top: Path) -> list[Path]:
    """Every log file under ``top``, refusing a subdirectory that cannot be listed."""
    found: list[Path] = []
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = list(listing)
        except OSError as exc:
            raise InputError([f"{directory}: cannot list the directory: {exc.strerror}"]) from None
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                pending.append(path)
            elif format_of(path) is not None and not is_directory(path):
                found.append(path)
    return found


def once(paths: list[Path]) -> list[Path]:
    """The paths less those that name a file met before (same device and inode)."""
    seen: set[tuple[int, int]] = set()
    unique: list[Path] = []
    for path in paths:
        info = path.stat()
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            unique.append(path)
    return unique
