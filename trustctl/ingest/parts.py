"""Large logs read as partitions of their decisions and counted a partition per thread.

Each batch is cut on its worker thread by a hash of the decision id (``partition_of``),
so every row of a decision falls in one partition and the partitions are built apart
as they are read. Each partition is then checked, merged and counted as a log of its own
on a pool of threads (numpy and Arrow let go of the GIL in their loops); segments,
reports and the latest time add up (``segments.merge``, as ``--low-memory`` relies on)
to exactly what the logs read at once give.

A problem's message can depend on rows of other partitions (only the first few of a
kind are spelled out, and the files that repeat others' decisions are named first), so
partitions count only logs without a problem: when any partition has one, the caller
reads the logs at once for the errors, the bad rows and the report they give.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa

from trustctl import segments
from trustctl.arrays import from_numpy
from trustctl.ingest.columns import Built, Rows, offsets
from trustctl.ingest.decisions import Counted, parts_report
from trustctl.ingest.read import WORKERS, Piece, RawLog, partition_of, read_shaped

__all__ = ["PART_BYTES", "Parted", "count_parts", "parts_for", "read_parts"]

#: Logs smaller than this (compressed files count 5×) are read and counted whole: below
#: it, cutting them costs more than the threads give.
PART_BYTES = 48 << 20
#: Bytes of log per partition, at most (up to four partitions per worker thread).
_PER_PART = 128 << 20


def parts_for(paths: Sequence[Path]) -> int:
    """How many partitions to read the logs in: one for small logs or a single core, else
    one per worker thread for each ``_PER_PART`` bytes a thread gets, up to four each.

    A partition costs some fixed work (about 40 ms), so a 1M-row log is cut in as many
    as there are threads. The workers count one partition each at a time: in four per
    worker they need a quarter of the working memory of the logs counted at once (at 10M
    rows on 2 cores the peak was ~780 MB in 8 partitions, ~910 MB in 4).
    """
    size = 0
    for path in paths:
        weight = 5 if path.name.lower().endswith((".gz", ".parquet")) else 1
        size += path.stat().st_size * weight
    if size < PART_BYTES or WORKERS < 2:
        return 1
    each = -(-size // (_PER_PART * WORKERS))
    return WORKERS * min(each, 4)  # at most 16: under 256 (``_split``)


@dataclass
class Parted:
    """The rows of every file, kept apart per partition of the decisions."""

    builds: list[Built]
    logs: list[RawLog] = field(default_factory=list)
    kept: list[list[int]] = field(default_factory=list)
    """Per partition, the rows of each file in it."""
    naive: int = 0
    """Times without a zone among those Arrow read as the batches were (partitions count
    only those they read themselves)."""

    def keep(self, split: tuple[int, list[Piece]]) -> None:
        """The pieces of one batch (``_split``), each kept in its partition (of the file
        read last)."""
        naive, pieces = split
        self.naive += naive
        for index, piece in enumerate(pieces):
            if piece.rows:
                self.builds[index].keep(piece)
                self.kept[index][-1] += piece.rows

    def size(self, index: int) -> int:
        return sum(self.kept[index])

    def rows(self, index: int) -> Rows:
        """The rows of partition ``index``, in file order, as ``read_rows`` gives a log's
        (let go of here: the partition is built once)."""
        built, self.builds[index] = self.builds[index], Built()
        return built.rows(tuple(self.logs), self.kept[index])


def read_parts(paths: Sequence[Path], count: int) -> Parted:
    """Every file read once into ``count`` partitions."""
    parted = Parted([Built() for _ in range(count)], kept=[[] for _ in range(count)])
    for path in paths:
        for sizes in parted.kept:
            sizes.append(0)
        parted.logs.append(read_shaped(path, lambda piece: _split(piece, count), parted.keep))
    return parted


def _split(piece: Piece, count: int) -> tuple[int, list[Piece]]:
    """A piece cut into one per partition (on the worker thread), in row order in each; and
    how many of its times Arrow read without a zone."""
    part = _partitions(piece.ids, count)
    order = np.argsort(part.astype(np.uint8), kind="stable")  # a radix sort on bytes
    bounds = np.searchsorted(part[order], np.arange(count + 1)).tolist()
    # The texts are taken apart per partition: each partition's own buffers, let go of
    # when it is built (a slice would hold the whole batch's text until the last one is).
    text = piece.time_text
    instants = None if piece.instants is None else piece.instants[order]
    texts = {name: (values, codes[order]) for name, (values, codes) in piece.texts.items()}
    return piece.naive, [
        Piece(
            rows=end - start,
            ids=piece.ids.take(from_numpy(order[start:end])),
            instants=None if instants is None else instants[start:end],
            naive=0,
            time_text=None if text is None else text.take(from_numpy(order[start:end])),
            texts={name: (values, codes[start:end]) for name, (values, codes) in texts.items()},
        )
        for start, end in itertools.pairwise(bounds)
    ]


def _partitions(ids: pa.Array, count: int) -> np.ndarray:
    """Each id's partition: for ids of one length of 8 bytes or more (most id schemes),
    a hash of their last 8 bytes read as one number each; else ``partition_of``'s."""
    bounds = offsets(ids)
    width = int(bounds[1] - bounds[0]) if len(ids) else 0
    if width < 8 or ids.null_count or not np.all(np.diff(bounds) == width):
        return partition_of(ids, count)
    key = np.ndarray((len(ids),), "<u8", ids.buffers()[2], int(bounds[0]) + width - 8, (width,))
    key = key ^ (key >> np.uint64(31))
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(29)
    found: np.ndarray = (key % np.uint64(count)).astype(np.int32)
    return found


def count_parts(parted: Parted, count: Callable[[Rows], Counted | None]) -> Counted | None:
    """Every partition ``count``-ed on the pool, added up; ``None`` if ``count`` gave
    ``None`` for one (a problem in its rows) or no file has a row."""
    indexes = [index for index in range(len(parted.builds)) if parted.size(index)]
    found: list[Counted] = []
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pending: list[Future[Counted | None]] = [
            pool.submit(lambda i: count(parted.rows(i)), index) for index in indexes
        ]
        for future in pending:
            counted = future.result()
            if counted is None:
                for rest in pending:
                    rest.cancel()
                return None
            found.append(counted)
    return _added(parted, found) if found else None


def _added(parted: Parted, found: Sequence[Counted]) -> Counted:
    """The partitions' counts as one: every file is in each report, with part of its
    decisions."""
    report = parts_report([counted.report for counted in found])
    report = replace(report, naive_timestamps=report.naive_timestamps + parted.naive)
    latest = [counted.latest for counted in found if counted.latest is not None]
    parts = [counted.segments for counted in found if len(counted.segments)]
    return Counted(
        segments=segments.merge(parts or [found[0].segments]),
        report=report,
        bad_rows=(),
        latest=max(latest) if latest else None,
    )
