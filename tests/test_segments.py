"""Evidence segments: counts per key and UTC day that merge exactly across parts and files.

A hand-built log checks every column of ``from_decisions`` against values worked out
by hand; random logs check that segments of any split of the decisions merge back into
the segments of the whole (and so into the same group states), and that the Arrow form
``trustctl aggregate`` writes reads back exactly.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from logbuilder import COLUMNS, LogBuilder, day, iso, load, rules
from strategies import SETTINGS, Pools, batches, log_of

from trustctl import segments
from trustctl.evidence import collect, collect_segments

UTC = dt.timezone.utc

# --- the on-disk schema, as the spec (segments.md) lists it ---------------------------------

TIMESTAMP = pa.timestamp("us", tz="UTC")
SPEC_SCHEMA: list[tuple[str, pa.DataType]] = [
    ("action_class", pa.string()),
    ("service", pa.string()),
    ("system_tier", pa.int8()),
    ("risk_tier", pa.int8()),
    ("agent_version", pa.string()),
    ("mode", pa.string()),
    ("day", pa.date32()),
    ("decisions", pa.int64()),
    ("reviewed", pa.int64()),
    ("agreed", pa.int64()),
    ("timeouts", pa.int64()),
    ("executed", pa.int64()),
    ("verified", pa.int64()),
    ("succeeded", pa.int64()),
    ("unverified", pa.int64()),
    ("unsampled", pa.int64()),
    ("unsampled_agreed", pa.int64()),
    ("sampling_unknown", pa.int64()),
    ("first_at", TIMESTAMP),
    ("first_id", pa.string()),
    ("last_at", TIMESTAMP),
    ("last_id", pa.string()),
    ("last_recorded_at", TIMESTAMP),
    ("critical_failures", pa.int64()),
    ("critical_at", TIMESTAMP),
    ("critical_decided_at", TIMESTAMP),
    ("critical_id", pa.string()),
]
KEY = ("action_class", "service", "system_tier", "risk_tier", "agent_version", "mode", "day")


# --- a hand-built log -----------------------------------------------------------------------


def _row(decision_id: str, at: dt.datetime, **fields: str) -> dict[str, str]:
    """One event row of k8s.restart_pod at suggest by agent v1, not executed, unless given."""
    record = dict.fromkeys(COLUMNS, "")
    record.update(
        decision_id=decision_id,
        timestamp=iso(at),
        action_class="k8s.restart_pod",
        mode="suggest",
        executed="false",
        agent_version="v1",
    )
    record.update(fields)
    if record["human_decision"]:
        record["reviewer"] = "alice"
    return record


def _hand_built() -> LogBuilder:
    """Decisions a-k; g, h and i fail critically, recorded on day 3 by a second row."""
    ok = {"human_decision": "approved", "executed": "true", "outcome": "success"}
    done = {"human_decision": "approved", "executed": "true"}
    critical = {"outcome": "failure", "severity": "critical"}
    late = day(3, 6 * 3600)  # 06:00 on 2026-01-04
    log = LogBuilder()
    log.rows = [
        # day 1 (2026-01-02), suggest: a and b tie at 01:00, d and e tie at 03:00
        _row("b", day(1, 3600), **ok),
        _row("a", day(1, 3600), human_decision="rejected"),
        _row("g", day(1, 7200), **done),
        _row("g", late, **done, **critical),
        _row("c", day(1, 9000), human_decision="timeout"),
        _row("e", day(1, 10800), **done, outcome="unknown"),
        _row("d", day(1, 10800), **done, outcome="failure", severity="minor"),
        # day 1, the other spelling of auto_notify
        _row("f", day(1, 5 * 3600), **ok, mode="auto-notify"),
        # day 2 (2026-01-03), suggest: h and i tie at midnight; j fails at once at noon
        _row("i", day(2), **done),
        _row("h", day(2), **done),
        _row("i", late, **done, **critical),
        _row("h", late, **done, **critical),
        _row("j", day(2, 12 * 3600), **done, **critical),
        # another class, with every key column given
        _row(
            "k",
            day(1),
            **ok,
            action_class="k8s.scale",
            mode="observe",
            service="web",
            system_tier="2",
            risk_tier="1",
            agent_version="",
        ),
    ]
    return log


def _expected_row(
    key: tuple[str, str, int, int, str, str, dt.date],
    counts: tuple[int, ...],
    first: tuple[dt.datetime, str] | None,
    last: tuple[dt.datetime, str] | None,
    last_recorded: dt.datetime | None,
    critical: tuple[int, dt.datetime, dt.datetime, str] | None,
) -> dict[str, Any]:
    found: dict[str, Any] = dict(zip(KEY, key, strict=True))
    found.update(zip(segments.COUNTS, counts, strict=True))
    found["first_at"], found["first_id"] = first or (None, None)
    found["last_at"], found["last_id"] = last or (None, None)
    found["last_recorded_at"] = last_recorded
    number, at, decided, decision = critical or (0, None, None, None)
    found.update(
        critical_failures=number, critical_at=at, critical_decided_at=decided, critical_id=decision
    )
    return found


POD_V1 = ("k8s.restart_pod", "", 0, 0, "v1")
HAND_BUILT = [
    # a b g c d e: reviewed a b g d e, agreed b g d e, timeout c, executed b g d e,
    # verified b g d (g's failure is known by its merged outcome), succeeded b, unverified e;
    # no review_sampled: every review of unknown sampling
    _expected_row(
        (*POD_V1, "suggest", dt.date(2026, 1, 2)),
        (6, 5, 4, 1, 4, 3, 1, 1, 0, 0, 5),
        (day(1, 3600), "a"),
        (day(1, 10800), "e"),
        day(3, 6 * 3600),  # g's outcome
        None,  # g's critical failure counts on the day it was recorded
    ),
    _expected_row(
        (*POD_V1, "suggest", dt.date(2026, 1, 3)),
        (3, 3, 3, 0, 3, 3, 0, 0, 0, 0, 3),
        (day(2), "h"),
        (day(2, 12 * 3600), "j"),
        day(3, 6 * 3600),
        (1, day(2, 12 * 3600), day(2, 12 * 3600), "j"),
    ),
    # no decision proposed on day 3: only the three critical failures recorded on it, the
    # latest of which (all at 06:00) is the one decided last, i at day 2 after h by id
    _expected_row(
        (*POD_V1, "suggest", dt.date(2026, 1, 4)),
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        None,
        None,
        None,
        (3, day(3, 6 * 3600), day(2), "i"),
    ),
    _expected_row(
        (*POD_V1, "auto_notify", dt.date(2026, 1, 2)),
        (1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1),
        (day(1, 5 * 3600), "f"),
        (day(1, 5 * 3600), "f"),
        day(1, 5 * 3600),
        None,
    ),
    _expected_row(
        ("k8s.scale", "web", 2, 1, "", "observe", dt.date(2026, 1, 2)),
        (1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1),
        (day(1), "k"),
        (day(1), "k"),
        day(1),
        None,
    ),
]


def _by_key(table: pa.Table) -> dict[tuple[Any, ...], dict[str, Any]]:
    found = {tuple(r[name] for name in KEY): r for r in table.to_pylist()}
    assert len(found) == table.num_rows, "one row per key"
    return found


def test_hand_built_segments(tmp_path: Path) -> None:
    frame = load(tmp_path, _hand_built()).frame
    seg = segments.from_decisions(frame)
    table = segments.to_arrow(seg)
    expected = {tuple(r[name] for name in KEY): r for r in HAND_BUILT}
    assert _by_key(table) == expected
    # in memory: times as microseconds, day as days since the epoch, mode as its rank
    seg = seg.to_frame()
    suggest_day_1 = seg[(seg["mode"] == 1) & (seg["day"] == 20455)]
    assert len(suggest_day_1) == 1
    assert int(suggest_day_1["first_at"].iloc[0]) == int(day(1, 3600).timestamp()) * 1_000_000
    assert dt.date(1970, 1, 1) + dt.timedelta(days=20455) == dt.date(2026, 1, 2)
    critical_only = seg[seg["decisions"] == 0]
    assert len(critical_only) == 1
    assert (critical_only[["first_at", "last_at", "last_recorded_at"]] == segments.NO_TIME).all(
        axis=None
    )
    # rows are in key order (the frame's own values: the mode by its rank on the ladder)
    keys = list(seg[list(KEY)].itertuples(index=False, name=None))
    assert keys == sorted(keys)


def test_hand_built_segments_merge_from_single_decisions(tmp_path: Path) -> None:
    # Every decision its own part, in reverse: the ties of a/b, d/e and h/i, and the three
    # failures recorded at the same instant, are resolved by the merge exactly as at once.
    frame = load(tmp_path, _hand_built()).frame
    parts = [segments.from_decisions(frame.iloc[[i]]) for i in reversed(range(len(frame)))]
    merged = segments.merge(parts)
    pd.testing.assert_frame_equal(
        merged.to_frame(), segments.from_decisions(frame).to_frame(), check_exact=True
    )
    assert _by_key(segments.to_arrow(merged)) == {
        tuple(r[name] for name in KEY): r for r in HAND_BUILT
    }


def test_the_table_has_the_spec_schema(tmp_path: Path) -> None:
    table = segments.to_arrow(segments.from_decisions(load(tmp_path, _hand_built()).frame))
    assert [(f.name, f.type) for f in table.schema] == SPEC_SCHEMA
    assert table.schema.equals(pa.schema(SPEC_SCHEMA))
    assert segments.to_arrow(segments.empty()).schema.equals(pa.schema(SPEC_SCHEMA))


def test_no_decisions_no_segments() -> None:
    assert len(segments.merge([])) == 0
    # In memory every segment has its confidence band ("" when groups are not split).
    names = [name for name, _ in SPEC_SCHEMA]
    assert list(segments.empty().columns) == [*names[:5], "confidence", *names[5:]]


# --- random logs ----------------------------------------------------------------------------

CLASSES = ("k8s.restart_pod", "k8s.rollback", "db.migrate")
MODES = ("observe", "suggest", "auto_notify", "auto-notify", "full")
HUMANS = ("approved", "approved", "rejected", "modified", "overridden", "timeout", "")
POOLS = Pools(
    classes=CLASSES,
    modes=MODES,
    humans=HUMANS,
    outcomes=("success", "failure", "failure", "unknown", ""),
    severities=("", "minor", "critical", "critical"),
    system_tiers=(None, 1, 2, 4),
    risk_tiers=(None, None, 1, 3),
    spacings=(0, 1, 3600, 5000),
    days=30,
    slots_per_day=8,  # every 3 hours over 30 days
    max_batches=8,
    max_count=12,
    services=("", "web", "db"),
    delays=(0, 0, 3600 * 5, 3600 * 30),
)


@SETTINGS
@given(
    spec=batches(POOLS),
    data=st.data(),
    window=st.sampled_from(("180d", "10d", "3d")),
    later_hours=st.integers(0, 24 * 12),
)
@pytest.mark.slow
def test_segments_of_any_split_merge_into_the_segments_of_the_whole(
    tmp_path: Path, spec: Any, data: st.DataObject, window: str, later_hours: int
) -> None:
    frame = load(tmp_path, log_of(spec)).frame
    whole = segments.from_decisions(frame)
    count = data.draw(st.integers(1, 4), label="parts")
    which = np.array(
        data.draw(st.lists(st.integers(0, count - 1), min_size=len(frame), max_size=len(frame)))
    )
    parts = [segments.from_decisions(frame[which == part]) for part in range(count)]
    order = data.draw(st.permutations(range(count)), label="merge order")
    merged = segments.merge([parts[i] for i in order])
    pd.testing.assert_frame_equal(merged.to_frame(), whole.to_frame(), check_exact=True)
    # merging is associative: a merged part merges like any other
    again = segments.merge([segments.merge(parts[:1]), segments.merge(parts[1:])])
    pd.testing.assert_frame_equal(again.to_frame(), whole.to_frame(), check_exact=True)
    # and the group states built from the merged segments are those of the decisions
    as_of = frame["recorded_at"].max().to_pydatetime() + dt.timedelta(hours=later_hours)
    loaded = rules({"window": window}).rules
    assert collect_segments(merged, loaded, as_of) == collect(frame, loaded, as_of)


@SETTINGS
@given(spec=batches(POOLS))
def test_the_arrow_table_reads_back_exactly(tmp_path: Path, spec: Any) -> None:
    frame = load(tmp_path, log_of(spec)).frame
    seg = segments.from_decisions(frame)
    table = segments.to_arrow(seg)
    assert table.schema.equals(pa.schema(SPEC_SCHEMA))
    pd.testing.assert_frame_equal(
        segments.from_arrow(table).to_frame(), seg.to_frame(), check_exact=True
    )
    # through a Parquet file too, as ``trustctl aggregate`` writes it
    sink = io.BytesIO()
    pq.write_table(table, sink)
    back = pq.read_table(io.BytesIO(sink.getvalue()))
    pd.testing.assert_frame_equal(
        segments.from_arrow(back).to_frame(), seg.to_frame(), check_exact=True
    )
    # nulls where there is nothing: no decisions, no first/last; no failure, no critical_*
    for r in table.to_pylist():
        assert r["mode"] in {"observe", "suggest", "auto_notify", "full"}
        assert r["decisions"] > 0 or r["critical_failures"] > 0
        assert (r["first_at"] is None) == (r["last_at"] is None) == (r["decisions"] == 0)
        assert (r["first_id"] is None) == (r["decisions"] == 0)
        assert (r["critical_at"] is None) == (r["critical_failures"] == 0)
        assert (r["critical_id"] is None) == (r["critical_failures"] == 0)
        if r["decisions"]:
            assert r["first_at"].date() == r["last_at"].date() == r["day"]
            assert (r["first_at"], r["first_id"]) <= (r["last_at"], r["last_id"])
        if r["critical_failures"]:
            assert r["critical_at"].date() == r["day"]
    # the counts add up to the decisions of the log
    assert int(seg["decisions"].sum()) == len(frame)
