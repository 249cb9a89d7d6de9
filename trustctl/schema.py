"""Decision-log schema v1 in one place: columns, vocabularies and codes, patterns, time rules.

Ingest validates against it, ``sample`` writes it, evidence files and the SQL query read
its spellings, and the CLI documents it; none of them spells a column or a value itself.
"""

from __future__ import annotations

from trustctl.levels import LADDER, LEVEL_SPELLINGS
from trustctl.times import EARLIEST, LATEST, RANGE_TEXT

__all__ = [
    "ACTION_CLASS_PATTERN",
    "ACTION_CLASS_TEXT",
    "COLUMNS",
    "DATED_PATTERN",
    "EARLIEST",
    "FALSE_SPELLINGS",
    "HUMAN_CODES",
    "JUDGED",
    "LATEST",
    "MODES",
    "MODE_SPELLINGS",
    "OUTCOME_CODES",
    "PER_ROW_COLUMNS",
    "RANGE_TEXT",
    "REQUIRED_COLUMNS",
    "REQUIRED_PER_DECISION",
    "RISK_TIERS",
    "SEVERITY_CODES",
    "SYSTEM_TIERS",
    "TRUE_SPELLINGS",
    "VERIFIED",
    "ZONED_PATTERN",
]

#: Every column of decision-log schema v1, in order; other columns are ignored.
COLUMNS: tuple[str, ...] = (
    "decision_id",
    "timestamp",
    "action_class",
    "mode",
    "human_decision",
    "executed",
    "outcome",
    "severity",
    "service",
    "system_tier",
    "risk_tier",
    "agent_version",
    "ai_confidence",
    "reviewer",
    "rationale",
    "incident_id",
    "review_sampled",
)
#: Columns every file must have.
REQUIRED_COLUMNS: tuple[str, ...] = ("decision_id", "timestamp", "action_class", "mode", "executed")
#: Required columns that may be empty in some event rows of a decision, but not in all.
REQUIRED_PER_DECISION: tuple[str, ...] = ("action_class", "mode", "executed")
#: Columns with (nearly) a value of their own in every row; the others have few values.
PER_ROW_COLUMNS: tuple[str, ...] = ("decision_id", "timestamp")

#: The levels ``mode`` names, in ladder order (a level's code is its rank).
MODES: tuple[str, ...] = tuple(level.value for level in LADDER)
#: Spellings of ``mode``, each with the level it names.
MODE_SPELLINGS = LEVEL_SPELLINGS
#: Codes of ``human_decision``; -1 is empty.
HUMAN_CODES: dict[str, int] = {
    "approved": 0,
    "rejected": 1,
    "modified": 2,
    "timeout": 3,
    "overridden": 4,
}
#: The human decisions that are a judgement (agree or disagree): all but a timeout.
JUDGED: tuple[str, ...] = ("approved", "rejected", "modified", "overridden")
#: Codes of ``outcome``; -1 is empty.
OUTCOME_CODES: dict[str, int] = {"success": 0, "failure": 1, "unknown": 2}
#: The outcomes that are verified (an ``unknown`` or empty one is not).
VERIFIED: tuple[str, ...] = ("success", "failure")
#: Codes of ``severity``; -1 is empty.
SEVERITY_CODES: dict[str, int] = {"minor": 0, "major": 1, "critical": 2}
#: Spellings of ``executed``, compared lower-cased.
TRUE_SPELLINGS: tuple[str, ...] = ("true", "1", "yes")
FALSE_SPELLINGS: tuple[str, ...] = ("false", "0", "no")
#: The highest ``system_tier`` and ``risk_tier``: tiers are one ASCII digit from 1.
SYSTEM_TIERS = 4
RISK_TIERS = 3

#: What an ``action_class`` may be made of.
ACTION_CLASS_TEXT = "[A-Za-z0-9._:/-]{1,200}"
ACTION_CLASS_PATTERN = f"^{ACTION_CLASS_TEXT}$"

#: A time of day followed by a zone (``Z``, ``±hh``, ``±hhmm``, ``±hh:mm``); a time without
#: one is naive and read as UTC, and a date alone is midnight UTC. Written so that RE2
#: (Arrow), Python and the SQL engines read it alike.
ZONED_PATTERN = "[Tt ].*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
#: What a time is made of before it is parsed: ASCII, starting with the year's digits.
DATED_PATTERN = r"^[0-9]{4}[\x00-\x7f]*$"
