"""markdown_cells: a cell, read back by an independent GFM table parser (markdown-it-py,
which rich installs), holds the text as written, on one line, in its own column."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from clirun import ok, run
from conftest import SAMPLE_CSV
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from trustctl.markdown_cells import cell, code

_PARSER = MarkdownIt("commonmark").enable("table")


def _read_row(first: str, second: str) -> list[tuple[str, str]]:
    """The inline tokens of a one-row, two-column table's body: (type, content) each."""
    source = f"| a | b |\n|---|---|\n| {first} | {second} |\n"
    tokens = _PARSER.parse(source)
    assert [t.type for t in tokens].count("td_open") == 2, source
    cells = [t for t in tokens if t.type == "inline"][2:]
    return [(c.type, c.content) for t in cells for c in t.children or []]


def _one_line(text: str) -> str:
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain words", "plain words"),
        ("ci|runners", "ci\\|runners"),
        ("C:\\temp\\*.log", "C:\\\\temp\\\\*.log"),
        ("a\\|b", "a\\\\\\|b"),
        ("two\nlines", "two lines"),
        ("windows\r\nline\rend", "windows line end"),
    ],
)
def test_cell_escapes_what_would_split_the_row_or_be_read_otherwise(
    text: str, escaped: str
) -> None:
    assert cell(text) == escaped
    assert _read_row(cell(text), "x") == [("text", _one_line(text)), ("text", "x")]


def test_cell_leaves_backticks_as_typed() -> None:
    assert cell("`kubectl` said no") == "`kubectl` said no"
    assert _read_row(cell("`kubectl` said no"), "x") == [
        ("code_inline", "kubectl"),
        ("text", " said no"),
        ("text", "x"),
    ]


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("k8s.rollback service=web", "`k8s.rollback service=web`"),
        ("ci|runners", "`ci\\|runners`"),
        ("back\\slash", "`back\\slash`"),
        ("a`b", "``a`b``"),
        ("``x", "``` ``x ```"),
        ("two\nlines", "`two lines`"),
    ],
)
def test_code_is_one_span_holding_the_text(text: str, span: str) -> None:
    assert code(text) == span
    assert _read_row(code(text), "x") == [("code_inline", _one_line(text)), ("text", "x")]


def test_cell_takes_any_value_as_its_text() -> None:
    assert cell(3) == "3"


@given(st.text(alphabet="ab|\\`\n\r *_ ", max_size=12))
def test_any_text_stays_in_its_column(text: str) -> None:
    # Whatever the text, the row keeps two cells: the second one is still "x".
    assert _read_row(cell(text), "x")[-1] == ("text", "x")
    assert _read_row(code(text), "x")[-1] == ("text", "x")


# --- every markdown table the commands write, with a service name that tests the escape --

ODD = "ci|run\\*ners\nx"  # a pipe, a backslash before punctuation, a line break: CSV allows all
RULES = """apiVersion: trustctl/v1
kind: TrustRules
group_by: [action_class, service]
economics:
  review_delay_minutes: 12
  downtime_cost_per_minute: 800
  failure_cost: {minor: 500, major: 20000, critical: 250000}
"""


@pytest.fixture(scope="module")
def odd_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("odd")
    log, rules = folder / "odd.csv", folder / "rules.yaml"
    quoted = '"' + ODD.replace('"', '""') + '"'
    log.write_text(SAMPLE_CSV.read_text(encoding="utf-8").replace("ci-runners", quoted))
    rules.write_text(RULES, encoding="utf-8")
    return log, rules


def _tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cells, each cell the text a reader sees (code spans as text)."""
    tables: list[list[list[str]]] = []
    inside = False
    for token in _PARSER.parse(markdown):
        if token.type in ("table_open", "table_close"):
            inside = token.type == "table_open"
            tables += [[]] if inside else []
        elif inside and token.type == "tr_open":
            tables[-1].append([])
        elif inside and token.type == "inline":
            tables[-1][-1].append("".join(c.content for c in token.children or []))
    return tables


@pytest.mark.parametrize(
    "command",
    [
        ("generate", "--format", "markdown"),
        ("review", "--format", "markdown"),
        ("whatif", "--scenario", "w: window=90d", "--format", "markdown"),
        (
            "whatif",
            "--replay",
            "--since",
            "2026-11-05",
            "--scenario",
            "w: window=90d",
            "--format",
            "markdown",
        ),
    ],
    ids=["generate", "review", "whatif", "replay"],
)
def test_a_name_with_a_pipe_backslash_and_line_break_stays_in_its_cell(
    odd_logs: tuple[Path, Path], command: tuple[str, ...]
) -> None:
    log, rules = odd_logs
    markdown = ok(command[0], log, "--rules", rules, *command[1:]).stdout
    tables = _tables(markdown)
    assert tables
    for table in tables:
        assert len({len(row) for row in table}) == 1, table  # every row has the head's cells
    named = [cell for table in tables for row in table for cell in row if "ci|" in cell]
    assert named
    assert {cell.split("service=")[-1] for cell in named} == {ODD.replace("\n", " ")}


def test_explain_keeps_an_odd_decision_id_reviewer_and_rationale_in_their_cells(
    tmp_path: Path,
) -> None:
    log = tmp_path / "odd.csv"
    text = SAMPLE_CSV.read_text(encoding="utf-8").replace("\nd-0", "\nd|`0")
    log.write_text(text.replace("j.moreau@example.com", "j|moreau\\*"), encoding="utf-8")
    markdown = ok("explain", "k8s.rollback", log, "--format", "markdown").stdout
    tables = _tables(markdown)
    for table in tables:
        assert len({len(row) for row in table}) == 1, table
    rows = [row for table in tables if table[0][0] == "decision" for row in table[1:]]
    assert rows
    assert all(row[0].startswith("d|`0") for row in rows)
    assert "j|moreau\\*" in {row[4] for row in rows}


def test_diff_keeps_an_odd_file_name_in_its_cell(tmp_path: Path) -> None:
    odd = tmp_path / "we|ird\\*.csv"
    odd.write_bytes(SAMPLE_CSV.read_bytes())
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", SAMPLE_CSV, "-o", old)
    ok("generate", odd, "-o", new)
    tables = _tables(ok("diff", old, new, "--format", "markdown").stdout)
    assert tables
    for table in tables:
        assert len({len(row) for row in table}) == 1, table
    added = [row for table in tables for row in table if row[0] == "input added"]
    assert added and added[0][2].startswith(f"{odd} sha256 ")


def test_check_keeps_an_odd_policy_path_in_its_cell(tmp_path: Path) -> None:
    policy = tmp_path / "we|ird`.yaml"
    ok("generate", SAMPLE_CSV, "-o", policy)
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    next(a for a in data["actions"] if a["action_class"] == "k8s.rollback")["level"] = "full"
    policy.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    result = run("check", SAMPLE_CSV, "--policy", policy, "--format", "markdown")
    assert result.exit_code == 1, result.output
    (table,) = _tables(result.stdout)
    assert len({len(row) for row in table}) == 1, table
    assert [row[1] for row in table[1:]] == [str(policy)] * (len(table) - 1)
