"""Fuzzing every reader through the CLI: any bytes give exit 0 or 2, never 3 or a traceback.

Each reader (CSV, CSV.gz, JSON Lines, Parquet, rules, policy, evidence files) gets arbitrary
bytes and structured mutations of a valid file (bytes flipped, cut, repeated; tokens that
broke trustctl before: ``now``, ``²``, lone surrogates, 5000-digit numbers, deep nesting,
keys twice, years 1 and 9999 with offsets, NaN). On exit 2 the message is ``error: …`` and
the output file given with ``-o`` is untouched; no temporary file is ever left.

``make test`` runs a fixed seed and a small budget; ``make fuzz`` runs many more examples
with a fresh seed (``TRUSTCTL_FUZZ_EXAMPLES``, ``TRUSTCTL_FUZZ_RANDOM``).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import history
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trustctl.cli import app

EXAMPLES = int(os.environ.get("TRUSTCTL_FUZZ_EXAMPLES", "20"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=not os.environ.get("TRUSTCTL_FUZZ_RANDOM"),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
ROOT = Path(__file__).resolve().parent.parent
SENTINEL = b"the policy before this run\n"

TOKENS = [
    b"now", b"today", "²".encode(), "２".encode(), "٢".encode(), b"02", b"-1", b"\xff", b"\x00",
    b"\r", b"\n", b"\r\n", b'"', b",", b"'", b"\\ud800", b'"\\udfff"', b"1" * 5000,
    b"[" * 3000, b"{" * 50, b"nan", b".nan", b".inf", b"1e309", b"-0",
    b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00", b"2026-02-30",
    b"\xef\xbb\xbf", b"&a [1]", b"*a", b"<<: *a", b"!!python/object/apply:os.system ['true']",
    b"? ", b"- ", b"\t", b"~", b"null", b"true", b"[]", b"{}", b"1.5", b"  x: 1\n", b"full",
]  # fmt: skip
"""Bytes that each broke a reader once (issue 9), or that a format treats specially."""


@st.composite
def _mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` with a few edits: flips, inserts, cuts, repeats and swaps of lines, tokens."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "token", "bytes", "cut", "line", "truncate"]))
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "line":
            lines = bytes(data).split(b"\n")
            i, j = (draw(st.integers(0, len(lines) - 1)) for _ in range(2))
            how = draw(st.sampled_from(["repeat", "swap", "drop"]))
            if how == "repeat":
                lines.insert(j, lines[i])
            elif how == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                del lines[i]
            data = bytearray(b"\n".join(lines))
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


# --- valid files to mutate ---------------------------------------------------------------------


def _rows() -> list[dict[str, Any]]:
    return history()[::6]


@functools.cache
def _valid_csv() -> bytes:
    out = io.StringIO()
    columns = list(_rows()[0])
    out.write(",".join(columns) + "\n")
    for row in _rows():
        out.write(",".join(str(row[c]) for c in columns) + "\n")
    return out.getvalue().encode()


@functools.cache
def _valid_jsonl() -> bytes:
    return "".join(json.dumps(row) + "\n" for row in _rows()).encode()


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@functools.cache
def _valid_parquet() -> bytes:
    rows = _rows()
    return _parquet_bytes(pa.table({c: [r[c] for r in rows] for c in rows[0]}))


@functools.cache
def _made(name: str) -> bytes:
    """A file trustctl writes from the valid log: ``policy.yaml`` or ``evidence.parquet``."""
    with _folder() as folder:
        (folder / "log.csv").write_bytes(_valid_csv())
        if name == "policy.yaml":
            _run("generate", "log.csv", "-o", name)
        else:
            _run("aggregate", "log.csv", "-o", name)
        return (folder / name).read_bytes()


# --- running the CLI ---------------------------------------------------------------------------


@contextmanager
def _folder() -> Iterator[Path]:
    """A fresh working directory for one example."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as name:
        os.chdir(name)
        try:
            yield Path(name)
        finally:
            os.chdir(here)


def _run(*args: str) -> int:
    """Run a command in-process; assert it ends 0 or 2, cleanly, leaving ``out.yaml`` alone
    on 2 and no temporary file either way."""
    out = Path("out.yaml")
    out.write_bytes(SENTINEL)
    before = out.stat().st_ino
    result = CliRunner().invoke(app, list(args))
    where = f"trustctl {' '.join(args)}\n{result.output}"
    assert result.exit_code in (0, 2), where
    assert "Traceback" not in result.output and "internal error" not in result.output, where
    if result.exit_code == 2:
        assert isinstance(result.exception, SystemExit), where
        assert result.stderr.splitlines()[-1].startswith("error: "), where
        notes = ("error: ", "warning: ", "note: ")
        assert all(line.startswith(notes) for line in result.stderr.splitlines()), where
        assert out.read_bytes() == SENTINEL and out.stat().st_ino == before, where
    assert not [p for p in Path.cwd().iterdir() if p.name.endswith(".tmp")], where
    return result.exit_code


def _logs_run(name: str, data: bytes, skip: bool) -> None:
    with _folder() as folder:
        (folder / name).write_bytes(data)
        extra = ["--on-bad-rows", "skip", "--bad-rows-out", "bad.jsonl"] if skip else []
        _run("generate", name, "-o", "out.yaml", *extra)
        _run("validate", name)


Bytes = Callable[[], bytes]


def _either(valid: Bytes) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or a mutation of the valid file."""
    return st.one_of(st.binary(max_size=600), st.deferred(lambda: _mutated(valid())))


# --- the readers -------------------------------------------------------------------------------


@FUZZ
@given(data=_either(_valid_csv), skip=st.booleans())
def test_csv(data: bytes, skip: bool) -> None:
    _logs_run("log.csv", data, skip)


@st.composite
def _gz(draw: st.DrawFn) -> bytes:
    """Mutated text, compressed; or compressed text, then mutated (a corrupt gzip stream)."""
    if draw(st.booleans()):
        return gzip.compress(draw(_either(_valid_csv)), mtime=0)
    return draw(_mutated(gzip.compress(_valid_csv(), mtime=0)))


@FUZZ
@given(data=_gz(), skip=st.booleans())
def test_csv_gz(data: bytes, skip: bool) -> None:
    _logs_run("log.csv.gz", data, skip)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@st.composite
def _jsonl(draw: st.DrawFn) -> bytes:
    """A valid log with some fields replaced by any JSON value, or its text mutated."""
    if draw(st.booleans()):
        return draw(_either(_valid_jsonl))
    rows = [dict(r) for r in _rows()]
    for _ in range(draw(st.integers(1, 3))):
        row = draw(st.sampled_from(rows))
        key = draw(st.sampled_from([*row, "extra"]))
        row[key] = draw(_JSON)
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


@FUZZ
@given(data=_jsonl(), skip=st.booleans())
def test_jsonl(data: bytes, skip: bool) -> None:
    _logs_run("log.jsonl", data, skip)


_ARRAYS = st.sampled_from(
    [
        pa.array([1, 2, None]),
        pa.array([1.5, float("nan"), None]),
        pa.array([True, False, None]),
        pa.array([b"\xff\xfe", b"ok", None], pa.binary()),
        pa.array(["2026-01-01T00:00:00Z", "now", None]),
        pa.array([0, -(2**62), 2**62], pa.timestamp("us", "UTC")),
        pa.array([0, 1, 2], pa.timestamp("ns")),
        pa.array([[1], [], None], pa.list_(pa.int64())),
        pa.array([{"a": 1}, None, {"a": 2}]),
        pa.nulls(3),
        pa.array(["x", "x", "x"]).dictionary_encode(),
    ]
)


@st.composite
def _parquet(draw: st.DrawFn) -> bytes:
    """A table of typed columns (names from the schema, maybe twice), or mutated bytes."""
    if draw(st.booleans()):
        return draw(_either(_valid_parquet))
    base = {c: pa.array([_rows()[0][c]] * 3) for c in _rows()[0]}
    names = draw(st.lists(st.sampled_from([*base, "extra"]), min_size=1, max_size=4))
    columns = list(base.items())
    for name in names:
        columns.append((name, draw(_ARRAYS)))
    return _parquet_bytes(pa.table([a for _, a in columns], names=[n for n, _ in columns]))


@FUZZ
@given(data=_parquet(), skip=st.booleans())
def test_parquet(data: bytes, skip: bool) -> None:
    _logs_run("log.parquet", data, skip)


def _rules_text() -> bytes:
    return (ROOT / "policies" / "rules.yaml").read_bytes()


@FUZZ
@given(data=_either(_rules_text))
def test_rules(data: bytes) -> None:
    with _folder() as folder:
        (folder / "log.csv").write_bytes(_valid_csv())
        (folder / "r.yaml").write_bytes(data)
        _run("validate", "--rules", "r.yaml")
        _run("generate", "log.csv", "--rules", "r.yaml", "-o", "out.yaml")


@FUZZ
@given(data=_either(functools.partial(_made, "policy.yaml")))
def test_policy(data: bytes) -> None:
    with _folder() as folder:
        (folder / "log.csv").write_bytes(_valid_csv())
        (folder / "p.yaml").write_bytes(data)
        _run("validate", "--policy", "p.yaml")
        _run("diff", "p.yaml", "p.yaml")
        _run("generate", "log.csv", "--previous", "p.yaml", "-o", "out.yaml")


@st.composite
def _evidence(draw: st.DrawFn) -> bytes:
    """Evidence with a column or its metadata replaced, or its bytes mutated."""
    valid = _made("evidence.parquet")
    if draw(st.booleans()):
        return draw(_either(lambda: valid))
    table = pq.read_table(io.BytesIO(valid))
    if draw(st.booleans()):
        name = draw(st.sampled_from(table.column_names))
        column = draw(_ARRAYS)
        if len(column) != table.num_rows:
            column = pa.array([column[0].as_py()] * table.num_rows, column.type)
        table = table.set_column(table.column_names.index(name), name, column)
    else:
        meta = table.schema.metadata or {}
        key = next(iter(meta), b"trustctl.evidence")
        text = draw(_mutated(meta.get(key, b"{}")))
        table = table.replace_schema_metadata({key: text})
    return _parquet_bytes(table)


@FUZZ
@given(data=_evidence())
def test_evidence(data: bytes) -> None:
    with _folder() as folder:
        (folder / "e.parquet").write_bytes(data)
        _run("generate", "--evidence", "e.parquet", "-o", "out.yaml")
