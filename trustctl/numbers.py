"""How numbers are shown: rounding to places, bounds rounded outwards, percentages."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import overload

__all__ = [
    "PLACES",
    "bound_against",
    "bound_text",
    "confidence_text",
    "outward",
    "percent",
    "rounded",
    "share_text",
]

PLACES = 6
"""Decimal places of the floats a policy holds."""


def _outward(value: float, digits: int, lower: bool) -> Decimal:
    rounding = ROUND_FLOOR if lower else ROUND_CEILING
    return Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=rounding)


@overload
def rounded(value: float) -> float: ...
@overload
def rounded(value: None) -> None: ...
@overload
def rounded(value: float | None) -> float | None: ...
def rounded(value: float | None) -> float | None:
    """A rate, mean or probability to ``PLACES`` places (``None`` stays ``None``)."""
    return None if value is None else round(value, PLACES)


def outward(value: float, lower: bool) -> float:
    """A bound to ``PLACES`` places, rounded outwards: a lower bound down, an upper bound
    up, so a policy read back never claims more than the exact bound."""
    return float(_outward(value, PLACES, lower))


def bound_text(value: float, digits: int, lower: bool) -> str:
    """A bound to ``digits`` places, rounded outwards: a lower bound down, an upper bound up,
    so the text never claims more than the exact bound (tables and reasons agree)."""
    return str(_outward(value, digits, lower))


def percent(k: int, n: int) -> str:
    """``k / n`` as a percentage with one decimal, ``n/a`` when ``n`` is 0."""
    return f"{100 * k / n:.1f}%" if n else "n/a"


def share_text(share: float) -> str:
    """A share of 1 as a percentage, as short as exact (``0.05`` is ``5%``)."""
    return f"{100 * share:g}%"


def bound_against(value: float, threshold: float, lower: bool) -> str:
    """A bound with 3 decimals, or as many more as it takes to show its side of ``threshold``.

    A lower bound of 0.95004 is printed ``0.95004 ≥ 0.95``, never ``0.949 < 0.95``.
    """
    for digits in range(3, 16):
        text = bound_text(value, digits, lower)
        if (float(text) < threshold) == (value < threshold):
            return text
    return repr(value)


def confidence_text(confidence: float) -> str:
    """A confidence level as a percentage (``0.95`` is ``95%``)."""
    return f"{round(confidence * 100, 4):g}%"
