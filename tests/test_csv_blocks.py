"""CSV cut into blocks at record ends: blocks parsed apart read as the file read whole."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import LogFiles, Row, row

from trustctl.errors import InputError
from trustctl.ingest import csv_blocks, load_decisions
from trustctl.ingest.csv_blocks import Rest, record_blocks


def _blocks(text: bytes, size: int, monkeypatch: pytest.MonkeyPatch) -> list[bytes | Rest]:
    monkeypatch.setattr(csv_blocks, "BLOCK", size)
    return [
        block if isinstance(block, Rest) else bytes(block)
        for block in record_blocks(io.BytesIO(text))  # type: ignore[arg-type]
    ]


def _records(text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode(), newline="")))


def _quoted_log() -> list[Row]:
    """Values with commas, doubled quotes and line breaks (CRLF too) in many places."""
    rows = [row(f"q{i:03d}", day=i / 40) for i in range(120)]
    for i in range(0, 120, 3):
        rows[i]["rationale"] = f'line one, "quoted"\nline two {i}'
    for i in range(1, 120, 7):
        rows[i]["reviewer"] = 'a "b" c'
    rows[50]["rationale"] = '\r\n\r\n,,""\n'
    rows[51]["rationale"] = '"'
    return rows


@pytest.mark.parametrize("size", [16, 64, 100, 1000])
def test_blocks_are_whole_records_and_give_back_the_text(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    text = logs.csv(_quoted_log()).read_bytes()
    blocks = _blocks(text, size, monkeypatch)
    assert not any(isinstance(block, Rest) for block in blocks)
    assert b"".join(block for block in blocks if isinstance(block, bytes)) == text
    records = [record for block in blocks if isinstance(block, bytes) for record in _records(block)]
    assert records == _records(text), "no record is cut in two"
    assert len(blocks) > 3


@pytest.mark.parametrize("few", [0, 3, 1000])
def test_quotes_are_found_one_by_one_or_in_one_pass(
    monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Up to ``_FEW_QUOTES`` quotes are searched for one after another, more in one pass:
    both give every quote of the text, in order (a plain scan, here)."""
    monkeypatch.setattr(csv_blocks, "_FEW_QUOTES", few)
    text = bytearray(b'a,"b ""c""",d\n' * 37 + b'"x",y\n')
    for size in (len(text), len(text) - 3, 13, 7, 0):
        expected = [at for at, byte in enumerate(text[:size]) if byte == ord('"')]
        assert csv_blocks._quotes(text, size).tolist() == expected


def test_a_quote_placed_otherwise_leaves_the_rest_to_one_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = b'a,b\n1,2\n3,"x\ny"\n4,ab"c\n5,6\n7,8\n'
    blocks = _blocks(text, 8, monkeypatch)
    rest = blocks[-1]
    assert isinstance(rest, Rest)
    head = b"".join(block for block in blocks[:-1] if isinstance(block, bytes))
    assert head + rest.read() == text
    assert b'ab"c' not in head, "cut only where every quote before is RFC 4180's"


def test_an_unclosed_quote_at_the_end_is_left_to_one_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks = _blocks(b'a,b\n1,2\n3,"open\n', 1 << 20, monkeypatch)
    assert len(blocks) == 1 and isinstance(blocks[0], Rest)


def _small_blocks(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    import trustctl.ingest.csv_log

    monkeypatch.setattr(csv_blocks, "BLOCK", size)
    monkeypatch.setattr(trustctl.ingest.csv_log, "CSV_BLOCK", max(size, 2048))


@pytest.mark.parametrize("size", [200, 1000])
def test_a_log_read_in_blocks_is_the_log_read_whole(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    path = logs.csv(_quoted_log())
    whole = load_decisions([path])
    _small_blocks(monkeypatch, size)
    blocks = load_decisions([path])
    pd.testing.assert_frame_equal(blocks.frame, whole.frame)
    assert blocks.report == whole.report
    assert whole.report.decisions == 120


def test_a_log_with_a_bare_quote_reads_the_same_in_blocks(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _quoted_log()
    rows[60]["reviewer"] = 'o"neil'  # not RFC 4180: Arrow reads the quote as a character
    path = logs.text("bare.csv", _bare(rows))
    whole = load_decisions([path])
    _small_blocks(monkeypatch, 300)
    blocks = load_decisions([path])
    pd.testing.assert_frame_equal(blocks.frame, whole.frame)
    assert whole.frame.set_index("decision_id").loc["q060", "reviewer"] == 'o"neil'


def _bare(rows: list[Row]) -> str:
    """Rows as CSV with the bare quote of ``o"neil`` written as it is, not quoted."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().replace('"o""neil"', 'o"neil')


def test_errors_in_later_blocks_name_their_lines(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _quoted_log()
    rows[100]["mode"] = "boss"
    path = logs.csv(rows)
    _small_blocks(monkeypatch, 300)
    # Rows 0, 3, ..., 99 but 51 have a line break in their rationale, row 50 three.
    line = 2 + 100 + len(range(0, 100, 3)) - 1 + 3
    with pytest.raises(InputError) as caught:
        load_decisions([path])
    assert str(caught.value) == (
        f"{path}:{line}: column 'mode': 'boss' is not one of observe, suggest, auto_notify, full"
    )
    text = Path(path).read_bytes()
    assert text[: text.index(b"\nq100,")].count(b"\n") + 2 == line


def test_a_ragged_record_in_a_later_block_names_its_line(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = logs.csv([row(f"r{i:03d}") for i in range(80)])
    lines = path.read_text().splitlines(keepends=True)
    lines[70] = lines[70].rstrip("\n") + ",extra\n"
    path.write_text("".join(lines))
    _small_blocks(monkeypatch, 256)
    with pytest.raises(InputError) as caught:
        load_decisions([path])
    assert str(caught.value).startswith(f"{path}:71: expected ")
