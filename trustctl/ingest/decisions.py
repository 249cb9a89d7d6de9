"""What ingest gives: one row per decision, what each file held, and the rows left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

    from trustctl.ingest.arriving import Arriving
    from trustctl.segments import Segments

__all__ = [
    "BadRow",
    "Counted",
    "Decisions",
    "IngestReport",
    "OnBadRows",
    "SourceSummary",
    "parts_report",
    "summed_report",
]

OnBadRows = Literal["fail", "skip"]


@dataclass(frozen=True)
class SourceSummary:
    """What one input file contributed, for the policy's metadata."""

    path: str
    sha256: str
    rows: int
    decisions: int


@dataclass(frozen=True)
class BadRow:
    """A source row that was skipped, with why and where."""

    location: str
    errors: tuple[str, ...]
    record: dict[str, Any]


@dataclass(frozen=True)
class IngestReport:
    """Counts of what was read, merged, flagged and skipped."""

    files: tuple[SourceSummary, ...]
    """What each input file holds (all its rows and decisions, whatever ``until``)."""
    rows: int
    """Rows read, including those skipped or after ``until``."""
    decisions: int
    """Decisions in the frame."""
    naive_timestamps: int
    """Timestamps without a zone, read as UTC."""
    skipped_decisions: int
    """Decisions left out because one of their rows is bad (``on_bad_rows="skip"``)."""
    skipped_rows: int
    """Rows of the skipped decisions."""
    rows_after_until: int = 0
    """Rows recorded after ``until``, left out before merging (0 without ``until``)."""
    decisions_after_until: int = 0
    """Decisions not yet known at ``until``: all their rows are later, or a required field
    (action_class, mode, executed) is only given in a later row."""


def summed_report(files: Sequence[SourceSummary], reports: Sequence[IngestReport]) -> IngestReport:
    """One report for logs read in parts (slices, partitions): their counts added."""
    counts = (
        "rows",
        "decisions",
        "naive_timestamps",
        "skipped_decisions",
        "skipped_rows",
        "rows_after_until",
        "decisions_after_until",
    )
    totals = {name: sum(getattr(r, name) for r in reports) for name in counts}
    return IngestReport(files=tuple(files), **totals)


def parts_report(reports: Sequence[IngestReport]) -> IngestReport:
    """One report for the parts of the same logs (slices, partitions): every file is in each
    part's report, with part of its decisions."""
    files = tuple(
        SourceSummary(
            path=f.path,
            sha256=f.sha256,
            rows=f.rows,
            decisions=sum(r.files[i].decisions for r in reports),
        )
        for i, f in enumerate(reports[0].files)
    )
    return summed_report(files, reports)


@dataclass(frozen=True)
class Decisions:
    """One row per decision, typed, with the ingest report.

    Columns of ``frame``, in this order: ``decision_id`` (str); ``timestamp`` (UTC
    datetime in microseconds, the earliest of the decision's rows: when the AI proposed
    or acted); ``recorded_at`` (the same type, the latest of its rows: when the last
    thing about it, such as its verified outcome, was recorded); ``action_class``
    (text); ``mode`` (ladder rank 0-3); ``human_decision``/``outcome``/``severity``
    (codes above, -1 empty); ``executed`` (bool); ``system_tier``/``risk_tier`` (int,
    0 = not given); ``service``, ``agent_version``, ``reviewer``, ``rationale``,
    ``incident_id`` (text, ``""`` = not given); ``review_sampled`` (code: 1 true, 0 false, -1
    empty); ``ai_confidence`` (float, NaN = not
    given). The text columns are categoricals of str (categories: ``""`` and every value
    of the column in the logs, sorted; compare them with ``==``, read them with
    ``.iat``). Rows are sorted by timestamp, then decision id. With ``until``, only the
    rows recorded at or before it count, for every column.
    """

    frame: pd.DataFrame
    report: IngestReport
    bad_rows: tuple[BadRow, ...] = field(default=())
    arriving: Arriving | None = None
    """The rows of the decisions recorded over time (``load_timeline``), else ``None``."""


@dataclass(frozen=True)
class Counted:
    """Decisions counted into evidence segments as they were read, with the ingest report."""

    segments: Segments
    """Evidence segments (``trustctl.segments``) of every decision read."""
    report: IngestReport
    bad_rows: tuple[BadRow, ...]
    """The rows left out with ``on_bad_rows="skip"``."""
    latest: dt.datetime | None
    """When the last thing about them was recorded (``None`` without decisions)."""
