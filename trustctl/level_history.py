"""Per group, the level and agent-version history the log's sequence of decisions tells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trustctl.distinct import sorted_codes
from trustctl.segments import NO_TIME, Segments

__all__ = ["History", "read"]


@dataclass(frozen=True)
class History:
    """Per group, what the log's sequence of decisions says (times in microseconds)."""

    promoted: np.ndarray
    """The latest upward change of ``mode`` (the first decision at the new level)."""
    demoted: np.ndarray
    """The latest downward change (the last decision at the old level)."""
    current: np.ndarray
    """The ``mode`` of the latest decision."""
    first_seen: np.ndarray
    """The earliest decision."""
    versions: list[str | None]
    """The latest named agent version."""
    version_since: np.ndarray
    """Where the latest run of that version starts (its first decision)."""
    previous_versions: list[str | None]
    """The named agent version of the run before the latest one (``None``: no other)."""


def read(of_row: np.ndarray, n: int, seg: Segments, has: np.ndarray) -> History:
    """Level and version history from each segment's first and last decision; ``of_row`` is
    each segment's group number (of ``n``).

    A segment holds one group's decisions of one day at one level and agent version:
    its first and last decision, in (time, id) order, stand for it. So the log's
    decisions are read as that sequence of points: the same whether the segments come
    from one file, from chunks or from evidence files computed apart. (Levels or
    versions that alternate within a day read as the change of the day's last run.)
    """
    rows = np.flatnonzero(has)
    group = np.tile(of_row[rows], 2)
    at = np.concatenate([seg["first_at"][rows], seg["last_at"][rows]])
    ids = np.concatenate([seg["first_id"][rows], seg["last_id"][rows]])
    mode = np.tile(seg["mode"].astype(np.int64)[rows], 2)
    version = np.tile(seg["agent_version"][rows], 2)
    order = np.lexsort((sorted_codes(ids)[0], at, group))
    group, at, mode, version = group[order], at[order], mode[order], version[order]
    same_group = np.zeros(len(order), dtype=bool)
    same_group[1:] = group[1:] == group[:-1]
    step = np.zeros(len(order), dtype=np.int64)
    step[1:] = mode[1:] - mode[:-1]
    up = same_group & (step > 0)
    down = np.zeros(len(order), dtype=bool)
    down[np.flatnonzero(same_group & (step < 0)) - 1] = True  # dated by the point before
    promoted = _per_group_max(n, group, at, up)
    demoted = _per_group_max(n, group, at, down)
    last = np.flatnonzero(np.diff(group, append=-1) != 0)
    first = np.flatnonzero(~same_group)
    current = np.zeros(n, dtype=np.int64)
    current[group[last]] = mode[last]
    first_seen = np.full(n, NO_TIME, dtype=np.int64)
    first_seen[group[first]] = at[first]
    # Agent versions: runs of one named version; points that name none are skipped.
    named = version != ""
    g_named, at_named, v_named = group[named], at[named], version[named]
    codes = sorted_codes(v_named)[0]
    run_starts = np.ones(len(g_named), dtype=bool)
    run_starts[1:] = (g_named[1:] != g_named[:-1]) | (codes[1:] != codes[:-1])
    version_since = _per_group_max(n, g_named, at_named, run_starts)
    versions: list[str | None] = [None] * n
    for index in np.flatnonzero(np.diff(g_named, append=-1) != 0).tolist():
        versions[int(g_named[index])] = str(v_named[index])
    return History(
        promoted,
        demoted,
        current,
        first_seen,
        versions,
        version_since,
        _previous_versions(n, g_named, v_named, run_starts),
    )


def _previous_versions(
    n: int, group: np.ndarray, version: np.ndarray, run_starts: np.ndarray
) -> list[str | None]:
    """Per group: the version of the point just before its latest run starts, if its own."""
    starts = np.flatnonzero(run_starts)
    latest = np.full(n, -1, dtype=np.int64)
    np.maximum.at(latest, group[starts], starts)
    found: list[str | None] = [None] * n
    for g, index in enumerate(latest.tolist()):
        if index > 0 and group[index - 1] == g:
            found[g] = str(version[index - 1])
    return found


def _per_group_max(n: int, group: np.ndarray, values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Per group (of ``n``): the largest of ``values`` where ``where``, else ``NO_TIME``."""
    found = np.full(n, NO_TIME, dtype=np.int64)
    np.maximum.at(found, group[where], values[where])
    return found
