"""``trustctl.times``: parsing, naive means UTC, the years allowed, epoch microseconds, stamps."""

from __future__ import annotations

import datetime as dt

import pytest

from trustctl import times
from trustctl.rules import parse_duration

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", dt.datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T12:30:00Z", dt.datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00z", dt.datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00", dt.datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),  # naive: UTC
        ("2026-03-01T14:30:00+02:00", dt.datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("1970-01-01T00:00:00Z", times.EARLIEST),
        ("2200-12-31T23:59:59Z", times.LATEST),
    ],
)
def test_parse(text: str, expected: dt.datetime) -> None:
    parsed = times.parse(text)
    assert parsed == expected and parsed.tzinfo == UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("next tuesday", "'next tuesday' is not an ISO-8601 date or timestamp"),
        ("1969-12-31T23:59:59Z", "'1969-12-31T23:59:59Z' is outside the years 1970 to 2200"),
        ("2201-01-01", "'2201-01-01' is outside the years 1970 to 2200"),
    ],
)
def test_parse_refuses_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        times.parse(text)
    assert str(caught.value) == message


def test_naive_means_utc_and_aware_is_converted() -> None:
    naive = dt.datetime(2026, 1, 1, 6)
    assert times.as_utc(naive) == dt.datetime(2026, 1, 1, 6, tzinfo=UTC)
    paris = dt.datetime(2026, 1, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert times.as_utc(paris).tzinfo == UTC and times.as_utc(paris).hour == 6
    assert times.in_range(naive) and not times.in_range(dt.datetime(1969, 12, 31))


def test_epoch_microseconds_and_days() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    micros = times.micros(moment)
    assert micros == int(moment.timestamp()) * 1_000_000 + 6
    assert times.at_micros(micros) == moment
    assert times.day_start(micros // times.MICROS_PER_DAY) == dt.datetime(2026, 1, 2, tzinfo=UTC)


def test_day_after_is_the_first_day_beginning_at_or_after() -> None:
    week = dt.timedelta(days=7)
    assert times.day_after(dt.datetime(2026, 1, 8, tzinfo=UTC), week) == (
        dt.datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert times.day_after(dt.datetime(2026, 1, 8, 0, 0, 1, tzinfo=UTC), week) == (
        dt.datetime(2026, 1, 2, tzinfo=UTC)
    )


def test_stamp_keeps_sub_seconds_only_when_there_are_any() -> None:
    assert times.stamp(dt.datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert times.stamp(dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == (
        "2026-01-01T00:00:00.000005Z"
    )


@pytest.mark.parametrize(
    ("value", "span", "ends"),
    [
        ("2026-01-06T14:00:00Z", "7d", "2026-01-13T00:00:00Z"),
        ("2026-01-06T00:00:00Z", "7d", "2026-01-13T00:00:00Z"),
        ("2026-01-06T23:59:59.999999Z", "7d", "2026-01-13T00:00:00Z"),
        ("2026-01-06T14:00:00Z", "12h", "2026-01-07T00:00:00Z"),
        ("2026-01-06T14:00:00Z", "25h", "2026-01-08T00:00:00Z"),
        ("2026-01-06T14:00:00Z", "0s", "2026-01-06T00:00:00Z"),
    ],
)
def test_whole_days_after_counts_from_the_start_of_the_day_rounding_the_span_up(
    value: str, span: str, ends: str
) -> None:
    found = times.whole_days_after(times.parse(value), parse_duration(span))
    assert times.stamp(found) == ends
