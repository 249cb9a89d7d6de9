"""Sample logs for a window of days: a log that follows an earlier one (new ids, later dates)."""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

from trustctl.errors import TrustctlError
from trustctl.sample import SPAN_DAYS, generate_sample
from trustctl.times import LATEST

__all__ = ["ID_PREFIX", "generate_window", "share_of_last_days"]

ID_PREFIX = "d-"
"""The decision-id prefix of the default sample."""

_PREFIX = re.compile(r"[A-Za-z0-9._:-]*")


def share_of_last_days(days: int) -> float:
    """The share of a sample's decisions in its last ``days`` days.

    Decisions sit at ``p = sqrt(1 + 3u) - 1`` of the span (``u`` uniform): their density
    rises linearly to twice its start, so ``P(p <= x) = ((1 + x)² - 1) / 3``.
    """
    start = 1 - days / SPAN_DAYS
    return 1 - ((1 + start) ** 2 - 1) / 3


def generate_window(
    decisions: int | None, seed: int, start: dt.datetime, days: int, id_prefix: str
) -> pd.DataFrame:
    """About ``decisions`` decisions (or the default sample's rate) from ``start`` for ``days``.

    The window is the last ``days`` days of a sample ending at ``start + days``, so its
    classes behave as at the end of the default sample; decision ids are renumbered
    ``id_prefix`` + 0000001 on, in order, so logs of successive windows never share one.
    """
    if not 1 <= days <= SPAN_DAYS:
        raise TrustctlError(f"--days: between 1 and {SPAN_DAYS}, got {days}")
    if not _PREFIX.fullmatch(id_prefix):
        raise TrustctlError(f"--id-prefix: letters, digits and . _ : - only, got {id_prefix!r}")
    if start + dt.timedelta(days=days) > LATEST:
        raise TrustctlError(f"--start: a log of {days} day(s) from it would end after {LATEST:%Y}")
    share = share_of_last_days(days)
    total = 6000 if decisions is None else max(1, math.ceil(decisions / share))
    frame = generate_sample(total, seed, start + dt.timedelta(days=days))
    at = pd.to_datetime(frame["timestamp"], format="ISO8601", utc=True)
    proposed = at.groupby(frame["decision_id"]).transform("min")
    kept: pd.DataFrame = frame[(proposed >= pd.Timestamp(start)).to_numpy()].reset_index(drop=True)
    if kept.empty:
        raise TrustctlError(f"no decision falls in the {days} day(s) from {start:%Y-%m-%d}")
    numbers, _ = pd.factorize(kept["decision_id"])
    width = max(7, len(str(len(numbers))))
    kept["decision_id"] = [f"{id_prefix}{number + 1:0{width}d}" for number in numbers]
    return kept
