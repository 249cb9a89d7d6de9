-- The DuckDB baseline: evidence per action class within the 180-day window.
--
-- Reads the view `log_rows` (decision_id, action_class, ts TIMESTAMPTZ, flags INTEGER), one
-- row per event row of the log; duckdb_baseline.py defines it over the CSV or Parquet file,
-- each text field turned into the bits the counts need:
--   1 executed, 2 reviewed (approved, rejected, modified or overridden), 4 agreed (approved),
--   8 timeout, 16 success, 32 failure, 64 critical (severity).
-- The session time zone must be UTC.

WITH decisions AS (
    -- Event rows merged per decision: its time is its earliest row's, the time it was
    -- recorded its latest row's; every other field is its one non-empty value (NULL sorts
    -- below any value, so max() picks it), and its bits are the bits of the rows that give
    -- the fields.
    SELECT
        decision_id,
        min(ts) AS decided_at,
        max(ts) AS recorded_at,
        max(action_class) AS action_class,
        bit_or(flags) AS flags
    FROM log_rows
    GROUP BY decision_id
),

days AS (
    -- The decisions counted by class, day taken, day recorded and bits: a small table.
    SELECT
        action_class,
        CAST(decided_at AS DATE) AS decided_day,
        CAST(recorded_at AS DATE) AS recorded_day,
        flags,
        count(*) AS n,
        max(recorded_at) AS latest
    FROM decisions
    GROUP BY ALL
),

window_start AS (
    -- as_of = the latest row; the window's first day is the UTC day of as_of - 180 days,
    -- rounded up to the next midnight unless it is one.
    SELECT
        CASE
            WHEN start_at = date_trunc('day', start_at) THEN CAST(start_at AS DATE)
            ELSE CAST(start_at AS DATE) + 1
        END AS first_day
    FROM (SELECT max(latest) - INTERVAL 180 DAY AS start_at FROM days)
),

dated AS (
    -- Decisions count by the day they were taken; critical failures by the day they
    -- were recorded.
    SELECT
        days.*,
        first_day,
        decided_day >= first_day AS counted,
        recorded_day >= first_day AS recorded_in_window,
        flags & 1 <> 0 AS executed,
        flags & (16 | 32) <> 0 AS verified
    FROM days CROSS JOIN window_start
)

SELECT
    action_class,
    coalesce(sum(n) FILTER (WHERE counted), 0) AS decisions,
    coalesce(sum(n) FILTER (WHERE counted AND flags & 2 <> 0), 0) AS reviewed,
    coalesce(sum(n) FILTER (WHERE counted AND flags & 4 <> 0), 0) AS agreed,
    coalesce(sum(n) FILTER (WHERE counted AND flags & 8 <> 0), 0) AS timeouts,
    coalesce(sum(n) FILTER (WHERE counted AND executed), 0) AS executed,
    coalesce(sum(n) FILTER (WHERE counted AND executed AND verified), 0) AS verified,
    coalesce(sum(n) FILTER (WHERE counted AND executed AND flags & 16 <> 0), 0) AS succeeded,
    coalesce(sum(n) FILTER (WHERE counted AND executed AND NOT verified), 0) AS unverified,
    coalesce(
        sum(n) FILTER (WHERE recorded_in_window AND executed AND flags & (32 | 64) = 96), 0
    ) AS critical_failures,
    any_value(first_day) AS first_day
FROM dated
GROUP BY action_class
ORDER BY action_class
