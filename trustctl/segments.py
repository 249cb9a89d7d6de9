"""Evidence segments: the counts that add, per group key, level, agent version and UTC day.

Every figure the policy is built on is a sum, minimum or maximum over decisions,
so it can be kept per (action_class, service, system_tier, risk_tier,
agent_version, confidence band, mode, UTC day) and merged across partitions, chunks and files
exactly. ``trustctl aggregate`` writes these rows; ``generate --evidence`` merges
them; the raw-log path goes through them too, so both give the same policy.

Columns (``COLUMNS``): the key (``confidence``: the band's name, ``trustctl.bands``;
``""`` when groups are not split, and then left out of files); ``decisions`` and the ten
counts of decisions whose timestamp falls on ``day`` (``SAMPLING``: three of ``review_sampled``);
``first_at``/``first_id`` (the earliest of them by time, then id) and
``last_at``/``last_id`` (the latest); ``last_recorded_at`` (when the last thing
about them was recorded); and the critical failures whose
*outcome was recorded* on ``day`` (``critical_failures``, the latest one's
``critical_at``, ``critical_decided_at`` and ``critical_id``).

In memory (``Segments``: one numpy array per column) times are int64 microseconds since
the epoch (``NO_TIME`` when there is none), ``day`` as int64 days since the epoch and
``mode`` as its ladder rank. On disk (``to_arrow``) they are ``timestamp[us, UTC]``, ``date32``
and the level's name. Rows are in key order: text by code point, numbers ascending,
``mode`` in ladder order (observe, suggest, auto_notify, full).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from trustctl.arrays import from_numpy, scalar, strings, text_values, to_numpy
from trustctl.bands import NO_BANDS, Bands
from trustctl.distinct import filled, sorted_codes
from trustctl.levels import LADDER, LEVEL_SPELLINGS
from trustctl.segment_counts import NEVER, NO_TIME, Key, Merged, count, key_codes

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BANDED_SCHEMA",
    "COLUMNS",
    "COUNTS",
    "KEY",
    "NO_TIME",
    "SAMPLING",
    "SCHEMA",
    "Segments",
    "empty",
    "from_arrow",
    "from_decisions",
    "from_merged",
    "merge",
    "to_arrow",
]

KEY: tuple[str, ...] = (
    "action_class",
    "service",
    "system_tier",
    "risk_tier",
    "agent_version",
    "confidence",
    "mode",
    "day",
)
COUNTS: tuple[str, ...] = (
    "decisions",
    "reviewed",
    "agreed",
    "timeouts",
    "executed",
    "verified",
    "succeeded",
    "unverified",
    "unsampled",
    "unsampled_agreed",
    "sampling_unknown",
)
SAMPLING: tuple[str, ...] = ("unsampled", "unsampled_agreed", "sampling_unknown")
"""The counts of ``review_sampled``: judged decisions it says were not of the audit sample
(and of those, the approved), and judged decisions it says nothing about. Evidence files
written before it existed lack them: every review there is of unknown sampling."""
COLUMNS: tuple[str, ...] = (
    *KEY,
    *COUNTS,
    "first_at",
    "first_id",
    "last_at",
    "last_id",
    "last_recorded_at",
    "critical_failures",
    "critical_at",
    "critical_decided_at",
    "critical_id",
)
_TIMES = ("first_at", "last_at", "last_recorded_at", "critical_at", "critical_decided_at")
_TEXT = (
    "action_class",
    "service",
    "agent_version",
    "confidence",
    "first_id",
    "last_id",
    "critical_id",
)


@dataclass(frozen=True)
class Segments:
    """Evidence segments: one numpy array per column of ``COLUMNS``, all of one length, in
    key order. Text is an object array of ``str`` (a missing id is ``None``); ``system_tier``,
    ``risk_tier`` and ``mode`` are int8; the rest int64."""

    columns: Mapping[str, np.ndarray]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["day"])

    def take(self, rows: np.ndarray) -> Segments:
        """The segments ``rows`` (indices or flags), in that order."""
        return Segments({name: values[rows] for name, values in self.columns.items()})

    def to_frame(self) -> pd.DataFrame:
        """The segments as a pandas DataFrame (columns in ``COLUMNS`` order)."""
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame(dict(self.columns), copy=False)
        return frame


def _micros(column: pd.Series) -> np.ndarray:
    """A datetime column as int64 microseconds since the epoch."""
    import pandas as pd

    micros: np.ndarray = pd.DatetimeIndex(column).as_unit("us").asi8
    return micros


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A frame's column as int64 codes in the order of its values, and the values.

    Categoricals with sorted categories are used as they are: no hashing of ten million
    rows for a dozen values.
    """
    import pandas as pd

    categorical = isinstance(column.dtype, pd.CategoricalDtype)
    if categorical and column.cat.categories.is_monotonic_increasing:
        codes = column.cat.codes.to_numpy().astype(np.int64)
        if not len(codes) or codes.min() >= 0:
            return codes, np.asarray(column.cat.categories, dtype=object)
    if column.dtype.kind in "iu":
        return _array_codes(column.to_numpy())
    found, uniques = pd.factorize(column, sort=True)
    return found.astype(np.int64), np.asarray(
        uniques, dtype=object if uniques.dtype.kind not in "iub" else None
    )


def _array_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column as int64 codes in the order of its values, and the values. Small integers
    are their own codes (less their smallest): no hashing."""
    if values.dtype.kind in "iu" and len(values):
        numbers = values.astype(np.int64)
        low, high = int(numbers.min()), int(numbers.max())
        if high - low < 1 << 16:
            return numbers - low, np.arange(low, high + 1)
    return sorted_codes(values)


def from_decisions(frame: pd.DataFrame, bands: Bands = NO_BANDS) -> Segments:
    """The segments of merged decisions (``Decisions.frame``: sorted by time, then id),
    each in its confidence band."""
    ids = frame["decision_id"]
    confidence = frame["ai_confidence"].to_numpy(dtype=np.float64)
    merged = Merged(
        keys=[
            bands.key(confidence) if name == "confidence" else Key(*_codes(frame[name]))
            for name in KEY[:-1]
        ],
        human=frame["human_decision"].to_numpy(),
        executed=frame["executed"].to_numpy(dtype=bool),
        outcome=frame["outcome"].to_numpy(),
        severity=frame["severity"].to_numpy(),
        sampled=frame["review_sampled"].to_numpy(),
        times=_micros(frame["timestamp"]),
        recorded=_micros(frame["recorded_at"]),
        ids=lambda rows: ids.iloc[rows].to_numpy(dtype=object),
    )
    return from_merged(merged)


def from_merged(decisions: Merged) -> Segments:
    """The segments of merged decisions given as arrays (``segment_counts.Merged``)."""
    return _frame(count(decisions, KEY[:-1]))


_TYPES = {
    **{name: np.int8 for name in ("system_tier", "risk_tier", "mode")},
    **{name: np.int64 for name in ("day", *COUNTS, "critical_failures", *_TIMES)},
}


def _frame(columns: Mapping[str, np.ndarray]) -> Segments:
    typed = {name: np.asarray(columns[name]) for name in COLUMNS}
    for name, kind in _TYPES.items():
        typed[name] = typed[name].astype(kind, copy=False)
    for name in _TEXT:
        typed[name] = typed[name].astype(object, copy=False)
    return Segments(typed)


def empty() -> Segments:
    """No segments."""
    return _frame({name: np.zeros(0, dtype=object) for name in COLUMNS})


def merge(parts: Sequence[Segments]) -> Segments:
    """Segments of the same key added together (the result is as if read at once)."""
    whole = (
        Segments({name: np.concatenate([p[name] for p in parts]) for name in COLUMNS})
        if parts
        else empty()
    )
    of_row, first = key_codes([_array_codes(whole[name])[0] for name in KEY])
    n = len(first)
    if n == len(whole):
        return _frame(whole.take(np.argsort(of_row, kind="stable")).columns)
    out: dict[str, np.ndarray] = {name: whole[name][first] for name in KEY}
    for name in (*COUNTS, "critical_failures"):
        values = whole[name].astype(np.float64)
        out[name] = np.bincount(of_row, weights=values, minlength=n).astype(np.int64)

    # Only keys with several rows need a choice: the others keep their one row.
    several = np.flatnonzero(np.bincount(of_row, minlength=n)[of_row] > 1)
    keys = of_row[several]

    def pick(columns: Sequence[str], highest: bool) -> np.ndarray:
        """Per key: the row with the smallest (or largest) values of ``columns``, in order."""
        sort_keys = []
        for name in reversed(columns):
            values = whole[name][several]
            if name.endswith("_id"):
                values = sorted_codes(filled(values))[0]
            elif not highest:  # no time sorts last when looking for the smallest
                values = np.where(values == NO_TIME, NEVER, values)
            sort_keys.append(values)
        order = np.lexsort((*sort_keys, keys))
        bounds = np.flatnonzero(np.diff(keys[order], append=n))  # last row of each key
        if not highest:
            bounds = np.concatenate([[0], bounds[:-1] + 1])  # first row of each key
        chosen: np.ndarray = first.copy()
        chosen[keys[order[bounds]]] = several[order[bounds]]
        return chosen

    for columns, highest in (
        (("first_at", "first_id"), False),
        (("last_at", "last_id"), True),
        (("critical_at", "critical_decided_at", "critical_id"), True),
    ):
        chosen = pick(columns, highest)
        for name in columns:
            out[name] = whole[name][chosen]
    latest = np.full(n, NO_TIME, dtype=np.int64)
    np.maximum.at(latest, of_row, whole["last_recorded_at"])
    out["last_recorded_at"] = latest
    return _frame(out)


_TIMESTAMP = pa.timestamp("us", tz="UTC")
BANDED_SCHEMA = pa.schema(
    [
        ("action_class", pa.string()),
        ("service", pa.string()),
        ("system_tier", pa.int8()),
        ("risk_tier", pa.int8()),
        ("agent_version", pa.string()),
        ("confidence", pa.string()),
        ("mode", pa.string()),
        ("day", pa.date32()),
        *[(name, pa.int64()) for name in COUNTS],
        ("first_at", _TIMESTAMP),
        ("first_id", pa.string()),
        ("last_at", _TIMESTAMP),
        ("last_id", pa.string()),
        ("last_recorded_at", _TIMESTAMP),
        ("critical_failures", pa.int64()),
        ("critical_at", _TIMESTAMP),
        ("critical_decided_at", _TIMESTAMP),
        ("critical_id", pa.string()),
    ]
)
"""The evidence file of segments split into confidence bands (``confidence``: a band's name)."""
SCHEMA = BANDED_SCHEMA.remove(BANDED_SCHEMA.get_field_index("confidence"))
"""The evidence file of segments without confidence bands (every ``confidence`` is ``""``)."""
_MODE_NAMES = np.array([level.value for level in LADDER], dtype=object)


def to_arrow(segments: Segments, banded: bool = False) -> pa.Table:
    """The segments as the table ``trustctl aggregate`` writes (``BANDED_SCHEMA`` when they
    are split into confidence bands, else ``SCHEMA``)."""
    schema = BANDED_SCHEMA if banded else SCHEMA
    arrays = []
    for field in schema:
        values = segments[field.name]
        if field.name in _TIMES:
            array = from_numpy(values, missing=values == NO_TIME).cast(_TIMESTAMP)
        elif field.name == "day":
            array = from_numpy(values.astype(np.int32)).cast(pa.date32())
        elif field.name == "mode":
            array = strings(_MODE_NAMES[values.astype(np.int64)])
        elif field.name in _TEXT:
            array = strings(values)
        else:
            array = from_numpy(values).cast(field.type)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=schema)


def from_arrow(table: pa.Table) -> Segments:
    """Segments read back from ``to_arrow``'s table (columns already checked); without a
    ``confidence`` column, not split into bands."""
    import pyarrow.compute as pc

    columns: dict[str, np.ndarray] = {}
    if "confidence" not in table.column_names:
        columns["confidence"] = np.full(table.num_rows, "", dtype=object)
    for field in BANDED_SCHEMA:
        if field.name not in table.column_names:
            continue
        column = table.column(field.name).cast(field.type)
        if field.name in _TIMES:
            column = pc.fill_null(column.cast(pa.int64()), scalar(NO_TIME))
        elif field.name == "day":
            column = column.cast(pa.int32())
        elif field.name == "mode":
            names = strings(list(LEVEL_SPELLINGS))
            ranks = from_numpy(np.array([v.rank for v in LEVEL_SPELLINGS.values()], np.int8))
            column = ranks.take(pc.index_in(column, value_set=names))
        elif field.name in _TEXT and not field.name.endswith("_id"):
            column = pc.fill_null(column, scalar(""))
        text = field.name in _TEXT
        columns[field.name] = text_values(column) if text else to_numpy(column)
    return _frame(columns)
