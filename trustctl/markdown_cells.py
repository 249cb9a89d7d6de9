"""Text made safe for one cell of a GitHub markdown table: plain text, or a code span."""

from __future__ import annotations

import re

__all__ = ["cell", "code"]

# CommonMark's line endings; any of them inside a cell would end the table's row.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BACKTICKS = re.compile(r"`+")


def _one_line(text: str) -> str:
    return _LINE_BREAK.sub(" ", text)


def cell(text: object) -> str:
    """``text`` as one table cell (or list item) that reads as written: each line break a
    space, a backslash doubled (``\\*`` or ``\\|`` in a rationale stays as typed) and ``|``
    escaped so it does not split the row."""
    return _one_line(str(text)).replace("\\", "\\\\").replace("|", "\\|")


def code(text: str) -> str:
    """``text`` as a code span in a table cell: fenced by one backtick more than its longest
    run of them (padded by a space when it starts or ends with one), ``|`` escaped (a GFM
    table unescapes it even in code), each line break a space; a backslash in code is
    literal, so it stays single."""
    flat = _one_line(text)
    fence = "`" * (1 + max((len(run) for run in _BACKTICKS.findall(flat)), default=0))
    pad = " " if flat[:1] == "`" or flat[-1:] == "`" else ""
    inner = flat.replace("|", "\\|")
    return f"{fence}{pad}{inner}{pad}{fence}"
