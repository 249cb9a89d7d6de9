"""Ingest: every format reads the same, event rows merge, bad input is refused with FILE:LINE."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from conftest import START, LogFiles, Row, row

from trustctl.errors import InputError
from trustctl.ingest import find_logs, load_decisions
from trustctl.levels import Level
from trustctl.schema import HUMAN_CODES, OUTCOME_CODES, SEVERITY_CODES


def _load(*paths: Path, on_bad_rows: Any = "fail") -> pd.DataFrame:
    return load_decisions(list(paths), on_bad_rows).frame


def _error(*paths: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_decisions(list(paths))
    return str(caught.value)


def _mixed_rows() -> list[Row]:
    """Event rows with gaps: proposals, verdicts and outcomes of a few decisions."""
    return [
        row("d1", day=0, human_decision="", outcome="", rationale="first, with a comma"),
        row("d2", day=1, action_class="k8s.rollback", human_decision="rejected", executed="false",
            outcome="", system_tier="", ai_confidence="", rationale='said "no"'),
        row("d1", day=0.5, human_decision="approved", outcome="", reviewer="", ai_confidence=""),
        row("d3", day=2, action_class="db.failover", mode="auto_notify", human_decision="timeout",
            outcome="failure", severity="critical", risk_tier="3", system_tier="3"),
        row("d1", day=0.7, human_decision="", outcome="success", reviewer="", ai_confidence=""),
    ]  # fmt: skip


# --- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["d.csv.gz", "d.jsonl", "d.ndjson", "d.jsonl.gz", "d.ndjson.gz", "d.parquet"]
)
def test_every_format_gives_the_same_decisions(logs: LogFiles, name: str) -> None:
    rows = _mixed_rows()
    expected = _load(logs.csv(rows))
    if name.endswith(".parquet"):
        other = logs.parquet(rows, name)
    elif ".csv" in name:
        other = logs.csv(rows, name=name)
    else:
        other = logs.jsonl(rows, name=name)
    pd.testing.assert_frame_equal(_load(other), expected)
    assert len(expected) == 3


def test_merged_frame_has_the_documented_types(logs: LogFiles) -> None:
    frame = _load(logs.csv(_mixed_rows())).set_index("decision_id")
    d1, d2, d3 = frame.loc["d1"], frame.loc["d2"], frame.loc["d3"]
    assert d1["human_decision"] == HUMAN_CODES["approved"]
    assert d1["outcome"] == OUTCOME_CODES["success"]
    assert d1["reviewer"] == "alice"
    assert d1["rationale"] == "first, with a comma"
    assert d1["mode"] == Level.SUGGEST.rank
    assert bool(d2["executed"]) is False
    assert d2["rationale"] == 'said "no"'
    assert d2["system_tier"] == 0, "an absent tier is 0"
    assert d2["risk_tier"] == 0
    assert math.isnan(d2["ai_confidence"])
    assert d3["severity"] == SEVERITY_CODES["critical"]
    assert d3["mode"] == Level.AUTO_NOTIFY.rank
    assert (d3["system_tier"], d3["risk_tier"]) == (3, 3)
    assert d1["ai_confidence"] == pytest.approx(0.9)
    assert str(frame["timestamp"].dtype).startswith("datetime64") and frame["timestamp"].dt.tz


def test_typed_parquet_reads_like_text(logs: LogFiles) -> None:
    """Integers, booleans, floats and real timestamps (any unit, any zone) read as their text."""
    base = dt.datetime(2026, 1, 1, 12, 0, 5, 250000)
    text_rows = [
        row("p1", executed="true", system_tier="2", risk_tier="1", ai_confidence="0.75",
            timestamp="2026-01-01T12:00:05.25Z"),
        row("p2", executed="false", outcome="", human_decision="rejected", system_tier="",
            risk_tier="", ai_confidence="", timestamp="2026-01-01T13:00:05.25Z"),
    ]  # fmt: skip
    fields = {
        "decision_id": pa.array(["p1", "p2"]),
        "action_class": pa.array(["k8s.restart_pod"] * 2),
        "mode": pa.array(["suggest"] * 2).dictionary_encode(),
        "human_decision": pa.array(["approved", "rejected"]),
        "executed": pa.array([True, False]),
        "outcome": pa.array(["success", None]),
        "severity": pa.array([None, None], pa.string()),
        "service": pa.array(["checkout"] * 2, pa.large_string()),
        "system_tier": pa.array([2, None], pa.int64()),
        "risk_tier": pa.array([1, None], pa.int8()),
        "agent_version": pa.array(["agent-1.0"] * 2),
        "ai_confidence": pa.array([0.75, None], pa.float64()),
        "reviewer": pa.array(["alice"] * 2),
        "rationale": pa.array(["", ""]),
        "incident_id": pa.array(["", ""]),
    }
    expected = _load(logs.csv(text_rows))
    for unit, tz in [("us", "UTC"), ("ns", "UTC"), ("ms", "Europe/Berlin"), ("us", "+05:30")]:
        stamps = pa.array(
            [base.replace(tzinfo=dt.timezone.utc), (base + dt.timedelta(hours=1)).replace(
                tzinfo=dt.timezone.utc)], pa.timestamp(unit, tz=tz)
        )  # fmt: skip
        table = pa.table({"timestamp": stamps, **fields})
        decisions = load_decisions([logs.parquet(table, f"typed-{unit}-{tz[:3]}.parquet")])
        pd.testing.assert_frame_equal(decisions.frame, expected)
        assert decisions.report.naive_timestamps == 0


def test_naive_parquet_timestamps_are_utc_and_counted(logs: LogFiles) -> None:
    stamps = pa.array([dt.datetime(2026, 1, 1, 12)], pa.timestamp("s"))
    table = (
        pa.table({"timestamp": stamps})
        .append_column("decision_id", pa.array(["n1"]))
        .append_column("action_class", pa.array(["a"]))
        .append_column("mode", pa.array(["suggest"]))
        .append_column("executed", pa.array([1], pa.int32()))
    )
    decisions = load_decisions([logs.parquet(table, "naive.parquet")])
    assert decisions.report.naive_timestamps == 1
    assert decisions.frame["timestamp"].iat[0] == pd.Timestamp("2026-01-01T12:00:00Z")
    assert bool(decisions.frame["executed"].iat[0]) is True


def test_directories_are_expanded_sorted_and_recursive(logs: LogFiles, tmp_path: Path) -> None:
    logs.csv([row("c")], name="b.csv")
    logs.jsonl([row("a")], name="a/z.jsonl")
    logs.parquet([row("p")], name="sub/deeper/c.parquet")
    logs.text("notes.txt", "not a log")
    logs.csv([row("g")], name="a.csv.gz")
    found = find_logs([tmp_path / "logs"])
    assert [p.relative_to(tmp_path / "logs").as_posix() for p in found] == [
        "a.csv.gz",
        "a/z.jsonl",
        "b.csv",
        "sub/deeper/c.parquet",
    ]
    decisions = load_decisions([tmp_path / "logs"])
    assert [Path(f.path).name for f in decisions.report.files] == [
        "a.csv.gz",
        "z.jsonl",
        "b.csv",
        "c.parquet",
    ]
    assert sorted(decisions.frame["decision_id"]) == ["a", "c", "g", "p"]


def test_a_file_given_twice_is_read_once(logs: LogFiles) -> None:
    path = logs.csv([row("x")])
    assert load_decisions([path, path, path.parent]).report.rows == 1


def test_unknown_extension_is_an_error(logs: LogFiles) -> None:
    path = logs.text("decisions.txt", "decision_id\n")
    message = _error(path)
    assert str(path) in message and "unknown log format" in message


def test_missing_path_and_empty_directory_are_errors(tmp_path: Path) -> None:
    assert "no such file or directory" in _error(tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    assert "no decision logs" in _error(tmp_path / "empty")


# --- merging event rows ----------------------------------------------------------------------


def test_event_rows_merge_field_by_field(logs: LogFiles) -> None:
    proposal = {
        "decision_id": "m1",
        "timestamp": "2026-01-02T00:00:00Z",
        "action_class": "k8s.rollback",
        "mode": "suggest",
        "executed": "",
        "service": "api",
    }
    verdict = {
        "decision_id": "m1",
        "timestamp": "2026-01-02T00:05:00Z",
        "human_decision": "approved",
        "reviewer": "bob",
        "executed": "true",
    }
    result = {
        "decision_id": "m1",
        "timestamp": "2026-01-01T23:59:00+00:00",
        "outcome": "success",
        "action_class": "k8s.rollback",
        "ai_confidence": "0.8",
    }
    path = logs.csv([proposal, verdict, result])
    decisions = load_decisions([path])
    frame = decisions.frame
    assert len(frame) == 1 and decisions.report.rows == 3 and decisions.report.decisions == 1
    merged = frame.iloc[0]
    assert merged["timestamp"] == pd.Timestamp("2026-01-01T23:59:00Z"), "the earliest row's time"
    assert merged["human_decision"] == HUMAN_CODES["approved"]
    assert merged["outcome"] == OUTCOME_CODES["success"]
    assert bool(merged["executed"]) is True
    assert (merged["service"], merged["reviewer"]) == ("api", "bob")
    assert merged["ai_confidence"] == pytest.approx(0.8)
    assert decisions.report.files[0].decisions == 1 and decisions.report.files[0].rows == 3


def test_the_same_value_repeated_is_not_a_conflict(logs: LogFiles) -> None:
    rows = [
        row("r1", day=0, executed="true", mode="auto-notify", ai_confidence="0.5"),
        row("r1", day=1, executed="YES", mode="auto_notify", ai_confidence="0.50"),
        row("r1", day=2, executed="1", mode="", ai_confidence=""),
    ]
    frame = _load(logs.csv(rows))
    assert len(frame) == 1
    assert frame["mode"].iat[0] == Level.AUTO_NOTIFY.rank


@pytest.mark.parametrize(
    ("column", "first", "second"),
    [
        ("human_decision", "approved", "rejected"),
        ("executed", "true", "no"),
        ("outcome", "success", "failure"),
        ("reviewer", "alice", "bob"),
        ("action_class", "k8s.restart_pod", "k8s.scale"),
        ("system_tier", "1", "2"),
        ("ai_confidence", "0.5", "0.6"),
    ],
)
def test_two_different_values_conflict_at_the_later_row(
    logs: LogFiles, column: str, first: str, second: str
) -> None:
    rows = [
        row("ok", day=0),
        row("c1", day=1, **{column: first}),
        row("other", day=2),
        row("c1", day=3, **{column: ""}),
        row("c1", day=4, **{column: second}),
    ]
    path = logs.csv(rows)
    message = _error(path)
    assert message.startswith(f"{path}:6: column '{column}': "), message
    assert repr(second) in message and repr(first) in message and "'c1'" in message
    assert message.count("\n") == 0, "one conflict, one message"


def test_decision_ids_of_different_files_merge(logs: LogFiles) -> None:
    header = list(row("x"))
    a = logs.csv([row("x", day=1, outcome="")], name="a.csv")
    event = {"decision_id": "x", "timestamp": "2026-01-05T00:00:00Z", "outcome": "failure"}
    b = logs.csv([event], name="b.csv", columns=header)
    frame = _load(a, b)
    assert len(frame) == 1 and frame["outcome"].iat[0] == OUTCOME_CODES["failure"]
    assert frame["timestamp"].iat[0] == pd.Timestamp("2026-01-02T00:00:00Z")
    c = logs.csv([{**event, "outcome": "success"}], name="c.csv", columns=header)
    assert _error(a, b, c).startswith(
        f"{c}:2: column 'outcome': 'success' conflicts with 'failure'"
    )


# --- bad input ---------------------------------------------------------------------------------

BAD_VALUES = [
    ("timestamp", "yesterday", "'yesterday' is not an ISO-8601 timestamp"),
    ("timestamp", "2026-02-30T00:00:00Z", "is not an ISO-8601 timestamp"),
    ("timestamp", "", "empty; a timestamp is required"),
    ("mode", "autonomous", "'autonomous' is not one of observe, suggest, auto_notify, full"),
    ("human_decision", "ok", "'ok' is not one of approved, rejected"),
    ("executed", "maybe", "'maybe' is not true/false"),
    ("executed", "", "empty in every row of the decision; it is required"),
    ("outcome", "done", "'done' is not one of success, failure, unknown"),
    ("severity", "high", "'high' is not one of minor, major, critical"),
    ("system_tier", "5", "'5' is not a system tier 1..4"),
    ("system_tier", "two", "'two' is not a system tier 1..4"),
    ("risk_tier", "0", "'0' is not a risk tier 1..3"),
    ("ai_confidence", "1.5", "'1.5' is not a number in [0, 1]"),
    ("ai_confidence", "high", "'high' is not a number in [0, 1]"),
    ("action_class", "k8s rollback", "'k8s rollback' must match [A-Za-z0-9._:/-]{1,200}"),
    ("action_class", "x" * 201, "must match"),
    ("action_class", "", "empty in every row of the decision; it is required"),
    ("mode", "", "empty in every row of the decision; it is required"),
    ("decision_id", "", "empty; an id is required"),
]


@pytest.mark.parametrize(("column", "value", "expected"), BAD_VALUES)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_bad_value_names_file_line_and_column(
    logs: LogFiles, fmt: str, column: str, value: str, expected: str
) -> None:
    rows = [row("a", day=0), row("b", day=1), {**row("c", day=2), column: value}]
    path = logs.csv(rows) if fmt == "csv" else logs.jsonl(rows)
    line = 4 if fmt == "csv" else 3
    message = _error(path)
    assert message.startswith(f"{path}:{line}: column '{column}': "), message
    assert expected in message
    assert message.count("\n") == 0, f"exactly one error expected: {message}"


def test_parquet_errors_name_the_row_index(logs: LogFiles) -> None:
    rows = [row("a"), row("b"), row("c", executed="maybe")]
    path = logs.parquet(rows, "bad.parquet")
    assert _error(path) == f"{path}:row 2: column 'executed': 'maybe' is not true/false"


def test_outcome_of_an_action_that_was_not_executed(logs: LogFiles) -> None:
    rows = [row("a"), row("b", executed="false", outcome="unknown"), row("c", executed="false")]
    path = logs.csv(rows)
    message = _error(path)
    assert message.startswith(f"{path}:4: column 'outcome': ")
    assert "executed=false" in message and message.count("\n") == 0


def test_outcome_of_an_unexecuted_action_in_a_later_event_row(logs: LogFiles) -> None:
    rows = [row("a", executed="no", outcome=""), row("a", day=1, executed="", outcome="failure")]
    path = logs.csv(rows)
    assert _error(path).startswith(f"{path}:3: column 'outcome': ")


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_missing_required_column(logs: LogFiles, fmt: str) -> None:
    rows = [{k: v for k, v in row("a").items() if k != "executed"}]
    if fmt == "csv":
        path, where = logs.csv(rows), "1"
    elif fmt == "jsonl":
        path, where = logs.jsonl(rows), "1"
    else:
        path, where = logs.parquet(rows, "a.parquet"), "row 0"
    assert _error(path) == f"{path}:{where}: missing required column 'executed'"


def test_header_only_and_empty_files_are_empty_input(logs: LogFiles) -> None:
    header = logs.csv([], columns=list(row("a")))
    message = _error(header)
    assert message.startswith(f"{header}:") and "no decisions" in message
    blank = logs.text("blank.jsonl", "\n\n")
    assert "no decisions" in _error(blank) and str(blank) in _error(blank)
    nothing = logs.text("nothing.csv", "")
    assert _error(nothing) == f"{nothing}:1: empty file, expected a header row"


def test_one_empty_file_among_others_is_fine(logs: LogFiles) -> None:
    full = logs.csv([row("a")], name="a.csv")
    empty = logs.csv([], name="b.csv", columns=list(row("a")))
    decisions = load_decisions([full, empty])
    assert [f.rows for f in decisions.report.files] == [1, 0]


def test_line_numbers_count_embedded_newlines(logs: LogFiles) -> None:
    rows = [
        row("a", rationale="line one\nline two\nline three"),
        row("b", rationale="also\r\ntwo lines"),
        row("c", executed="maybe"),
    ]
    path = logs.csv(rows)
    # header 1, a on 2-4, b on 5-6, c on 7
    assert _error(path) == f"{path}:7: column 'executed': 'maybe' is not true/false"


def test_very_long_fields_do_not_break_line_numbers(logs: LogFiles) -> None:
    long_text = "x" * 300_000 + "\n" + "y" * 10
    path = logs.csv([row("a", rationale=long_text), row("b", mode="boss")])
    assert _error(path).startswith(f"{path}:4: column 'mode': 'boss'")
    decisions = load_decisions([path], on_bad_rows="skip")
    assert decisions.frame["rationale"].iat[0] == long_text
    assert decisions.bad_rows[0].record["mode"] == "boss"


def test_jsonl_line_numbers_skip_blank_lines(logs: LogFiles) -> None:
    import json

    good = json.dumps(row("a"))
    bad = json.dumps(row("b", severity="awful"))
    path = logs.text("d.jsonl", f"\n{good}\n\n   \n{bad}\n\n")
    assert _error(path) == (
        f"{path}:5: column 'severity': 'awful' is not one of minor, major, critical or empty"
    )


def test_jsonl_syntax_errors_and_non_objects(logs: LogFiles) -> None:
    import json

    broken = logs.text("broken.jsonl", json.dumps(row("a")) + "\n{not json\n")
    assert _error(broken).startswith(f"{broken}:2: not valid JSON")
    listed = logs.text("listed.jsonl", "[1, 2]\n")
    assert _error(listed) == f"{listed}:1: expected a JSON object"
    nested = logs.text("nested.jsonl", json.dumps({**row("a"), "service": {"x": 1}}) + "\n")
    assert _error(nested).startswith(f"{nested}:1: column 'service': expected a string")


def test_ragged_csv_row_names_its_line(logs: LogFiles) -> None:
    path = logs.text(
        "ragged.csv",
        "decision_id,timestamp,action_class,mode,executed\n"
        "a,2026-01-01T00:00:00Z,k8s.scale,suggest,true\n"
        "b,2026-01-01T00:00:00Z\n",
    )
    message = _error(path)
    assert message.startswith(f"{path}:3: ") and "5" in message and "2" in message


def test_a_utf8_byte_order_mark_is_not_part_of_the_header(logs: LogFiles) -> None:
    text = "decision_id,timestamp,action_class,mode,executed\na,2026-01-01T00:00:00Z,x,full,1\n"
    path = logs.text("bom.csv", "\ufeff" + text)
    assert list(_load(path)["decision_id"]) == ["a"]
    import json

    jsonl = logs.text("bom.jsonl", "\ufeff" + json.dumps(row("j")) + "\n")
    assert list(_load(jsonl)["decision_id"]) == ["j"]


def test_rows_with_empty_ids_are_not_merged_with_each_other(logs: LogFiles) -> None:
    rows = [row("", mode="full"), row("ok"), row("", mode="suggest", executed="false", outcome="")]
    path = logs.csv(rows)
    message = _error(path)
    assert message.splitlines() == [
        f"{path}:2: column 'decision_id': empty; an id is required",
        f"{path}:4: column 'decision_id': empty; an id is required",
    ]


def test_an_invalid_value_is_reported_once(logs: LogFiles) -> None:
    path = logs.csv([row("a", mode="boss", executed="perhaps")])
    assert _error(path).splitlines() == [
        f"{path}:2: column 'mode': 'boss' is not one of observe, suggest, auto_notify, full",
        f"{path}:2: column 'executed': 'perhaps' is not true/false",
    ]


def test_many_errors_list_twenty_and_count_the_rest(logs: LogFiles) -> None:
    rows = [row(f"r{i:02d}", executed="maybe", severity="x" if i < 5 else "") for i in range(30)]
    path = logs.csv(rows)
    lines = _error(path).splitlines()
    assert len(lines) == 21
    assert lines[-1] == "... and 15 more"  # 30 executed + 5 severity errors, 20 shown
    assert lines[0] == f"{path}:2: column 'executed': 'maybe' is not true/false"
    assert (
        lines[1]
        == f"{path}:2: column 'severity': 'x' is not one of minor, major, critical or empty"
    )
    assert all(line.startswith(f"{path}:") for line in lines[:-1])


def test_many_bad_timestamps_are_all_counted(logs: LogFiles) -> None:
    rows = [row(f"t{i:02d}", timestamp=f"day {i}") for i in range(40)]
    path = logs.csv(rows)
    with pytest.raises(InputError) as caught:
        load_decisions([path])
    assert caught.value.total == 40
    assert str(caught.value).splitlines()[-1] == "... and 20 more"


# --- accepted spellings and time zones ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("TRUE", True), ("True", True), ("1", True), ("yes", True), ("Yes", True),
     ("false", False), ("False", False), ("0", False), ("no", False), ("NO", False)],
)  # fmt: skip
def test_executed_spellings(logs: LogFiles, text: str, value: bool) -> None:
    frame = _load(logs.csv([row("a", executed=text, outcome="success" if value else "")]))
    assert bool(frame["executed"].iat[0]) is value


def test_naive_and_offset_timestamps(logs: LogFiles) -> None:
    rows = [
        row("z", timestamp="2026-03-01T10:00:00Z"),
        row("plus", timestamp="2026-03-01T12:00:00+02:00"),
        row("minus", timestamp="2026-03-01T05:00:00-0500"),
        row("naive", timestamp="2026-03-01T10:00:00"),
        row("date", timestamp="2026-03-01"),
        row("frac", timestamp="2026-03-01T10:00:00.5"),
    ]
    decisions = load_decisions([logs.csv(rows)])
    times = dict(zip(decisions.frame["decision_id"], decisions.frame["timestamp"], strict=True))
    ten = pd.Timestamp("2026-03-01T10:00:00Z")
    assert times["z"] == times["plus"] == times["minus"] == times["naive"] == ten
    assert times["date"] == pd.Timestamp("2026-03-01T00:00:00Z")
    assert times["frac"] == ten + pd.Timedelta(milliseconds=500)
    assert decisions.report.naive_timestamps == 3


def test_rows_come_out_sorted_by_time(logs: LogFiles) -> None:
    rows = [row("late", day=5), row("early", day=1), row("b", day=3), row("a", day=3)]
    assert list(_load(logs.csv(rows))["decision_id"]) == ["early", "a", "b", "late"]


# --- skipping bad decisions ----------------------------------------------------------------------


def test_skip_leaves_out_every_row_of_a_bad_decision(logs: LogFiles) -> None:
    rows = [
        {**row("good1", day=0), "ticket": "T-1"},
        {**row("bad", day=1, outcome=""), "ticket": "T-2"},
        {**row("good2", day=2), "ticket": "T-3"},
        {**row("bad", day=3, human_decision="", executed="", outcome="great"), "ticket": "T-4"},
        {**row("worse", day=4, system_tier="9"), "ticket": "T-5"},
    ]
    path = logs.csv(rows)
    decisions = load_decisions([path], on_bad_rows="skip")
    assert list(decisions.frame["decision_id"]) == ["good1", "good2"]
    report = decisions.report
    assert (report.skipped_decisions, report.skipped_rows) == (2, 3)
    assert (report.rows, report.decisions) == (5, 2)
    by_location = {b.location: b for b in decisions.bad_rows}
    assert sorted(by_location) == [f"{path}:3", f"{path}:5", f"{path}:6"]
    untouched = by_location[f"{path}:3"]
    assert untouched.errors == ("another row of this decision is bad",)
    assert untouched.record["ticket"] == "T-2", "columns outside the schema are kept"
    assert untouched.record == {k: str(v) for k, v in rows[1].items()}
    great = by_location[f"{path}:5"]
    assert great.errors == (
        "column 'outcome': 'great' is not one of success, failure, unknown or empty",
    )
    assert great.record["outcome"] == "great" and great.record["executed"] == ""
    assert by_location[f"{path}:6"].record["system_tier"] == "9"


def test_skip_keeps_original_json_and_parquet_records(logs: LogFiles) -> None:
    bad = {**row("j", executed="maybe"), "extra": {"nested": [1, 2]}, "count": 3}
    jsonl = logs.jsonl([row("ok"), bad])
    parquet = logs.parquet(
        [{**row("ok2"), "extra": "y"}, {**row("p", risk_tier="7"), "extra": "x"}], "p.parquet"
    )
    decisions = load_decisions([jsonl, parquet], on_bad_rows="skip")
    assert sorted(decisions.frame["decision_id"]) == ["ok", "ok2"]
    records = {b.location: b.record for b in decisions.bad_rows}
    assert records[f"{jsonl}:2"] == bad
    assert records[f"{parquet}:row 1"]["extra"] == "x"
    assert records[f"{parquet}:row 1"]["risk_tier"] == "7"


def test_skip_with_nothing_left_is_still_an_error(logs: LogFiles) -> None:
    path = logs.csv([row("a", executed="maybe")])
    with pytest.raises(InputError, match="'maybe' is not true/false"):
        load_decisions([path], on_bad_rows="skip")


def test_skip_counts_nothing_on_clean_input(logs: LogFiles) -> None:
    decisions = load_decisions([logs.csv([row("a"), row("b")])], on_bad_rows="skip")
    assert decisions.bad_rows == ()
    assert (decisions.report.skipped_decisions, decisions.report.skipped_rows) == (0, 0)


def test_row_order_does_not_change_the_frame(logs: LogFiles) -> None:
    rows = _mixed_rows()
    forward = _load(logs.csv(rows, name="f.csv"))
    order = np.random.default_rng(3).permutation(len(rows))
    shuffled = _load(logs.csv([rows[i] for i in order], name="s.csv"))
    pd.testing.assert_frame_equal(forward, shuffled)


def test_skip_with_an_empty_id_keeps_each_decision_its_own_values(logs: LogFiles) -> None:
    rows = [
        row("", mode="full"),
        row("ok", mode="observe", human_decision="", executed="false", outcome=""),
    ]
    decisions = load_decisions([logs.csv(rows)], on_bad_rows="skip")
    assert list(decisions.frame["decision_id"]) == ["ok"]
    assert decisions.frame["mode"].iat[0] == Level.OBSERVE.rank
    assert bool(decisions.frame["executed"].iat[0]) is False


# --- recorded_at -------------------------------------------------------------------------------


def test_recorded_at_is_the_latest_row_and_timestamp_the_earliest(logs: LogFiles) -> None:
    rows = [
        row("e", day=1, human_decision="", outcome=""),
        row("e", day=3, human_decision="", outcome="failure", severity="critical"),
        row("e", day=2, human_decision="approved", outcome=""),
        row("single", day=5),
    ]
    frame = _load(logs.csv(rows)).set_index("decision_id")
    assert list(frame.columns[:2]) == ["timestamp", "recorded_at"]
    assert str(frame["recorded_at"].dtype) == "datetime64[us, UTC]"
    assert frame.at["e", "timestamp"] == pd.Timestamp("2026-01-02T00:00:00Z")
    assert frame.at["e", "recorded_at"] == pd.Timestamp("2026-01-04T00:00:00Z")
    assert frame.at["single", "recorded_at"] == frame.at["single", "timestamp"]


# --- until: the decisions as known at a moment -------------------------------------------------


def _until(day: float) -> dt.datetime:
    return START + dt.timedelta(days=day)


def test_until_leaves_out_later_rows_before_merging(logs: LogFiles) -> None:
    rows = [
        row("a", day=0, human_decision="", outcome="", reviewer=""),
        row("a", day=0.5, human_decision="approved", outcome="", reviewer="bob"),
        row("a", day=2, human_decision="", outcome="failure", severity="critical", reviewer=""),
        row("later", day=3),
        row("later", day=4, outcome="success"),
        row("early", day=1),
    ]
    path = logs.csv(rows)
    decisions = load_decisions([path], until=_until(1))
    frame = decisions.frame.set_index("decision_id")
    assert list(frame.index) == ["a", "early"]
    assert frame.at["a", "outcome"] == -1, "the outcome recorded after until is not known"
    assert frame.at["a", "severity"] == -1
    assert frame.at["a", "human_decision"] == HUMAN_CODES["approved"]
    assert frame.at["a", "reviewer"] == "bob"
    assert frame.at["a", "recorded_at"] == pd.Timestamp("2026-01-01T12:00:00Z")
    assert frame.at["early", "recorded_at"] == pd.Timestamp(_until(1)), "until is inclusive"
    report = decisions.report
    assert (report.rows, report.decisions) == (6, 2)
    assert (report.rows_after_until, report.decisions_after_until) == (3, 1)
    assert [(f.rows, f.decisions) for f in report.files] == [(6, 3)], "what the file holds"
    everything = load_decisions([path]).report
    assert (everything.rows_after_until, everything.decisions_after_until) == (0, 0)
    assert (
        load_decisions([path]).frame.set_index("decision_id").at["a", "outcome"]
        == (OUTCOME_CODES["failure"])
    )


def test_until_without_a_zone_is_utc(logs: LogFiles) -> None:
    path = logs.csv([row("a", day=0), row("b", day=1)])
    naive = load_decisions([path], until=dt.datetime(2026, 1, 1, 23, 59))
    berlin = dt.timezone(dt.timedelta(hours=1))
    aware = load_decisions([path], until=dt.datetime(2026, 1, 2, 0, 59, tzinfo=berlin))
    assert list(naive.frame["decision_id"]) == list(aware.frame["decision_id"]) == ["a"]


def test_until_still_validates_every_row(logs: LogFiles) -> None:
    bad_later = logs.csv([row("a", day=0), row("b", day=5, executed="maybe")], name="bad.csv")
    assert (
        _error_until(bad_later, 1) == f"{bad_later}:3: column 'executed': 'maybe' is not true/false"
    )
    conflict = logs.csv(
        [row("a", day=0, outcome="success"), row("a", day=5, outcome="failure")], name="c.csv"
    )
    assert _error_until(conflict, 1).startswith(
        f"{conflict}:3: column 'outcome': 'failure' conflicts with 'success'"
    )


def _error_until(path: Path, day: float) -> str:
    with pytest.raises(InputError) as caught:
        load_decisions([path], until=_until(day))
    return str(caught.value)


def test_until_skips_a_decision_whose_later_row_is_bad(logs: LogFiles) -> None:
    rows = [row("a", day=0), row("a", day=5, outcome="great"), row("b", day=0), row("c", day=6)]
    path = logs.csv(rows)
    decisions = load_decisions([path], on_bad_rows="skip", until=_until(1))
    assert list(decisions.frame["decision_id"]) == ["b"]
    report = decisions.report
    assert (report.skipped_decisions, report.skipped_rows) == (1, 2)
    assert (report.rows_after_until, report.decisions_after_until) == (2, 1)
    assert sorted(b.location for b in decisions.bad_rows) == [f"{path}:2", f"{path}:3"]


def test_until_leaves_out_a_decision_whose_required_field_comes_later(logs: LogFiles) -> None:
    rows = [
        row("pending", day=0, human_decision="", executed="", outcome=""),
        row("pending", day=2, human_decision="approved", executed="true", outcome=""),
        row("done", day=0),
    ]
    decisions = load_decisions([logs.csv(rows)], until=_until(1))
    assert list(decisions.frame["decision_id"]) == ["done"]
    assert (decisions.report.rows_after_until, decisions.report.decisions_after_until) == (1, 1)


def test_until_before_every_row_gives_no_decisions(logs: LogFiles) -> None:
    path = logs.csv(_mixed_rows())
    decisions = load_decisions([path], until=_until(-1))
    assert decisions.frame.empty
    expected = load_decisions([path]).frame
    pd.testing.assert_series_equal(decisions.frame.dtypes, expected.dtypes)
    assert (decisions.report.decisions, decisions.report.decisions_after_until) == (0, 3)
    assert decisions.report.rows_after_until == 5


def test_until_after_every_row_changes_nothing(logs: LogFiles) -> None:
    path = logs.csv(_mixed_rows())
    pd.testing.assert_frame_equal(
        load_decisions([path], until=_until(30)).frame, load_decisions([path]).frame
    )


# --- JSON numbers and keys ---------------------------------------------------------------------


def test_a_key_given_twice_in_a_json_object_is_an_error(logs: LogFiles) -> None:
    import json

    first = json.dumps(row("a"))
    twice = json.dumps(row("b"))[:-1] + ', "outcome": "failure"}'
    path = logs.text("twice.jsonl", f"{first}\n{twice}\n")
    assert _error(path) == f"{path}:2: key 'outcome' appears twice"


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_an_integral_float_tier_is_that_integer(logs: LogFiles, fmt: str) -> None:
    rows = [row("a", system_tier=2.0, risk_tier=3.0), row("b", system_tier=4, risk_tier=1)]
    path = logs.jsonl(rows) if fmt == "jsonl" else logs.parquet(rows, "t.parquet")
    frame = _load(path).set_index("decision_id")
    assert (frame.at["a", "system_tier"], frame.at["a", "risk_tier"]) == (2, 3)
    assert (frame.at["b", "system_tier"], frame.at["b", "risk_tier"]) == (4, 1)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_fractional_tier_is_an_error(logs: LogFiles, fmt: str) -> None:
    rows = [row("a", system_tier=1.0), row("b", system_tier=2.5)]
    path = logs.jsonl(rows) if fmt == "jsonl" else logs.parquet(rows, "t.parquet")
    where = "2" if fmt == "jsonl" else "row 1"
    assert _error(path) == f"{path}:{where}: column 'system_tier': '2.5' is not a system tier 1..4"


def test_json_numbers_read_like_parquet_numbers(logs: LogFiles) -> None:
    rows = [
        row("a", ai_confidence=0.25, system_tier=1.0, executed=1, incident_id=1e20),
        row("b", ai_confidence=1, system_tier=3, executed=0, outcome="", incident_id=12.5),
    ]
    pd.testing.assert_frame_equal(_load(logs.jsonl(rows)), _load(logs.parquet(rows, "n.parquet")))


# --- many conflicts, and how often the error path reads a file ---------------------------------


def test_many_conflicts_list_twenty_and_count_the_rest(logs: LogFiles) -> None:
    rows = [row(f"c{i:02d}", day=i, outcome="success") for i in range(25)]
    rows += [row(f"c{i:02d}", day=i + 0.5, outcome="", reviewer="") for i in range(25)]
    rows += [row(f"c{i:02d}", day=i + 0.7, outcome="failure") for i in range(25)]
    path = logs.csv(rows)
    with pytest.raises(InputError) as caught:
        load_decisions([path])
    lines = str(caught.value).splitlines()
    assert caught.value.total == 25
    assert lines[0] == (
        f"{path}:52: column 'outcome': 'failure' conflicts with 'success' given earlier "
        "for decision 'c00'"
    )
    assert lines[-1] == "... and 5 more"


@pytest.mark.parametrize("on_bad_rows", ["fail", "skip"])
def test_the_error_path_reads_each_file_once(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch, on_bad_rows: Any
) -> None:
    import trustctl.ingest.textfile

    opened: list[Path] = []
    real = trustctl.ingest.textfile.open_text

    def counting(path: Path) -> Any:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(trustctl.ingest.textfile, "open_text", counting)
    bad = logs.csv([row("a", mode="boss"), row("b"), row("c", executed="maybe")], name="bad.csv")
    good = logs.csv([row("d")], name="good.csv")
    if on_bad_rows == "skip":
        decisions = load_decisions([bad, good], on_bad_rows="skip")
        assert len(decisions.bad_rows) == 2
    else:
        _error(bad, good)
    assert opened.count(bad) == 2, "the header when reading, then once to find the lines"
    assert opened.count(good) == 1
    opened.clear()
    with pytest.raises(InputError):
        load_decisions([logs.csv([row("x", mode="boss")], name="all.csv")], on_bad_rows="skip")
    assert len(opened) == 2


def test_ingest_validates_without_assert() -> None:
    """``python -O`` removes asserts: validation and narrowing must be explicit code."""
    import ast
    import importlib
    import inspect
    import pkgutil

    import trustctl.ingest

    for info in pkgutil.iter_modules(trustctl.ingest.__path__, "trustctl.ingest."):
        module = importlib.import_module(info.name)
        tree = ast.parse(inspect.getsource(module))
        asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
        assert asserts == [], f"{module.__name__}: assert on lines {asserts}"


def test_a_timestamp_outside_1970_to_2200_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "y.csv"
    path.write_text(
        "decision_id,timestamp,action_class,mode,executed\n"
        "a,2026-01-01T00:00:00Z,k8s.scale,suggest,true\n"
        "b,2300-01-01T00:00:00Z,k8s.scale,suggest,true\n"
    )
    with pytest.raises(InputError, match=r"y\.csv:3: column 'timestamp': .* outside the years"):
        load_decisions([path])


# --- the fast paths (batches, Arrow's times, ids as numbers) read as the exact ones -------------


def _ids(scheme: str, count: int) -> list[str]:
    rng = np.random.default_rng(11)
    letters = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))

    def random(width: int) -> list[str]:
        return ["".join(rng.choice(letters, width)) for _ in range(count)]

    return {
        "short": [f"{i:04x}" for i in range(count)],
        "eight bytes": [f"id{i:06d}" for i in range(count)],
        "shared prefix": [f"d-{i:07d}" for i in range(count)],
        "random 12": random(12),
        "random 16": random(16),
        "uuid": [
            str(__import__("uuid").UUID(int=int(rng.integers(1 << 62)) << 60 | i))
            for i in range(count)
        ],
        "varying": [f"x{i}" for i in range(count)],
        "non-ascii": [f"é{i:03d}" if i % 2 else f"zz{i:03d}" for i in range(count)],
        "bytes above 127": [f"ü{i:04d}" for i in range(count)],
    }[scheme]


@pytest.mark.parametrize(
    "scheme",
    [
        "short",
        "eight bytes",
        "shared prefix",
        "random 12",
        "random 16",
        "uuid",
        "varying",
        "non-ascii",
        "bytes above 127",
    ],
)
def test_every_id_scheme_groups_event_rows_and_sorts_by_id(logs: LogFiles, scheme: str) -> None:
    """Ids are grouped as numbers when they allow it: decisions and their order are the same."""
    ids = _ids(scheme, 300)
    rows = [row(i, outcome="") for i in ids]
    # Event rows of every third decision, later in the file, give its outcome.
    rows += [row(i, outcome="success", human_decision="") for i in ids[::3]]
    np.random.default_rng(5).shuffle(rows)  # type: ignore[arg-type]
    decisions = load_decisions([logs.csv(rows)])
    frame = decisions.frame
    assert list(frame["decision_id"]) == sorted(set(ids)), "one time: sorted by id"
    assert decisions.report.decisions == len(set(ids)) == 300
    outcomes = dict(zip(frame["decision_id"], frame["outcome"], strict=True))
    assert all(outcomes[i] == OUTCOME_CODES["success"] for i in ids[::3])
    assert sum(code == -1 for code in outcomes.values()) == 200


TIME_SPELLINGS = [
    "2026-03-01T10:00:00Z",
    "2026-03-01T10:00:00.123Z",
    "2026-03-01T10:00:00.123456Z",
    "2026-03-01T10:00:00.1234567Z",
    "2026-03-01T10:00:00+02:00",
    "2026-03-01T10:00:00+0200",
    "2026-03-01T10:00:00+02",
    "2026-03-01T10:00:00-00:00",
    "2026-03-01 10:00:00Z",
    "2026-03-01T10Z",
    "2026-03-01T10:00Z",
    "2026-03-01T10:00:00",
    "2026-03-01T10:00:00.5",
    "2026-03-01 10:00",
    "2026-03-01",
    "20260301T100000Z",
    "2026-3-1T10:00:00Z",
    "2026-03-01T10:00:00 +02:00",
    "2026-03-01T10:00:00.Z",
    "2026-03-01t10:00:00z",
    "2026-02-30T00:00:00Z",
    "2026-03-01T24:00:00Z",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "2200-12-31T23:59:59Z",
    "2201-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]


def _pandas_time(text: str) -> pd.Timestamp | None:
    """How pandas alone reads a time (``None`` if it does not)."""
    parsed = pd.to_datetime(pd.Series([text]), format="ISO8601", utc=True, errors="coerce")
    value = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")[0]
    return None if pd.isna(value) else pd.Timestamp(value, tz="UTC")


@pytest.mark.parametrize("text", TIME_SPELLINGS)
def test_a_time_arrow_reads_is_read_as_pandas_reads_it(logs: LogFiles, text: str) -> None:
    """Arrow reads the usual spellings; whatever it reads, pandas reads the same way."""
    import re

    path = logs.csv([row("a", timestamp=text)])
    expected = _pandas_time(text)
    in_range = expected is not None and (
        pd.Timestamp("1970-01-01", tz="UTC") <= expected <= pd.Timestamp("2200-12-31T23:59:59Z")
    )
    if not in_range:
        assert f"{path}:2: column 'timestamp': {text!r} is" in _error(path)
        return
    decisions = load_decisions([path])
    assert decisions.frame["timestamp"].iat[0] == expected
    zoned = re.search(r"[Tt ].*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$", text) is not None
    assert decisions.report.naive_timestamps == (0 if zoned else 1)


def test_naive_times_among_z_times_are_read_and_counted(logs: LogFiles) -> None:
    rows = [
        row(f"t{i:03d}", timestamp=f"2026-03-01T10:{i % 60:02d}:00{'Z' if i % 3 else ''}")
        for i in range(90)
    ]
    decisions = load_decisions([logs.csv(rows)])
    assert decisions.report.naive_timestamps == 30
    assert set(decisions.frame["timestamp"].dt.minute) == set(range(60))


def _batches_of(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    import trustctl.ingest.csv_log
    import trustctl.ingest.log_source

    monkeypatch.setattr(trustctl.ingest.csv_log, "CSV_BLOCK", size)
    monkeypatch.setattr(trustctl.ingest.log_source, "BATCH_ROWS", 7)


def _long_log() -> list[Row]:
    """Event rows far apart, an odd time spelling in one part, a rare value late."""
    rows = [row(f"r{i:04d}", day=i / 50, outcome="", reviewer="") for i in range(400)]
    rows += [row(f"r{i:04d}", day=i / 50 + 1, outcome="success") for i in range(0, 400, 7)]
    rows[150]["timestamp"] = "2026-01-04T01:00:00.5"  # naive, among zoned ones
    rows[151]["timestamp"] = "2026-01-04T01:00:00+01:00"
    rows[397]["service"] = "the-only-one"
    rows[392]["ai_confidence"] = "0.90"  # its event row says 0.9: the same number
    return rows


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_many_small_batches_read_as_one(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    rows = _long_log()
    path = logs.csv(rows) if fmt == "csv" else logs.parquet(rows, "long.parquet")
    whole = load_decisions([path])
    _batches_of(monkeypatch, 2048)
    batched = load_decisions([path])
    pd.testing.assert_frame_equal(batched.frame, whole.frame)
    assert batched.report == whole.report
    assert whole.report.naive_timestamps == 1 and whole.report.decisions == 400


def test_bad_rows_in_later_batches_name_their_lines(
    logs: LogFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _long_log()
    rows[300]["mode"] = "boss"
    rows[140]["outcome"] = "success"
    rows[420]["outcome"] = "failure"  # r0140's event row
    rows[401]["timestamp"] = "soon"
    path = logs.csv(rows)
    _batches_of(monkeypatch, 2048)
    assert _error(path).splitlines() == [
        f"{path}:302: column 'mode': 'boss' is not one of observe, suggest, auto_notify, full",
        f"{path}:403: column 'timestamp': 'soon' is not an ISO-8601 timestamp",
        f"{path}:422: column 'outcome': 'failure' conflicts with 'success' given earlier "
        "for decision 'r0140'",
    ]


def test_typed_parquet_times_that_pandas_must_read(logs: LogFiles) -> None:
    """A missing or far-off time in a typed column is named as its text would be."""
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    far = dt.datetime(2300, 1, 1, tzinfo=dt.timezone.utc)
    stamps = pa.array([base, None, far], pa.timestamp("us", tz="UTC"))
    table = pa.table({"timestamp": stamps}).append_column("decision_id", pa.array(["a", "b", "c"]))
    for name, value in [("action_class", "x"), ("mode", "full"), ("executed", "true")]:
        table = table.append_column(name, pa.array([value] * 3))
    path = logs.parquet(table, "typed.parquet")
    assert _error(path).splitlines() == [
        f"{path}:row 1: column 'timestamp': empty; a timestamp is required",
        f"{path}:row 2: column 'timestamp': '2300-01-01T00:00:00.000000Z' is outside the "
        "years 1970 to 2200",
    ]


def test_nanoseconds_are_cut_to_microseconds_in_every_format(logs: LogFiles) -> None:
    stamp = pd.Timestamp("2026-01-01T00:00:00.123456789Z")
    table = pa.table(
        {
            "timestamp": pa.array([stamp.value], pa.timestamp("ns", tz="UTC")),
            "decision_id": pa.array(["n"]),
            "action_class": pa.array(["x"]),
            "mode": pa.array(["full"]),
            "executed": pa.array([True]),
        }
    )
    typed = load_decisions([logs.parquet(table, "ns.parquet")]).frame
    text = load_decisions([logs.csv([row("n", timestamp="2026-01-01T00:00:00.123456789Z")])])
    expected = pd.Timestamp("2026-01-01T00:00:00.123456Z")
    assert typed["timestamp"].iat[0] == text.frame["timestamp"].iat[0] == expected


@pytest.mark.parametrize("column", ["service", "decision_id", "timestamp"])
def test_bytes_that_are_not_utf8_are_refused(logs: LogFiles, column: str) -> None:
    text = "decision_id,timestamp,action_class,mode,executed,service\n"
    good = "".join(f"a{i},2026-01-01T00:00:00Z,x,full,true,api\n" for i in range(1000))
    fields = {"decision_id": "b", "timestamp": "2026-01-01T00:00:00Z", "service": "api"}
    fields[column] = "\udcff"  # the byte 0xff, well past what the header is read with
    bad = f"{fields['decision_id']},{fields['timestamp']},x,full,true,{fields['service']}\n"
    path = logs.root / "latin.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((text + good + bad).encode("utf-8", "surrogateescape"))
    column_at = {"decision_id": 1, "timestamp": 3, "service": 36}[column]
    assert _error(path) == f"{path}:1002: not UTF-8 text: byte {column_at} of the line is 0xff"


def test_text_columns_are_categoricals_of_every_value_in_the_logs(logs: LogFiles) -> None:
    """Few distinct values: a byte a decision. The categories are the same whatever
    decisions are selected, so frames of one log always have the same dtypes."""
    rows = [row("a", day=0, service="zeta"), row("b", day=5, service="alpha", reviewer="")]
    path = logs.csv(rows)
    frame = load_decisions([path]).frame
    early = load_decisions([path], until=START + dt.timedelta(days=1)).frame
    assert isinstance(frame["service"].dtype, pd.CategoricalDtype)
    assert list(frame["service"].cat.categories) == ["", "alpha", "zeta"]
    assert frame["reviewer"].tolist() == ["alice", ""]
    assert (frame["service"] == "alpha").tolist() == [False, True]
    pd.testing.assert_series_equal(early.dtypes, frame.dtypes)


@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.parquet", "log.jsonl"])
def test_reading_reports_every_byte_of_the_file_once(tmp_path: Path, name: str) -> None:
    """What a progress bar is drawn from: the bytes read, each counted once."""
    import gzip
    import json

    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from trustctl.ingest.progress import watching

    sample = Path(__file__).parent.parent / "sample_data" / "decisions.csv"
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(sample.read_bytes()))
    elif name.endswith(".parquet"):
        pq.write_table(pacsv.read_csv(sample), path)
    elif name.endswith(".jsonl"):
        rows = pacsv.read_csv(sample).to_pylist()
        path.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows[:500]))
    else:
        path.write_bytes(sample.read_bytes())
    seen: list[int] = []
    with watching(seen.append):
        load_decisions([path])
    assert sum(seen) == path.stat().st_size
