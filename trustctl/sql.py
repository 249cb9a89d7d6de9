"""The evidence segments as one SQL query, to compute them inside a warehouse.

``render(dialect, table)`` gives a query over a table of raw decision-log rows (schema
v1, every column text: a CSV loaded as strings; empty or NULL is "not given") whose
result is the segments table that ``trustctl.segments.from_decisions`` computes from
the same logs: same columns, meaning and row order. Exported as Parquet, it is read by
``trustctl generate --evidence`` like ``trustctl aggregate``'s output.

One query shape serves every dialect; the few fragments that differ are each dialect's
``Dialect`` in ``trustctl.sql_dialects``.

The query does not validate rows (``trustctl validate`` does): on an invalid log it
may fail, or give counts that trustctl would have refused to compute.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from trustctl import __version__
from trustctl.levels import LADDER
from trustctl.schema import FALSE_SPELLINGS, JUDGED, MODE_SPELLINGS, TRUE_SPELLINGS, VERIFIED
from trustctl.sql_dialects import SPELLINGS, Dialect

if TYPE_CHECKING:  # not at run time: ``--help`` imports this module, and bands need numpy
    from trustctl.bands import Bands

__all__ = ["DIALECTS", "render"]

#: The dialects ``render`` knows, in the order the CLI lists them.
DIALECTS: tuple[str, ...] = tuple(SPELLINGS)

#: One part of a table name (quoted in the query): ASCII letters, digits and '_', single
#: '-' between them (BigQuery project ids); nothing that can end a quote or start a comment.
_NAME_PART = re.compile(r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*")
_MAX_PARTS = 4
_MAX_PART_LENGTH = 128


def _quoted_table(table: str, dialect: Dialect) -> str:
    parts = table.split(".")
    if len(parts) > _MAX_PARTS or not all(
        _NAME_PART.fullmatch(part) and len(part) <= _MAX_PART_LENGTH for part in parts
    ):
        raise ValueError(
            f"table name {table!r} is not allowed: use one to {_MAX_PARTS} dot-separated parts "
            "of ASCII letters, digits, '_' and single '-' (e.g. decisions or "
            "project.dataset.decisions)"
        )
    return ".".join(dialect.quote(part) for part in parts)


def render(
    dialect: str, table: str, *, review_sampled: bool = False, bands: Bands | None = None
) -> str:
    """One query computing the evidence segments of the raw log rows in ``table``.

    ``dialect`` is one of ``DIALECTS``; ``table`` is a (possibly dotted) table name,
    quoted part by part. With ``review_sampled`` the table's ``review_sampled`` column is
    read (without, every review is of unknown sampling); with ``bands``, its
    ``ai_confidence`` splits the segments into them (a ``confidence`` column, as
    ``trustctl aggregate --rules`` writes). Raises ``ValueError`` for an unknown dialect or
    a table name that is not plain letters, digits, ``_`` and ``-``.
    """
    spelling = SPELLINGS.get(dialect)
    if spelling is None:
        raise ValueError(f"unknown SQL dialect {dialect!r}: choose one of {', '.join(DIALECTS)}")
    return _query(spelling, _quoted_table(table, spelling), review_sampled, bands)


def _listed(values: Sequence[str]) -> str:
    """Schema values as a list of SQL strings (they hold no quote)."""
    return ", ".join(f"'{value}'" for value in values)


_KEY = ("action_class", "service", "system_tier", "risk_tier", "agent_version", "mode_name")
_BANDED_KEY = (*_KEY[:5], "confidence", _KEY[5])
#: Each count's name and the decisions it counts (``None``: all of them).
_COUNTS: tuple[tuple[str, str | None], ...] = (
    ("decisions", None),
    ("reviewed", f"human_decision IN ({_listed(JUDGED)})"),
    ("agreed", "human_decision = 'approved'"),
    ("timeouts", "human_decision = 'timeout'"),
    ("executed", "executed_flag = 1"),
    ("verified", f"executed_flag = 1 AND outcome IN ({_listed(VERIFIED)})"),
    ("succeeded", "executed_flag = 1 AND outcome = 'success'"),
    ("unverified", f"executed_flag = 1 AND COALESCE(outcome, '') NOT IN ({_listed(VERIFIED)})"),
    # Without review_sampled every review is of unknown sampling.
    ("unsampled", "1 = 0"),
    ("unsampled_agreed", "1 = 0"),
    ("sampling_unknown", f"human_decision IN ({_listed(JUDGED)})"),
)
#: The counts of ``review_sampled`` when the table has it: 1 true, 0 false, NULL not given.
_SAMPLED_COUNTS: dict[str, str] = {
    "unsampled": f"human_decision IN ({_listed(JUDGED)}) AND sampled_flag = 0",
    "unsampled_agreed": "human_decision = 'approved' AND sampled_flag = 0",
    "sampling_unknown": f"human_decision IN ({_listed(JUDGED)}) AND sampled_flag IS NULL",
}
_CRITICAL = "executed_flag = 1 AND outcome = 'failure' AND severity = 'critical'"


def _header(d: Dialect, review_sampled: bool, bands: Bands | None) -> list[str]:
    export = "\n".join(f"--     {line}" for line in d.export)
    read = []
    if review_sampled:
        read.append("-- Reads the optional column review_sampled (the table must have it).")
    if bands:
        read += [
            f"-- Splits each key by confidence band ({', '.join(bands.labels)}; the rules'",
            f"-- confidence_bands {list(bands.cuts)}), from the column ai_confidence, which the",
            "-- table must have: the `confidence` column, after agent_version.",
        ]
    return [
        f"-- trustctl {__version__}: evidence segments, {d.name}.",
        "-- One row per (action_class, service, system_tier, risk_tier, agent_version, mode,",
        "-- UTC day) with the counts of the decisions proposed that day and the critical failures",
        "-- recorded that day: the table `trustctl aggregate` writes, computed from the raw",
        "-- decision-log rows (schema v1, every column text; empty or NULL = not given).",
        "-- Event rows are merged per decision_id as trustctl merges them.",
        *read,
        "--",
        "-- This query does NOT validate the rows: run `trustctl validate` on the logs first.",
        "-- An invalid log may make it fail, or give counts trustctl would have refused.",
        "-- Timestamps: ISO-8601 'YYYY-MM-DD[T| ]HH:MM[:SS[.ffffff]]' with 'Z', an offset",
        "-- (+HH:MM) or nothing (read as UTC), or a date alone (midnight UTC).",
        "--",
        "-- Use: export the result, with these column names and types, as Parquet, e.g.",
        export,
        "-- then: trustctl generate --evidence segments.parquet (a file or a folder of them).",
    ]


def _flag(column: str) -> str:
    """A true/false column as 1, 0 or NULL (not given), spelt as trustctl reads it."""
    return (
        f"CASE\n      WHEN LOWER({column}) IN ({_listed(TRUE_SPELLINGS)}) THEN 1\n"
        f"      WHEN LOWER({column}) IN ({_listed(FALSE_SPELLINGS)}) THEN 0\n    END"
    )


def _band(d: Dialect, confidence: str, bands: Bands) -> str:
    """The band's name of a decision's confidence: at or above a cut is in the band above it
    (the cut compared as the double it is, as trustctl compares it)."""
    labels = bands.labels
    whens = [f"WHEN {confidence} IS NULL THEN '{labels[-1]}'"]
    for index in reversed(range(len(bands.cuts))):
        cut = f"CAST('{bands.texts[index]}' AS {d.double})"
        whens.append(f"WHEN {confidence} >= {cut} THEN '{labels[index + 1]}'")
    return f"CASE {' '.join(whens)} ELSE '{labels[0]}' END"


def _query(d: Dialect, table: str, review_sampled: bool, bands: Bands | None) -> str:
    q = d.quote

    def given(column: str) -> str:
        return f"NULLIF({q(column)}, '')"

    counts = [
        (name, _SAMPLED_COUNTS.get(name, test) if review_sampled else test)
        for name, test in _COUNTS
    ]
    extra_rows = ""
    extra_merged = ""
    if review_sampled:
        extra_rows += f",\n    {_flag(q('review_sampled'))} AS sampled_flag"
        extra_merged += ",\n    MAX(sampled_flag) AS sampled_flag"
    if bands:
        number = f"CAST({given('ai_confidence')} AS {d.double})"
        extra_rows += f",\n    {number} AS confidence_value"
        extra_merged += f",\n    {_band(d, 'MAX(confidence_value)', bands)} AS confidence"
    key_names = _BANDED_KEY if bands else _KEY
    confidence_out = f"\n  CAST(confidence AS {d.text}) AS {q('confidence')}," if bands else ""

    ranks = " ".join(f"WHEN '{level.value}' THEN {level.rank}" for level in LADDER)
    respelt = " ".join(
        f"WHEN '{spelling}' THEN '{level.value}'"
        for spelling, level in MODE_SPELLINGS.items()
        if spelling != level.value
    )
    key = ", ".join(key_names)
    sums = ",\n    ".join(
        f"COUNT(*) AS {name}"
        if test is None
        else f"SUM(CASE WHEN {test} THEN 1 ELSE 0 END) AS {name}"
        for name, test in counts
    )
    zeros = ",\n    ".join(f"0 AS {name}" for name, _ in _COUNTS)
    merged_sums = ",\n    ".join(f"SUM({name}) AS {name}" for name, _ in _COUNTS)
    no_time = f"CAST(NULL AS {d.instant})"
    no_text = f"CAST(NULL AS {d.text})"
    # Ties on time go to the decision id, compared by code point as trustctl does.
    by_time = ("decided_at", d.by_code_point("decision_id"))
    latest_critical = ("recorded_at", *by_time)
    out_counts = ",\n  ".join(f"CAST({name} AS {d.big_int}) AS {q(name)}" for name, _ in _COUNTS)
    order = ", ".join(
        [
            *(d.by_code_point(name) for name in ("action_class", "service")),
            "system_tier",
            "risk_tier",
            d.by_code_point("agent_version"),
            *([d.by_code_point("confidence")] if bands else []),
            "mode_rank",
            "segment_day",
        ]
    )
    body = f"""WITH
log_rows AS (
  SELECT
    {given("decision_id")} AS decision_id,
    {d.parse_time(given("timestamp"))} AS at_time,
    {given("action_class")} AS action_class,
    CASE {q("mode")} {respelt} ELSE {given("mode")} END AS mode_name,
    {given("human_decision")} AS human_decision,
    {_flag(q("executed"))} AS executed_flag,
    {given("outcome")} AS outcome,
    {given("severity")} AS severity,
    {given("service")} AS service,
    CAST({given("system_tier")} AS {d.small_int}) AS system_tier,
    CAST({given("risk_tier")} AS {d.small_int}) AS risk_tier,
    {given("agent_version")} AS agent_version{extra_rows}
  FROM {table}
),
merged AS (
  -- One row per decision: its time is its earliest row's, recorded_at its latest row's;
  -- every other field is the value its rows give (trustctl refuses two different ones).
  SELECT
    decision_id,
    MIN(at_time) AS decided_at,
    MAX(at_time) AS recorded_at,
    COALESCE(MAX(action_class), '') AS action_class,
    COALESCE(MAX(service), '') AS service,
    COALESCE(MAX(system_tier), 0) AS system_tier,
    COALESCE(MAX(risk_tier), 0) AS risk_tier,
    COALESCE(MAX(agent_version), '') AS agent_version,
    MAX(mode_name) AS mode_name,
    MAX(human_decision) AS human_decision,
    MAX(executed_flag) AS executed_flag,
    MAX(outcome) AS outcome,
    MAX(severity) AS severity{extra_merged}
  FROM log_rows
  GROUP BY decision_id
),
decided AS (
  -- Each decision counts on the UTC day it was proposed.
  SELECT
    {key},
    {d.utc_day("decided_at")} AS segment_day,
    {sums},
    MIN(decided_at) AS first_at,
    {d.pick("decision_id", by_time, False)} AS first_id,
    MAX(decided_at) AS last_at,
    {d.pick("decision_id", by_time, True)} AS last_id,
    MAX(recorded_at) AS last_recorded_at,
    0 AS critical_failures,
    {no_time} AS critical_at,
    {no_time} AS critical_decided_at,
    {no_text} AS critical_id
  FROM merged
  GROUP BY {key}, {d.utc_day("decided_at")}
),
critical AS (
  -- A critical failure counts on the UTC day its outcome was recorded; the latest one is
  -- the largest (recorded_at, decided_at, decision_id).
  SELECT
    {key},
    {d.utc_day("recorded_at")} AS segment_day,
    {zeros},
    {no_time} AS first_at,
    {no_text} AS first_id,
    {no_time} AS last_at,
    {no_text} AS last_id,
    {no_time} AS last_recorded_at,
    COUNT(*) AS critical_failures,
    MAX(recorded_at) AS critical_at,
    {d.pick("decided_at", latest_critical, True)} AS critical_decided_at,
    {d.pick("decision_id", latest_critical, True)} AS critical_id
  FROM merged
  WHERE {_CRITICAL}
  GROUP BY {key}, {d.utc_day("recorded_at")}
),
segments AS (
  -- Each key and day's row from both sides: each column is given by one side at most.
  SELECT
    {key},
    CASE mode_name {ranks} END AS mode_rank,
    segment_day,
    {merged_sums},
    MAX(first_at) AS first_at,
    MAX(first_id) AS first_id,
    MAX(last_at) AS last_at,
    MAX(last_id) AS last_id,
    MAX(last_recorded_at) AS last_recorded_at,
    SUM(critical_failures) AS critical_failures,
    MAX(critical_at) AS critical_at,
    MAX(critical_decided_at) AS critical_decided_at,
    MAX(critical_id) AS critical_id
  FROM (
    SELECT * FROM decided
    UNION ALL
    SELECT * FROM critical
  ) AS both_sides
  GROUP BY {key}, segment_day
)
SELECT
  CAST(action_class AS {d.text}) AS {q("action_class")},
  CAST(service AS {d.text}) AS {q("service")},
  CAST(system_tier AS {d.small_int}) AS {q("system_tier")},
  CAST(risk_tier AS {d.small_int}) AS {q("risk_tier")},
  CAST(agent_version AS {d.text}) AS {q("agent_version")},{confidence_out}
  CAST(mode_name AS {d.text}) AS {q("mode")},
  segment_day AS {q("day")},
  {out_counts},
  first_at AS {q("first_at")},
  first_id AS {q("first_id")},
  last_at AS {q("last_at")},
  last_id AS {q("last_id")},
  last_recorded_at AS {q("last_recorded_at")},
  CAST(critical_failures AS {d.big_int}) AS {q("critical_failures")},
  critical_at AS {q("critical_at")},
  critical_decided_at AS {q("critical_decided_at")},
  critical_id AS {q("critical_id")}
FROM segments
ORDER BY {order}"""
    return "\n".join([*_header(d, review_sampled, bands), body]) + "\n"
