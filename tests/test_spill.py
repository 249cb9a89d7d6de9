"""Spilling (``--low-memory``): each partition reads back as exactly its rows of the logs."""

from __future__ import annotations

import contextlib
import csv
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import sample_rows

from trustctl import segments, stream
from trustctl.errors import InputError
from trustctl.ingest import load_decisions, spill
from trustctl.ingest.columns import Rows, read_rows
from trustctl.ingest.read import partition_of


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def logs(tmp_path: Path) -> list[Path]:
    """Two logs: the first with times Arrow leaves as text (naive among ``+02:00``), the
    second with more distinct confidences than a byte numbers (the codes widen midway)."""
    header, rows = sample_rows()
    when, confidence = header.index("timestamp"), header.index("ai_confidence")
    half = len(rows) // 2
    first = [list(r) for r in rows[:half]]
    for number, r in enumerate(first):
        if number % 3 == 0:
            r[when] = r[when].removesuffix("Z")
        elif number % 3 == 1:
            r[when] = r[when].replace("Z", "+02:00")
    second = [list(r) for r in rows[half:]]
    for r in second:  # one per decision, as the first of its rows gives it
        if r[confidence]:
            r[confidence] = f"0.5{r[0].removeprefix('d-')}"
    return [
        _write(tmp_path / "a.csv", header, first),
        _write(tmp_path / "b.csv", header, second),
    ]


def _row_texts(rows: Rows, picked: np.ndarray) -> dict[str, list[str]]:
    return {name: [column.text(int(r)) for r in picked] for name, column in rows.texts.items()}


@pytest.mark.parametrize("count", [1, 3])
def test_each_partition_reads_back_as_its_rows_of_the_logs(logs: list[Path], count: int) -> None:
    whole = read_rows(logs)
    where = partition_of(whole.ids, count)
    with spill.spilled(logs, count) as spilled:
        for index in range(count):
            picked = np.flatnonzero(where == index)
            part = spilled.rows(index)
            assert part.ids.to_pylist() == whole.ids.take(picked).to_pylist()
            instants = whole.times.instants[picked]
            assert np.array_equal(part.times.instants, instants, equal_nan=True)
            unread = np.flatnonzero(np.isnat(instants))
            assert np.array_equal(part.times.unread, unread)
            texts = whole.times.unread_text.take(
                np.searchsorted(whole.times.unread, picked[unread])
            )
            assert part.times.unread_text.to_pylist() == texts.to_pylist()
            assert _row_texts(part, np.arange(part.count)) == _row_texts(whole, picked)
            files = whole.file_of(picked)
            for number, raw in enumerate(part.logs):
                assert raw.path == logs[number]
                in_file = picked[files == number] - whole.starts[number]
                assert raw.in_file(range(raw.kept)) == in_file.tolist()
    assert len(whole.times.unread) > len(whole.ids) // 4  # times as text were spilled
    assert len(whole.texts["ai_confidence"].values) > 256  # the codes did widen


def test_partitions_merge_into_the_logs_read_at_once(logs: list[Path]) -> None:
    whole = load_decisions(logs)
    streamed = stream.stream_segments(logs, slices=4)
    assert segments.to_arrow(streamed.segments).equals(
        segments.to_arrow(segments.from_decisions(whole.frame))
    )
    assert streamed.report == whole.report


@pytest.mark.parametrize("ending", [None, InputError(["bad"]), KeyboardInterrupt()])
@pytest.mark.parametrize("while_spilling", [False, True])
def test_the_spill_is_removed_however_the_run_ends(
    logs: list[Path],
    ending: BaseException | None,
    while_spilling: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    if ending is not None and while_spilling:
        kept = spill.Spilled._keep

        def interrupted(self: spill.Spilled, cut: Any) -> None:
            kept(self, cut)
            raise ending

        monkeypatch.setattr(spill.Spilled, "_keep", interrupted)
    ends = pytest.raises(type(ending)) if ending else contextlib.nullcontext()
    with ends, spill.spilled(logs, 3) as spilled:
        assert spilled.rows(0).count
        assert [p.name[:14] for p in temporary.iterdir()] == ["trustctl-spill"]
        if ending is not None:
            raise ending
    assert not list(temporary.iterdir())
