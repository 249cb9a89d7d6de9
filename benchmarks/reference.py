"""An independent reference for the evidence numbers, in pyarrow and numpy, and the same numbers
read back from a segments table written by ``trustctl aggregate``.

    python benchmarks/reference.py LOG -o evidence.json

Not timed: it only checks the baselines. It shares no code with them, with trustctl or with
DuckDB and polars: timestamps are parsed by Arrow's cast, decisions merged by ``ufunc.at``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from evidence import COUNTS, REVIEWED, TRUE_SPELLINGS, WINDOW_DAYS, Evidence, evidence, write

MICROS_PER_DAY = 86_400_000_000
_COLUMNS = [
    "decision_id",
    "timestamp",
    "action_class",
    "human_decision",
    "executed",
    "outcome",
    "severity",
]
#: A time of day followed by a zone (Z or an offset); without one, a time is UTC.
_ZONED = r"[Tt ].*([Zz]|[+-]\d\d(:?\d\d)?)$"


def _read(path: Path) -> pa.Table:
    if path.suffix == ".parquet":
        return pq.read_table(path, columns=_COLUMNS)
    return pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            include_columns=_COLUMNS,
            column_types=dict.fromkeys(_COLUMNS, pa.string()),
            strings_can_be_null=False,
        ),
    )


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    """UTC microseconds since the epoch; text without a zone is UTC."""
    if not pa.types.is_timestamp(column.type):
        zoned = pc.match_substring_regex(column, _ZONED)
        column = pc.if_else(zoned, column, pc.binary_join_element_wise(column, "Z", ""))
    micros: np.ndarray = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy()
    return micros


def _codes(column: pa.ChunkedArray, values: dict[str, int]) -> np.ndarray:
    """Each row's code from ``values`` (text, compared lower-cased); -1 for anything else."""
    text = pc.utf8_lower(column.cast(pa.string()))
    codes = np.full(len(column), -1, dtype=np.int64)
    for value, code in values.items():
        codes[pc.fill_null(pc.equal(text, value), False).to_numpy(zero_copy_only=False)] = code
    return codes


def _dictionary(column: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """The distinct non-empty values and each row's index among them (-1 when empty)."""
    nonempty = pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)
    encoded = pc.dictionary_encode(nonempty).combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), codes.astype(np.int64)


def _per_decision(decision: np.ndarray, rows: np.ndarray, how: np.ufunc, start: int) -> np.ndarray:
    """``how`` reduced over each decision's rows (decision = 0..n-1 per row)."""
    merged = np.full(int(decision.max()) + 1, start, dtype=np.int64)
    how.at(merged, decision, rows)
    return merged


def _window_start(as_of: int) -> int:
    """The window's first day (days since the epoch): as_of - 180 days, rounded up to a midnight."""
    return -(-(as_of - WINDOW_DAYS * MICROS_PER_DAY) // MICROS_PER_DAY)


def _iso_day(day: int) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def evidence_from_log(path: Path) -> Evidence:
    """The evidence numbers of one log file, computed from its rows."""
    table = _read(path)
    _, decision = _dictionary(table["decision_id"])
    time = _micros(table["timestamp"])
    decided = _per_decision(decision, time, np.minimum, np.iinfo(np.int64).max)
    recorded = _per_decision(decision, time, np.maximum, np.iinfo(np.int64).min)

    def merged(column: str, values: dict[str, int]) -> np.ndarray:
        """Per decision, the code of its one non-empty value (-1 when none)."""
        return _per_decision(decision, _codes(table[column], values), np.maximum, -1)

    names, class_codes = _dictionary(table["action_class"])
    action_class = _per_decision(decision, class_codes, np.maximum, -1)
    human = merged("human_decision", {h: i for i, h in enumerate((*REVIEWED, "timeout"))})
    spellings = dict.fromkeys(TRUE_SPELLINGS, 1) | dict.fromkeys(("false", "0", "no"), 0)
    executed = merged("executed", spellings) == 1
    outcome = merged("outcome", {"success": 1, "failure": 2})
    critical = merged("severity", {"critical": 1}) == 1

    first_day = _window_start(int(recorded.max()))
    counted = decided // MICROS_PER_DAY >= first_day
    verified = executed & (outcome > 0)
    flags = {
        "decisions": counted,
        "reviewed": counted & (human >= 0) & (human < len(REVIEWED)),
        "agreed": counted & (human == REVIEWED.index("approved")),
        "timeouts": counted & (human == len(REVIEWED)),
        "executed": counted & executed,
        "verified": counted & verified,
        "succeeded": counted & executed & (outcome == 1),
        "unverified": counted & executed & ~verified,
        "critical_failures": (recorded // MICROS_PER_DAY >= first_day)
        & executed
        & (outcome == 2)
        & critical,
    }
    totals = {
        name: np.bincount(action_class[flag], minlength=len(names)) for name, flag in flags.items()
    }
    rows: list[dict[str, object]] = [
        {"action_class": name, **{count: int(totals[count][code]) for count in COUNTS}}
        for code, name in enumerate(names)
    ]
    return evidence(_iso_day(first_day), rows)


def evidence_from_segments(path: Path) -> Evidence:
    """The evidence numbers summed from a segments table (``trustctl aggregate``'s output).

    as_of is the latest ``last_recorded_at`` in it: every decision is in some row.
    """
    table = pq.read_table(path, columns=["action_class", "day", "last_recorded_at", *COUNTS])
    as_of = pc.max(table["last_recorded_at"]).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    first_day = _window_start(as_of.as_py())
    days = table["day"].cast(pa.int32())
    inside = table.filter(pc.greater_equal(days, first_day))
    sums = inside.group_by("action_class").aggregate([(count, "sum") for count in COUNTS])
    rows = [
        {"action_class": row["action_class"], **{c: row[f"{c}_sum"] for c in COUNTS}}
        for row in sums.to_pylist()
    ]
    return evidence(_iso_day(first_day), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description="The reference evidence numbers of one log.")
    parser.add_argument("log", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    arguments = parser.parse_args()
    write(arguments.output, evidence_from_log(arguments.log))


if __name__ == "__main__":
    main()
