"""Decision logs in, one validated row per decision out: vocabularies, merging, bad rows.

Files are found (``find``) and read batch by batch (``read`` over ``csv_log``,
``jsonl_log``, ``parquet_log``) into compact columns (``columns``), never into text per
row: each decision id as Arrow text, each time as microseconds (``timestamps``), and
every other column as a small code per row into its distinct values. Validation is
vectorised (``checks``): the few distinct values of a column are checked once, and only
a bad one is looked up among the rows. Rows are grouped by decision once (``grouping``)
and merged field by field (``merge``). Problems are gathered as (row, message) pairs
(``problems``) and turned into ``FILE:LINE`` only on the error path (``report``,
``lines``). ``load`` puts these steps together.
"""

from trustctl.ingest.decisions import (
    BadRow,
    Counted,
    Decisions,
    IngestReport,
    OnBadRows,
    SourceSummary,
    parts_report,
    summed_report,
)
from trustctl.ingest.find import find_logs
from trustctl.ingest.load import (
    count_decisions,
    count_part,
    load_decisions,
    load_part,
    load_timeline,
)
from trustctl.ingest.spill import Spilled, spilled

__all__ = [
    "BadRow",
    "Counted",
    "Decisions",
    "IngestReport",
    "OnBadRows",
    "SourceSummary",
    "Spilled",
    "count_decisions",
    "count_part",
    "find_logs",
    "load_decisions",
    "load_part",
    "load_timeline",
    "parts_report",
    "spilled",
    "summed_report",
]
