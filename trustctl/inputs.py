"""What an evaluation reads: logs, logs in low-memory mode, evidence files or decisions read.

Each is a small object whose ``read(until)`` gives evidence segments and an ingest
report (the shape of pip-audit's dependency sources); ``trustctl.evaluate.evaluate``
works on any of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from trustctl import segments, times
from trustctl.bands import NO_BANDS, Bands
from trustctl.errors import InputError
from trustctl.filters import Filter, keep, keep_segments, none_left
from trustctl.ingest import (
    BadRow,
    Decisions,
    IngestReport,
    OnBadRows,
    count_decisions,
    load_decisions,
)
from trustctl.segments import Segments

__all__ = [
    "DecisionLogs",
    "DecisionsRead",
    "EvidenceFiles",
    "Known",
    "Logs",
    "LowMemoryLogs",
    "Read",
    "Source",
    "filtered",
]


@dataclass(frozen=True)
class Read:
    """What a source gave: segments, what was read, and the moments it knows of."""

    segments: Segments
    """Evidence segments (``trustctl.segments``) of every decision up to the cut."""
    report: IngestReport
    after_as_of: int
    """Decisions left out because they were recorded after the cut."""
    latest: dt.datetime | None
    """When the last thing read was recorded (``None`` when nothing was read)."""
    until: dt.datetime | None = None
    """The cut the segments were read at: the ``as_of`` asked for, or the evidence's own."""
    bad_rows: tuple[BadRow, ...] = ()
    """The rows left out with ``on_bad_rows="skip"``."""
    decisions: Decisions | None = None
    """The decisions themselves, when the source read them at once (``explain`` needs them)."""
    filters: tuple[str, ...] = ()
    """The ``--where`` expressions every decision in the segments met."""
    bands: Bands = NO_BANDS
    """The confidence bands the segments are split into."""


class Source(Protocol):
    """Anything an evaluation can read segments from."""

    @property
    def nothing(self) -> str:
        """The message when it holds nothing to decide on."""
        ...

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """Segments of the decisions recorded up to ``until`` (all of them for ``None``),
        split into the confidence ``bands`` of the rules."""
        ...


@dataclass(frozen=True)
class Logs:
    """Decision-log files or directories, read at once and counted as they are read."""

    paths: Sequence[Path]
    on_bad_rows: OnBadRows = "fail"
    nothing: str = "the logs hold no decision"
    where: tuple[Filter, ...] = ()
    """Only the decisions that meet every filter count (``--where``)."""

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """Read, validate and count the logs, leaving out rows recorded after ``until``.

        Filters are judged on each merged decision, so with ``where`` the decisions are
        read whole (``DecisionLogs``); else they are counted straight from compact columns.
        """
        if self.where:
            source = DecisionLogs(self.paths, self.on_bad_rows, self.nothing, self.where)
            return source.read(until, bands)
        counted = count_decisions(self.paths, self.on_bad_rows, until=until, bands=bands)
        return Read(
            segments=counted.segments,
            report=counted.report,
            after_as_of=counted.report.decisions_after_until,
            latest=counted.latest,
            until=until,
            bad_rows=counted.bad_rows,
            bands=bands,
        )


@dataclass(frozen=True)
class DecisionLogs:
    """Decision-log files read at once into their decisions, kept for ``explain`` and the
    promotion review, which look at each one."""

    paths: Sequence[Path]
    on_bad_rows: OnBadRows = "fail"
    nothing: str = "the logs hold no decision"
    where: tuple[Filter, ...] = ()
    """Only the decisions that meet every filter count (``--where``)."""

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """Read, validate and merge the logs, leaving out rows recorded after ``until``."""
        decisions = load_decisions(self.paths, self.on_bad_rows, until=until)
        return DecisionsRead(decisions, where=self.where).read(until, bands)


def filtered(decisions: Decisions, where: Sequence[Filter]) -> Decisions:
    """The decisions that meet every filter, the report unchanged (what was read)."""
    if not where:
        return decisions
    frame = decisions.frame[keep(decisions.frame, where)].reset_index(drop=True)
    if not len(frame):
        raise none_left(where)
    return replace(decisions, frame=frame)


@dataclass(frozen=True)
class DecisionsRead:
    """Decisions already read: one read of the logs evaluated at many moments (replay).

    For exact time travel read them with ``load_decisions(..., until=as_of)``: decisions
    read whole may carry event rows recorded after a later ``until``.
    """

    decisions: Decisions
    nothing: str = "the logs hold no decision"
    where: tuple[Filter, ...] = ()
    """Only the decisions that meet every filter count (``--where``)."""

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """The decisions made up to ``until`` that meet the filters, as segments."""
        decisions = filtered(self.decisions, self.where)
        if bands:  # explain and the review find each group's decisions by its key
            decisions = replace(decisions, frame=bands.split(decisions.frame))
        import pandas as pd  # the decisions are a frame: pandas is loaded already

        frame = decisions.frame
        after = decisions.report.decisions_after_until
        if until is not None:
            later = (frame["timestamp"] > pd.Timestamp(until)).to_numpy()
            after += int(later.sum())
            frame = frame[~later] if later.any() else frame
        recorded = decisions.frame["recorded_at"]
        return Read(
            segments=segments.from_decisions(frame, bands),
            report=decisions.report,
            after_as_of=after,
            latest=pd.Timestamp(recorded.max()).to_pydatetime() if len(recorded) else None,
            until=until,
            bad_rows=decisions.bad_rows,
            decisions=decisions,
            filters=tuple(f.text for f in self.where),
            bands=bands,
        )


@dataclass(frozen=True)
class Known:
    """A source already read: one read evaluated under many rules (``whatif``)."""

    known: Read
    nothing: str = "the logs hold no decision"

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """What was read (``until`` was the cut it was read at, ``bands`` its bands)."""
        if bands != self.known.bands:
            raise ValueError("the segments were read with other confidence bands")
        return self.known


@dataclass(frozen=True)
class LowMemoryLogs:
    """Decision logs read one slice of decisions at a time (``--low-memory``).

    The segments are those of the logs read at once; memory does not grow with their size.
    """

    paths: Sequence[Path]
    on_bad_rows: OnBadRows = "fail"
    nothing: str = "the logs hold no decision"
    where: tuple[Filter, ...] = ()
    """Only the decisions that meet every filter count (``--where``)."""

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """Read the logs slice by slice into merged segments."""
        from trustctl.stream import stream_segments

        streamed = stream_segments(
            self.paths, self.on_bad_rows, until=until, where=self.where, bands=bands
        )
        recorded = streamed.segments["last_recorded_at"]
        known = recorded > segments.NO_TIME
        return Read(
            segments=streamed.segments,
            report=streamed.report,
            after_as_of=streamed.report.decisions_after_until,
            latest=times.at_micros(int(recorded.max())) if known.any() else None,
            until=until,
            bad_rows=streamed.bad_rows,
            filters=tuple(f.text for f in self.where),
            bands=bands,
        )


@dataclass(frozen=True)
class EvidenceFiles:
    """Evidence files (``trustctl aggregate``'s output), merged.

    Their cut is the ``--as-of`` they were aggregated with, else the latest time they know
    of. An earlier cut cannot be honoured (later rows are already counted in) and a later
    one than they were aggregated at would miss rows: both are refused.
    """

    paths: Sequence[Path]
    nothing: str = "the evidence files hold no decisions"
    where: tuple[Filter, ...] = ()
    """Only the segments that meet every filter count; a column they lack is refused."""

    def read(self, until: dt.datetime | None, bands: Bands = NO_BANDS) -> Read:
        """Read and merge the files; refuse a cut they cannot give, and bands other than
        ``bands``."""
        from trustctl import evidence_files

        found = evidence_files.read(self.paths, bands)
        kept = keep_segments(found.segments, self.where)
        cut = until or found.until or found.latest
        if cut is not None and found.latest is not None and cut < found.latest:
            raise InputError(
                [
                    f"--as-of {times.stamp(cut)} is before the latest time the evidence holds "
                    f"({times.stamp(found.latest)}); aggregate the logs with --as-of instead"
                ]
            )
        if cut is not None and found.until is not None and cut > found.until:
            raise InputError(
                [
                    f"--as-of {times.stamp(cut)} is after the --as-of the evidence was "
                    f"aggregated at ({times.stamp(found.until)}); later rows were left out of it"
                ]
            )
        return Read(
            segments=kept,
            report=found.report,
            after_as_of=found.report.decisions_after_until,
            latest=found.latest,
            until=cut,
            filters=tuple(f.text for f in self.where),
            bands=bands,
        )
