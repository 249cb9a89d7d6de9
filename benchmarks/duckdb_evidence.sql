-- The DuckDB baseline: evidence per action class within the 180-day window.
--
-- Reads the view `log_rows` (decision_id, ts TIMESTAMPTZ, action_class, human_decision,
-- executed BOOLEAN, outcome, severity), one row per event row of the log; duckdb_baseline.py
-- defines it over the CSV or Parquet file. The session time zone must be UTC.

WITH decisions AS (
    -- Event rows merged per decision: its time is its earliest row's, the time it was
    -- recorded its latest row's; every other field is its one non-empty value (NULL sorts
    -- below any value, so max() picks it).
    SELECT
        decision_id,
        min(ts) AS decided_at,
        max(ts) AS recorded_at,
        max(action_class) AS action_class,
        max(human_decision) AS human_decision,
        bool_or(executed) AS executed,
        max(outcome) AS outcome,
        max(severity) AS severity
    FROM log_rows
    GROUP BY decision_id
),

window_start AS (
    -- as_of = the latest row; the window's first day is the UTC day of as_of - 180 days,
    -- rounded up to the next midnight unless it is one.
    SELECT
        CASE
            WHEN start_at = date_trunc('day', start_at) THEN CAST(start_at AS DATE)
            ELSE CAST(start_at AS DATE) + 1
        END AS first_day
    FROM (SELECT max(recorded_at) - INTERVAL 180 DAY AS start_at FROM decisions)
),

dated AS (
    -- Decisions count by the day they were taken; critical failures by the day they
    -- were recorded.
    SELECT
        decisions.*,
        first_day,
        CAST(decided_at AS DATE) >= first_day AS counted,
        CAST(recorded_at AS DATE) >= first_day AS recorded_in_window
    FROM decisions CROSS JOIN window_start
)

SELECT
    action_class,
    count(*) FILTER (WHERE counted) AS decisions,
    count(*) FILTER (
        WHERE counted AND human_decision IN ('approved', 'rejected', 'modified', 'overridden')
    ) AS reviewed,
    count(*) FILTER (WHERE counted AND human_decision = 'approved') AS agreed,
    count(*) FILTER (WHERE counted AND human_decision = 'timeout') AS timeouts,
    count(*) FILTER (WHERE counted AND executed) AS executed,
    count(*) FILTER (
        WHERE counted AND executed AND outcome IN ('success', 'failure')
    ) AS verified,
    count(*) FILTER (WHERE counted AND executed AND outcome = 'success') AS succeeded,
    count(*) FILTER (
        WHERE counted AND executed AND coalesce(outcome, '') NOT IN ('success', 'failure')
    ) AS unverified,
    count(*) FILTER (
        WHERE recorded_in_window AND executed AND outcome = 'failure' AND severity = 'critical'
    ) AS critical_failures,
    any_value(first_day) AS first_day
FROM dated
GROUP BY action_class
ORDER BY action_class
