"""``--where EXPR``: which decisions count, judged on each decision after its event rows merge."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from trustctl import times
from trustctl.errors import TrustctlError
from trustctl.levels import LEVEL_SPELLINGS
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES

if TYPE_CHECKING:
    import pandas as pd

    from trustctl.segments import Segments

__all__ = ["EVIDENCE_COLUMNS", "Filter", "keep", "keep_segments", "none_left", "parse_filter"]

_EXPR = re.compile(r"^\s*([A-Za-z_]+)\s*(?:(!=|<=|>=|==|=|<|>)|\s(in)\s)\s*(.*?)\s*$", re.S)

_TEXT = (
    "decision_id",
    "action_class",
    "service",
    "agent_version",
    "reviewer",
    "rationale",
    "incident_id",
)
_CODES: dict[str, dict[str, int]] = {
    "human_decision": HUMAN_CODES,
    "outcome": OUTCOME_CODES,
    "severity": SEVERITY_CODES,
}
_UNORDERED = ("human_decision", "outcome", "executed")
"""Columns with no order to compare by: ``=``, ``!=`` and ``in`` only."""

EVIDENCE_COLUMNS = ("action_class", "service", "system_tier", "risk_tier", "agent_version", "mode")
"""The columns evidence files keep per row, so the only ones a filter on them can read."""


def _level(text: str) -> int:
    level = LEVEL_SPELLINGS.get(text)
    if level is None:
        raise ValueError(f"{text!r} is not a level ({', '.join(LEVEL_SPELLINGS)})")
    return level.rank


def _tier(text: str) -> int:
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 4:
        raise ValueError(f"{text!r} is not a tier (1 to 4)")
    return int(text)


def _executed(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"{text!r} is not true or false")


def _coded(column: str) -> Callable[[str], int]:
    codes = _CODES[column]

    def read(text: str) -> int:
        if not text:
            return -1
        if text not in codes:
            raise ValueError(f"{text!r} is not one of {', '.join(codes)} (or empty)")
        return codes[text]

    return read


def _confidence(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _parser(column: str) -> Callable[[str], Any]:
    if column in _TEXT:
        return str
    if column == "timestamp":
        return times.parse
    if column == "mode":
        return _level
    if column in ("system_tier", "risk_tier"):
        return _tier
    if column == "executed":
        return _executed
    if column == "ai_confidence":
        return _confidence
    return _coded(column)


_ORDERED = ("timestamp", "mode", "system_tier", "risk_tier", "executed", "ai_confidence")
_ALL = (*_TEXT, *_ORDERED, *_CODES)


@dataclass(frozen=True)
class Filter:
    """One ``--where``: a column, a comparison and the value(s), read as the column's type."""

    text: str
    column: str
    op: str
    """``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` or ``in``."""
    values: tuple[Any, ...]


def parse_filter(text: str, option: str = "--where") -> Filter:
    """``service!=payments``, ``system_tier<=2``, ``agent_version in 2.3.1,2.4.0`` …"""
    match = _EXPR.match(text)
    if match is None:
        raise TrustctlError(
            f"{option} {text!r}: expected COLUMN OP VALUE with OP one of = != < <= > >= "
            "or 'COLUMN in A,B,C'"
        )
    column, op, within, raw = match.groups()
    if column not in _ALL:
        close = difflib.get_close_matches(column, _ALL, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TrustctlError(f"{option} {text!r}: {column!r} is not a log column{hint}")
    op = "in" if within else ("=" if op == "==" else op)
    if op in ("<", "<=", ">", ">=") and column in _UNORDERED:
        raise TrustctlError(f"{option} {text!r}: {column} has no order; use =, != or in")
    parts = [p.strip() for p in raw.split(",")] if op == "in" else [raw]
    try:
        values = tuple(_parser(column)(p) for p in parts)
    except ValueError as exc:
        raise TrustctlError(f"{option} {text!r}: {exc}") from None
    shown = f"{column} in {','.join(parts)}" if op == "in" else f"{column}{op}{raw}"
    return Filter(text=shown, column=column, op=op, values=values)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _holds(values: np.ndarray, where: Filter) -> np.ndarray:
    """Which of ``values`` (one column, in its filter's type) meet the filter."""
    if where.op in _COMPARE:
        found: np.ndarray = np.asarray(_COMPARE[where.op](values, where.values[0]), dtype=bool)
        return found
    equal = np.zeros(len(values), dtype=bool)
    for value in where.values:
        equal |= np.asarray(values == value, dtype=bool)
    return ~equal if where.op == "!=" else equal


def _column_holds(column: pd.Series | np.ndarray, where: Filter) -> np.ndarray:
    if isinstance(column, np.ndarray):  # a column of segments
        return _holds(column, where)
    import pandas as pd  # a decisions frame's column: pandas is loaded already

    if isinstance(column.dtype, pd.CategoricalDtype):  # judge each distinct value once
        categories = np.asarray(column.cat.categories, dtype=object)
        held: np.ndarray = _holds(categories, where)[column.cat.codes.to_numpy()]
        return held
    if where.column == "timestamp":
        micros = pd.DatetimeIndex(column).as_unit("us").asi8
        return _holds(micros, Filter(where.text, where.column, where.op, _micros(where)))
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        return _holds(column.to_numpy(dtype=object), where)
    return _holds(column.to_numpy(), where)


def _micros(where: Filter) -> tuple[int, ...]:
    return tuple(times.micros(v) for v in where.values)


def none_left(filters: Sequence[Filter]) -> TrustctlError:
    """The error when no decision meets the filters."""
    return TrustctlError(f"no decision meets --where {' and '.join(f.text for f in filters)}")


def keep(frame: pd.DataFrame | Segments, filters: Sequence[Filter]) -> np.ndarray:
    """Which rows of a decisions frame (one row per decision), or which segments, meet
    every filter."""
    kept = np.ones(len(frame), dtype=bool)
    for where in filters:
        kept &= _column_holds(frame[where.column], where)
    return kept


def keep_segments(frame: Segments, filters: Sequence[Filter]) -> Segments:
    """The evidence segments that meet every filter; a column they do not keep is refused."""
    for where in filters:
        if where.column not in EVIDENCE_COLUMNS:
            raise TrustctlError(
                f"--where {where.text!r}: evidence files keep only {', '.join(EVIDENCE_COLUMNS)} "
                f"per row, not {where.column}; give the logs instead"
            )
    if not filters:
        return frame
    kept = frame.take(keep(frame, filters))
    if not len(kept):
        raise none_left(filters)
    return kept
