"""Confidence bands: cut points on ``ai_confidence``, each decision's band and the bands' names.

With ``confidence_bands: [0.9]`` in the rules, each group is split by the AI's own
confidence into ``<0.9`` (below the cut), ``>=0.9`` (at or above it: 0.9 itself is in it)
and ``none`` (no ``ai_confidence``), which earn levels apart. Cuts ``[0.5, 0.9]`` give
``<0.5``, ``>=0.5,<0.9``, ``>=0.9`` and ``none``. A band's name is the interval it is, so
names made with other cuts are never mistaken for these.

A band is a code (``Bands.codes``) in the order of the names as text, which is also the
order of the intervals, ``none`` last: segments sort by either and agree. Without cuts
every decision is in the one band ``""``, and nothing is split.

>>> Bands((0.9,)).labels
('<0.9', '>=0.9', 'none')
>>> Bands((0.9,)).codes(np.array([0.1, 0.9, 1.0, np.nan])).tolist()
[0, 1, 1, 2]
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from trustctl.segment_counts import Key

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NONE", "NO_BANDS", "Bands", "cut_text"]

NONE = "none"
"""The band of decisions without ``ai_confidence``."""


def cut_text(cut: float) -> str:
    """A cut as the shortest decimal that reads back as it (``0.9``, never ``9e-01``)."""
    return np.format_float_positional(cut, trim="-")


@dataclass(frozen=True)
class Bands:
    """The cut points of ``confidence_bands``, strictly increasing in (0, 1)."""

    cuts: tuple[float, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cuts)

    @property
    def texts(self) -> tuple[str, ...]:
        """The cuts as ``cut_text`` writes them."""
        return tuple(cut_text(c) for c in self.cuts)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every band's name by code: ``("",)`` without cuts."""
        if not self.cuts:
            return ("",)
        texts = self.texts
        inner = [f">={low},<{high}" for low, high in itertools.pairwise(texts)]
        return (f"<{texts[0]}", *inner, f">={texts[-1]}", NONE)

    def codes(self, confidence: np.ndarray) -> np.ndarray:
        """Each decision's band (``confidence``: floats, NaN for none): how many cuts it is
        at or above, or the last code for none. Exactly ``>=``, no rounding."""
        if not self.cuts:
            return np.zeros(len(confidence), dtype=np.int8)
        found = np.searchsorted(np.asarray(self.cuts), confidence, side="right")
        codes: np.ndarray = np.where(np.isnan(confidence), len(self.cuts) + 1, found)
        return codes.astype(np.int8)

    def key(self, confidence: np.ndarray) -> Key:
        """The band as a segment key column."""
        return Key(self.codes(confidence), np.array(self.labels, dtype=object))

    def names(self, confidence: np.ndarray) -> np.ndarray:
        """Each decision's band name."""
        found: np.ndarray = np.array(self.labels, dtype=object)[self.codes(confidence)]
        return found

    def split(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Merged decisions (``Decisions.frame``) with their band in a ``confidence`` column,
        as groups are keyed; without cuts, the frame as it is."""
        if not self.cuts:
            return frame
        import pandas as pd  # the frame's own: loaded already

        names = pd.Categorical.from_codes(
            self.codes(frame["ai_confidence"].to_numpy(dtype=np.float64)),
            dtype=pd.CategoricalDtype(pd.Index(self.labels)),
        )
        split: pd.DataFrame = frame.assign(confidence=names)
        return split

    def foreign(self, names: Sequence[str]) -> list[str]:
        """The names among ``names`` that are not these bands' (made with other cuts)."""
        known = set(self.labels)
        return sorted({name for name in names if name not in known})


NO_BANDS = Bands()
"""No ``confidence_bands``: groups are not split."""
