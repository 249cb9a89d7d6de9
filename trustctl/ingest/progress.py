"""How much of the logs has been read: a hook the command layer may watch to draw progress."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["read", "watching"]

_watchers: list[Callable[[int], None]] = []


@contextlib.contextmanager
def watching(callback: Callable[[int], None]) -> Iterator[None]:
    """Call ``callback(size)`` for every ``size`` bytes of log read while inside (from
    whichever thread reads them); the core itself draws nothing."""
    _watchers.append(callback)
    try:
        yield
    finally:
        _watchers.remove(callback)


def read(size: int) -> None:
    """``size`` more bytes of a log file were read."""
    for callback in _watchers:
        callback(size)
