"""Problems found in the rows: each message with the rows it applies to, in row order."""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_REPORTED", "Problems"]

#: Problems listed one by one; the rest are counted.
MAX_REPORTED = 20


class Problems:
    """Errors found so far: each message with the (global) rows it applies to."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.messages: list[str] = []

    def add(self, rows: np.ndarray, message: str) -> None:
        if len(rows):
            self.rows.append(np.asarray(rows, dtype=np.int64))
            self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.rows)

    def first(self, limit: int) -> tuple[list[tuple[int, str]], int]:
        """The first ``limit`` (row, message) pairs in row order, and how many there are."""
        rows = np.concatenate(self.rows)
        which = np.repeat(np.arange(len(self.rows)), [len(r) for r in self.rows])
        order = np.lexsort((which, rows))[:limit]
        return [(int(rows[k]), self.messages[int(which[k])]) for k in order], len(rows)

    def by_row(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for rows, message in zip(self.rows, self.messages, strict=True):
            for row in rows.tolist():
                found.setdefault(row, []).append(message)
        return found
