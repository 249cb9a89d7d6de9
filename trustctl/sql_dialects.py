"""What each SQL dialect spells differently in the evidence query; ``trustctl.sql`` writes the rest.

Each ``Dialect`` says how identifiers are quoted, its type names, how a text timestamp
becomes a UTC instant and an instant its UTC day, how "the value of the row with the
smallest (or largest) ordering key" is spelt, how strings are made to compare by code
point, and how the result is exported as Parquet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trustctl.schema import ZONED_PATTERN

__all__ = ["SPELLINGS", "Dialect"]


@dataclass(frozen=True)
class Dialect:
    """What one dialect spells differently; everything else is shared."""

    name: str
    quote: Callable[[str], str]
    """An identifier, quoted."""
    text: str
    small_int: str
    """The type of the tier columns (``int8`` in trustctl's files)."""
    big_int: str
    double: str
    """An IEEE 754 double: ``ai_confidence`` compared with a cut as trustctl compares it."""
    instant: str
    """A point in time (UTC-based)."""
    parse_time: Callable[[str], str]
    """Text (ISO-8601; no zone = UTC) to an instant."""
    utc_day: Callable[[str], str]
    """An instant to its UTC date."""
    pick: Callable[[str, Sequence[str], bool], str]
    """The value of the row with the smallest (``False``) or largest (``True``) key."""
    by_code_point: Callable[[str], str]
    """A text expression that sorts by code point."""
    export: tuple[str, ...]
    """How to write the result as Parquet (header comment lines)."""


def _zoned_or_naive(zoned: str, naive: str, matches: str) -> Callable[[str], str]:
    """Parse as ``zoned`` when the text names a zone, else as ``naive`` (read as UTC)."""

    def parse(column: str) -> str:
        return (
            f"CASE WHEN {matches.format(column=column, pattern=ZONED_PATTERN)} "
            f"THEN {zoned.format(column=column)} ELSE {naive.format(column=column)} END"
        )

    return parse


#: A time of 'HH:MM' with no seconds (group 1) and what follows it (group 2): Spark and
#: BigQuery read a time only with its seconds, so ':00' is put between the two.
_NO_SECONDS = "([T ][0-9]{2}:[0-9]{2})(Z|[+-]|$)"
#: The text, upper case, with its seconds spelt out (a ``format`` template: braces doubled).
_SPARK_SECONDS = (
    "REGEXP_REPLACE(UPPER({column}), '"
    + _NO_SECONDS.replace("{", "{{").replace("}", "}}")
    + "', '$1:00$2')"
)


def _no_change(expression: str) -> str:
    return expression


def _order(keys: Sequence[str], largest: bool) -> str:
    return ", ".join(f"{key} DESC" if largest else key for key in keys)


def _pick_duckdb(value: str, keys: Sequence[str], largest: bool) -> str:
    return f"{'arg_max' if largest else 'arg_min'}({value}, ({', '.join(keys)}))"


def _pick_spark(value: str, keys: Sequence[str], largest: bool) -> str:
    return f"{'max_by' if largest else 'min_by'}({value}, struct({', '.join(keys)}))"


def _pick_bigquery(value: str, keys: Sequence[str], largest: bool) -> str:
    return f"ARRAY_AGG({value} ORDER BY {_order(keys, largest)} LIMIT 1)[OFFSET(0)]"


def _pick_postgres(value: str, keys: Sequence[str], largest: bool) -> str:
    # No min_by: the group's values in key order, the first of them.
    return f"(ARRAY_AGG({value} ORDER BY {_order(keys, largest)}))[1]"


def _double_quoted(name: str) -> str:
    return f'"{name}"'


def _backquoted(name: str) -> str:
    return f"`{name}`"


#: Every dialect by its name, in the order the CLI lists them.
SPELLINGS: dict[str, Dialect] = {
    "duckdb": Dialect(
        name="DuckDB",
        quote=_double_quoted,
        text="VARCHAR",
        small_int="TINYINT",
        big_int="BIGINT",
        double="DOUBLE",
        instant="TIMESTAMPTZ",
        parse_time=_zoned_or_naive(
            "CAST(UPPER({column}) AS TIMESTAMPTZ)",
            "timezone('UTC', CAST(UPPER({column}) AS TIMESTAMP))",
            "regexp_matches({column}, '{pattern}')",
        ),
        utc_day=lambda instant: f"CAST(timezone('UTC', {instant}) AS DATE)",
        pick=_pick_duckdb,
        by_code_point=_no_change,
        export=(
            "COPY (<this query>) TO 'segments.parquet' (FORMAT parquet);",
            "(TIMESTAMPTZ is written as timestamp[us, UTC], TINYINT as int8.)",
        ),
    ),
    "spark": Dialect(
        name="Spark SQL",
        quote=_backquoted,
        text="STRING",
        small_int="TINYINT",
        big_int="BIGINT",
        double="DOUBLE",
        instant="TIMESTAMP",
        # Spark reads 'HH:MM' only without a zone: the seconds are spelt out. A naive time
        # gets an explicit 'Z', so the session time zone plays no part.
        parse_time=_zoned_or_naive(
            f"CAST({_SPARK_SECONDS} AS TIMESTAMP)",
            f"CAST(CONCAT({_SPARK_SECONDS}, "
            "CASE WHEN {column} RLIKE '[Tt ]' THEN 'Z' ELSE 'T00:00:00Z' END) AS TIMESTAMP)",
            "{column} RLIKE '{pattern}'",
        ),
        utc_day=lambda instant: (
            f"DATE_FROM_UNIX_DATE(CAST(FLOOR(UNIX_MICROS({instant}) / 86400000000) AS INT))"
        ),
        pick=_pick_spark,
        by_code_point=_no_change,
        export=(
            "spark.conf.set('spark.sql.parquet.outputTimestampType', 'TIMESTAMP_MICROS')",
            "spark.sql(<this query>).coalesce(1).write.parquet('segments')",
        ),
    ),
    "bigquery": Dialect(
        name="BigQuery (GoogleSQL)",
        quote=_backquoted,
        text="STRING",
        small_int="INT64",
        big_int="INT64",
        double="FLOAT64",
        instant="TIMESTAMP",
        # A string without a zone is UTC in BigQuery; its documented form has seconds, and
        # '+0200' is respelt '+02:00'. (Never run in BigQuery: see the README.)
        parse_time=lambda column: (
            "CAST(REGEXP_REPLACE(REGEXP_REPLACE(UPPER("
            f"{column}), r'{_NO_SECONDS}', r'\\1:00\\2'), "
            r"r'([+-][0-9]{2})([0-9]{2})$', r'\1:\2') AS TIMESTAMP)"
        ),
        utc_day=lambda instant: f"DATE({instant}, 'UTC')",
        pick=_pick_bigquery,
        by_code_point=_no_change,
        export=(
            "EXPORT DATA OPTIONS (uri = 'gs://BUCKET/segments/*.parquet', format = 'PARQUET')",
            "AS <this query>;  -- then copy the files down and pass the folder",
            "(BigQuery has no 8-bit integer: the tiers are int64, which trustctl reads too.)",
        ),
    ),
    "postgres": Dialect(
        name="PostgreSQL",
        quote=_double_quoted,
        text="text",
        small_int="smallint",
        big_int="bigint",
        double="double precision",
        instant="timestamptz",
        parse_time=_zoned_or_naive(
            "CAST({column} AS timestamptz)",
            "(CAST({column} AS timestamp) AT TIME ZONE 'UTC')",
            "{column} ~ '{pattern}'",
        ),
        utc_day=lambda instant: f"CAST(({instant} AT TIME ZONE 'UTC') AS date)",
        pick=_pick_postgres,
        by_code_point=lambda expression: f'{expression} COLLATE "C"',
        export=(
            "PostgreSQL writes no Parquet itself; e.g. from DuckDB, with its postgres extension:",
            "ATTACH 'dbname=NAME' AS pg (TYPE postgres, READ_ONLY);",
            "COPY (FROM postgres_query('pg', $$<this query>$$)) TO 'segments.parquet';",
            "(smallint tiers are int16 there, which trustctl reads too.)",
        ),
    ),
}
