"""Instants and spans: parsing, naive-means-UTC, the years allowed, epoch microseconds, UTC days,
stamps, durations (``180d``)."""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "EARLIEST",
    "EPOCH",
    "LATEST",
    "MAX_DURATION_DAYS",
    "MICROS_PER_DAY",
    "RANGE_TEXT",
    "as_utc",
    "at_micros",
    "day_after",
    "day_start",
    "in_range",
    "instant",
    "instant_or_none",
    "micros",
    "parse",
    "parse_duration",
    "stamp",
    "utc_instant",
    "whole_days_after",
]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
"""Instant 0 of every int64 microsecond count in trustctl."""
EARLIEST = EPOCH
"""The earliest instant trustctl reads: before it, a mistyped year, not data."""
LATEST = dt.datetime(2200, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
"""The latest instant trustctl reads (times are nanoseconds in pandas downstream)."""
RANGE_TEXT = "the years 1970 to 2200"
MICROS_PER_DAY = 86_400_000_000
_MICROSECOND = dt.timedelta(microseconds=1)


def as_utc(value: dt.datetime) -> dt.datetime:
    """An instant in UTC; a naive one is read as UTC (everywhere in trustctl)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def in_range(value: dt.datetime) -> bool:
    """Whether an instant (naive means UTC) lies within ``EARLIEST`` to ``LATEST``."""
    try:
        return EARLIEST <= as_utc(value) <= LATEST
    except OverflowError:  # year 1 or 9999 with an offset: no UTC instant at all
        return False


def parse(text: str) -> dt.datetime:
    """An ISO-8601 date or time as an aware UTC instant; naive means UTC.

    Raises ``ValueError`` (with one line saying why) for text that is not one, or an
    instant outside ``RANGE_TEXT``.
    """
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO-8601 date or timestamp") from None
    if not in_range(value):
        raise ValueError(f"{text!r} is outside {RANGE_TEXT}")
    return as_utc(value)


def instant(value: object) -> dt.datetime:
    """A date or time as a file gives it, as an aware UTC instant: ISO-8601 text (``parse``),
    or the datetime or date YAML makes of unquoted text (a date is its midnight UTC).

    Raises ``ValueError`` for anything else (a number is not a time here) and for an
    instant outside ``RANGE_TEXT``.
    """
    moment = utc_instant(value)
    if not in_range(moment):
        raise ValueError(f"{moment.isoformat()!r} is outside {RANGE_TEXT}")
    return moment


def utc_instant(value: object) -> dt.datetime:
    """``instant`` without its range: any date or time that has an instant in UTC.

    For instants trustctl derives rather than reads, such as a window's start a century
    back; year 1 or 9999 with an offset has no UTC instant and is refused.
    """
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date or timestamp") from None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        raise ValueError(f"expected an ISO-8601 date or time, found {type(value).__name__}")
    try:
        return as_utc(moment)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()!r} is outside {RANGE_TEXT}") from None


def instant_or_none(value: object) -> dt.datetime | None:
    """``instant`` of a value that may be absent (``None``)."""
    return None if value is None else instant(value)


def micros(value: dt.datetime) -> int:
    """An aware instant as microseconds since the epoch."""
    return (value - EPOCH) // _MICROSECOND


def at_micros(count: int) -> dt.datetime:
    """Microseconds since the epoch as an aware UTC instant."""
    return EPOCH + dt.timedelta(microseconds=int(count))


def day_start(day: int) -> dt.datetime:
    """Midnight UTC of a day counted since the epoch."""
    return EPOCH + dt.timedelta(days=day)


def day_after(value: dt.datetime, span: dt.timedelta = dt.timedelta(0)) -> dt.datetime:
    """Midnight UTC of the first day that begins at or after ``value - span``."""
    start = micros(value - span)
    return day_start(-(-start // MICROS_PER_DAY))


def whole_days_after(value: dt.datetime, span: dt.timedelta) -> dt.datetime:
    """Midnight UTC ``span`` after the start of ``value``'s UTC day, ``span`` rounded up to
    whole days: a 7-day span from any time on a Tuesday ends as the next Tuesday begins."""
    day = micros(value) // MICROS_PER_DAY
    return day_start(day - (-(span // _MICROSECOND) // MICROS_PER_DAY))


def stamp(value: dt.datetime) -> str:
    """An instant as ``YYYY-MM-DDTHH:MM:SSZ`` (``.ffffff`` before the ``Z`` when not whole).

    Sub-second digits are kept so that a policy read back as ``--previous`` restarts
    the evidence clock at the very instant it was written for.
    """
    utc = value.astimezone(dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if utc.microsecond else "%Y-%m-%dT%H:%M:%SZ")


_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION_DAYS = 36500
"""About a century: longer spans are typos, and would overflow date arithmetic."""
_DURATION_DIGITS = 10
"""More digits than any duration allowed has (in seconds): refused before they are read."""


def parse_duration(text: str) -> dt.timedelta:
    """Parse ``"180d"``, ``"12h"``, ``"2w"``… into a timedelta; raise ``ValueError`` otherwise.

    Durations longer than ``MAX_DURATION_DAYS`` are refused.
    """
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like '180d', '12h' or '2w'")
    if len(match.group(1)) > _DURATION_DIGITS:
        raise ValueError(f"at most {MAX_DURATION_DAYS}d, not {text!r}")
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION_DAYS * _UNIT_SECONDS["d"]:
        raise ValueError(f"at most {MAX_DURATION_DAYS}d, not {text!r}")
    return dt.timedelta(seconds=seconds)
