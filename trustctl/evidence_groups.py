"""Numbering the groups of evidence segments, and the per-group figures read off them (tiers,
services, the latest critical failure) by numpy reductions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trustctl.distinct import sorted_codes
from trustctl.evidence_model import GroupKey, normalise_key
from trustctl.rules import TrustRules
from trustctl.segments import Segments

__all__ = ["Groups", "latest_critical", "number_groups", "risk_tiers_of"]


def risk_tiers_of(frame: Segments, rules: TrustRules) -> np.ndarray:
    """Each segment's risk tier: the column, else the rules' patterns, else 0 (unknown)."""
    classes, uniques = sorted_codes(frame["action_class"])
    by_pattern = np.array([rules.risk_tier_of(str(c)) or 0 for c in uniques], dtype=np.int64)
    from_rules = by_pattern[classes] if len(classes) else np.zeros(0, dtype=np.int64)
    given = frame["risk_tier"].astype(np.int64)
    return np.where(given > 0, given, from_rules)


@dataclass(frozen=True)
class Groups:
    """Every segment's group number."""

    keys: list[GroupKey]
    """Group number → key, in key order."""
    of_row: np.ndarray
    """Segment → group number."""

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per group: the sum of ``values`` (flags or counts) over its segments."""
        counts = np.bincount(self.of_row, weights=values, minlength=len(self.keys))
        return counts.astype(np.int64)

    def tier_sets(self, tiers: np.ndarray, where: np.ndarray) -> list[frozenset[int]]:
        """Per group: the set of tiers its segments ``where`` carry."""
        pairs = np.unique(self.of_row[where] * 8 + tiers[where])
        found: list[set[int]] = [set() for _ in self.keys]
        for pair in pairs.tolist():
            found[pair // 8].add(pair % 8)
        return [frozenset(f) for f in found]

    def tier_services(
        self, tiers: np.ndarray, services: np.ndarray, where: np.ndarray
    ) -> list[tuple[tuple[int, tuple[str, ...]], ...]]:
        """Per group: each system tier its segments ``where`` carry, with the services named
        there, both sorted."""
        codes, names = sorted_codes(services[where])
        width = max(len(names), 1)
        triples = np.unique((self.of_row[where] * 8 + tiers[where]) * width + codes)
        found: list[dict[int, list[str]]] = [{} for _ in self.keys]
        for triple in triples.tolist():
            pair, code = divmod(triple, width)
            name = str(names[code]) if len(names) else ""
            tier_names = found[pair // 8].setdefault(pair % 8, [])
            if name:
                tier_names.append(name)
        return [tuple((t, tuple(n)) for t, n in sorted(f.items())) for f in found]


def number_groups(frame: Segments, keys: Sequence[str]) -> Groups:
    """Number the groups in key order (each key column sorted, tiers as numbers)."""
    of_row = np.zeros(len(frame), dtype=np.int64)
    representative = np.zeros(0, dtype=np.int64)  # per group: one of its rows
    for name in keys:
        codes, uniques = sorted_codes(frame[name])
        # Fold this column in and renumber densely, so the numbers never overflow.
        combined = of_row * max(len(uniques), 1) + codes
        _, representative, of_row = np.unique(combined, return_index=True, return_inverse=True)
        of_row = of_row.reshape(-1).astype(np.int64)
    group_keys = [
        normalise_key(tuple(frame[name][int(row)] for name in keys)) for row in representative
    ]
    return Groups(group_keys, of_row)


def latest_critical(groups: Groups, seg: Segments, critical: np.ndarray) -> np.ndarray:
    """Per group: the segment of its latest critical failure in the window (or -1).

    Latest by when its outcome was recorded, then by its own time and id (the order
    decisions are read in).
    """
    rows = np.flatnonzero(critical)
    found = np.full(len(groups.keys), -1, dtype=np.int64)
    if not len(rows):
        return found
    ids = sorted_codes(seg["critical_id"][rows])[0]
    order = rows[
        np.lexsort(
            (
                ids,
                seg["critical_decided_at"][rows],
                seg["critical_at"][rows],
                groups.of_row[rows],
            )
        )
    ]
    of = groups.of_row[order]
    last = np.flatnonzero(np.diff(of, append=-1) != 0)  # each group's last (latest) row
    found[of[last]] = order[last]
    return found
