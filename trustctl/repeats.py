"""Spot a log read twice: most decision ids of one file also in an earlier file."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["MIN_SHARED", "repeated_logs"]

MIN_SHARED = 10
"""Fewer shared ids than this are told by their conflicts alone (an event log split in files)."""


def repeated_logs(paths: Sequence[str], files: np.ndarray, decisions: np.ndarray) -> list[str]:
    """One line per file more than half (and ``MIN_SHARED``) of whose ids are in an earlier file.

    ``files`` and ``decisions`` give, for every row, its file (an index into ``paths``)
    and its decision; a decision's first file is the earliest one it appears in.
    """
    import pandas as pd  # only on the error path (a conflict across files)

    pairs = pd.DataFrame({"file": files, "decision": decisions}).drop_duplicates()
    if pairs["decision"].is_unique:
        return []
    ids = pairs.groupby("file")["decision"].size()
    first = pairs.groupby("decision")["file"].transform("min")
    shared = pairs[(pairs["file"] != first).to_numpy()].assign(earlier=first)
    counts = shared.groupby(["file", "earlier"]).size()
    lines = []
    for (later, earlier), count in counts.items():
        total = int(ids[later])
        if count >= MIN_SHARED and 2 * int(count) > total:
            lines.append(
                f"{count} of {total} decision ids in {paths[int(later)]} also appear in "
                f"{paths[int(earlier)]} — the same log twice?"
            )
    return lines
