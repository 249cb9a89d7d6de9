"""CSV text cut at record ends into blocks that Arrow parses apart, on a pool of threads.

A line break ends a record unless it is inside quotes. Where every quote in a stretch of
text is placed as RFC 4180 places them (opening a field, closing it, or doubled inside
it), the text is inside quotes exactly where an odd number of quotes came before: a block
is then cut after the last line break with an even number before it. Arrow reads those
quotes the same way. Text with a quote placed otherwise (``ab"c``), or no such line break
for ``_LONGEST`` bytes, is left whole, from its block on, to Arrow's serial reader.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

__all__ = ["BLOCK", "Rest", "record_blocks"]

#: Bytes read at a time; each block is about this much text, in whole records.
BLOCK = 8 << 20
#: Text this long without a line break to cut at is read on by one parser.
_LONGEST = 64 << 20

#: Quotes in a block up to which they are found one by one (about as fast as numpy's pass
#: at this many; a log with a few quoted fields per thousand rows has ~2,000 a block).
_FEW_QUOTES = 20_000
_QUOTE = ord('"')
_ENDS = np.array([ord(","), ord("\n"), ord("\r")], dtype=np.uint8)


class Rest(io.RawIOBase):
    """The text not yet cut into blocks: some bytes already read, then the rest of the file."""

    def __init__(self, head: bytes, tail: io.RawIOBase) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._tail = tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        return self._tail.readinto(buffer) or 0


def record_blocks(stream: io.RawIOBase) -> Iterator[memoryview | Rest]:
    """The text of ``stream`` (from a record start) as blocks of whole records, in order;
    the last item is a ``Rest`` when the text from there on cannot be cut (see the module).
    """
    carry = b""
    while True:
        # A buffer of its own per block: the block is parsed while the next is read.
        buffer = bytearray(len(carry) + BLOCK)
        buffer[: len(carry)] = carry
        size = len(carry)
        while size < len(buffer) and (read := stream.readinto(memoryview(buffer)[size:])):
            size += read
        data = memoryview(buffer)[:size]
        quotes = _quotes(buffer, size)
        if size < len(buffer):  # the end of the file ends the last record
            if size and not _rfc_quoted(buffer, quotes, size):
                yield Rest(bytes(data), stream)
            elif size:
                yield data
            return
        end = _last_record_end(buffer, quotes, size)
        if not _rfc_quoted(buffer, quotes[: np.searchsorted(quotes, end)], end) or (
            not end and size > _LONGEST
        ):
            yield Rest(bytes(data), stream)
            return
        if end:
            yield data[:end]
        carry = bytes(data[end:])


def _quotes(text: bytearray, size: int) -> np.ndarray:
    """Where the quotes in ``text[:size]`` are, in order: found one after the other when
    they are few (C's byte search runs between them), else in one pass of numpy over the
    text, then only the 8-byte words that hold a quote."""
    few: list[int] = []
    at = text.find(b'"', 0, size)
    while at >= 0 and len(few) < _FEW_QUOTES:
        few.append(at)
        at = text.find(b'"', at + 1, size)
    if at < 0:
        return np.array(few, dtype=np.int64)
    whole = size - size % 8
    hits = np.frombuffer(text, np.uint8, whole) == _QUOTE
    words = np.flatnonzero(hits.view(np.uint64))
    inside = np.flatnonzero(hits.reshape(-1, 8)[words])
    found: np.ndarray = words[inside >> 3] * 8 + (inside & 7)
    tail = [whole + at for at, byte in enumerate(text[whole:size]) if byte == _QUOTE]
    return np.append(found, tail).astype(np.int64) if tail else found


def _last_record_end(text: bytearray, quotes: np.ndarray, size: int) -> int:
    """Just after the last line break in ``text[:size]`` with an even number of quotes
    before it (0: none)."""
    end = text.rfind(b"\n", 0, size) + 1
    while end and np.searchsorted(quotes, end) % 2:
        end = text.rfind(b"\n", 0, end - 1) + 1
    return end


def _rfc_quoted(text: bytearray, quotes: np.ndarray, end: int) -> bool:
    """Whether the ``quotes`` in ``text[:end]`` are placed as RFC 4180 places them, an even
    number of them: every odd one opens a field (or follows the one before it: ``""``),
    every even one closes it (or is followed by the next)."""
    if not len(quotes):
        return True
    if len(quotes) % 2:
        return False
    view = np.frombuffer(text, np.uint8, end)
    opening, closing = quotes[0::2], quotes[1::2]
    before = view[np.maximum(opening - 1, 0)]
    opens = (opening == 0) | np.isin(before, _ENDS) | (before == _QUOTE)
    after = view[np.minimum(closing + 1, end - 1)]
    closes = (closing == end - 1) | np.isin(after, _ENDS) | (after == _QUOTE)
    return bool(opens.all() and closes.all())
