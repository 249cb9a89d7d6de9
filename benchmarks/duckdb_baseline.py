"""The DuckDB baseline: the evidence table of one log file, as a data engineer would compute it.

    python benchmarks/duckdb_baseline.py LOG -o evidence.json

LOG is a CSV or Parquet decision log; the query is duckdb_evidence.sql beside this file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
from evidence import evidence, write

QUERY = Path(__file__).with_name("duckdb_evidence.sql")

#: Each text field the counts look at becomes the flags they need, one bit each, before the
#: merge per decision: the merge then ORs one small integer instead of reducing strings.
#: The bits are listed in duckdb_evidence.sql.
_FLAGS = """CASE WHEN human_decision IN ('approved', 'rejected', 'modified', 'overridden')
            THEN 2 ELSE 0 END
       | CASE WHEN human_decision = 'approved' THEN 4 ELSE 0 END
       | CASE WHEN human_decision = 'timeout' THEN 8 ELSE 0 END
       | CASE WHEN outcome = 'success' THEN 16 ELSE 0 END
       | CASE WHEN outcome = 'failure' THEN 32 ELSE 0 END
       | CASE WHEN severity = 'critical' THEN 64 ELSE 0 END"""

#: CSV: every column as text (a log's columns are text until checked); the time is cast to
#: TIMESTAMPTZ (Z, an offset, or none meaning the session's UTC) and `executed` is any spelling.
_CSV_ROWS = f"""
CREATE VIEW log_rows AS
SELECT decision_id, action_class,
       CAST("timestamp" AS TIMESTAMPTZ) AS ts,
       {_FLAGS}
       | CASE WHEN lower(executed) IN ('true', '1', 'yes') THEN 1 ELSE 0 END AS flags
FROM read_csv($path, header = true, all_varchar = true)
"""

#: Parquet carries types: a timestamp column and a boolean `executed` are used as they are.
_PARQUET_ROWS = f"""
CREATE VIEW log_rows AS
SELECT decision_id, action_class,
       CAST("timestamp" AS TIMESTAMPTZ) AS ts,
       {_FLAGS}
       | CASE WHEN executed THEN 1 ELSE 0 END AS flags
FROM read_parquet($path)
"""


def compute(path: Path) -> tuple[str, list[dict[str, object]]]:
    """The window's first day (ISO) and one row per action class with every count."""
    rows_view = _PARQUET_ROWS if path.suffix == ".parquet" else _CSV_ROWS
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        # A view cannot take a prepared parameter: the path goes in as a quoted literal.
        literal = "'" + str(path).replace("'", "''") + "'"
        connection.execute(rows_view.replace("$path", literal))
        cursor = connection.execute(QUERY.read_text(encoding="utf-8"))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    first_day = str(rows[0]["first_day"]) if rows else ""
    return first_day, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    arguments = parser.parse_args()
    first_day, rows = compute(arguments.log)
    write(arguments.output, evidence(first_day, rows))


if __name__ == "__main__":
    main()
