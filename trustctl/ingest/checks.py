"""Validating rows (vocabularies, ids, confidence) and decisions (conflicts, required fields)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from trustctl.ingest.columns import CODED, TEXT, Rows, Text
from trustctl.ingest.grouping import Grouping, blank_ids, merged_codes
from trustctl.ingest.problems import MAX_REPORTED, Problems
from trustctl.schema import (
    ACTION_CLASS_PATTERN,
    ACTION_CLASS_TEXT,
    FALSE_SPELLINGS,
    HUMAN_CODES,
    MODE_SPELLINGS,
    MODES,
    OUTCOME_CODES,
    REQUIRED_PER_DECISION,
    RISK_TIERS,
    SEVERITY_CODES,
    SYSTEM_TIERS,
    TRUE_SPELLINGS,
)

__all__ = ["Typed", "check_decisions", "check_rows", "find_conflicts"]

_ACTION_CLASS = re.compile(ACTION_CLASS_PATTERN)
#: Plain decimals of at most 15 digits: ``float`` reads them as pandas does (both exactly
#: rounded; tests/test_confidence_numbers.py compares them over a million spellings).
_PLAIN_DECIMAL = re.compile(r"(?=.*[0-9])[0-9]{0,15}(\.[0-9]{0,15})?")


def _vocabulary(
    name: str, allowed: Callable[[str], int | None], describe: str
) -> Callable[[Text, Problems], np.ndarray]:
    """A column checker: the code of each distinct value, then -1 (for empty): index it
    with the column's codes. It reports the rows of unknown values (their code is -1)."""

    def check(column: Text, problems: Problems) -> np.ndarray:
        lookup = np.full(len(column.values) + 1, -1, dtype=np.int8)
        for index, text in enumerate(column.values.to_pylist()):
            code = allowed(text)
            if code is None:
                problems.add(column.rows_of(index), f"column '{name}': {text!r} is not {describe}")
            else:
                lookup[index] = code
        return lookup

    return check


def _tier(high: int) -> Callable[[str], int | None]:
    """A tier spelled as one ASCII digit, ``1`` to ``high``: no sign, zero or other script."""
    spellings = {str(tier): tier for tier in range(1, high + 1)}
    return spellings.get


def _boolean(text: str) -> int | None:
    lowered = text.lower()
    return 1 if lowered in TRUE_SPELLINGS else 0 if lowered in FALSE_SPELLINGS else None


def _one_of(names: Iterable[str], *, empty: bool = True) -> str:
    return f"one of {', '.join(names)}{' or empty' if empty else ''}"


_CHECKS = {
    "mode": _vocabulary(
        "mode",
        lambda t: MODE_SPELLINGS[t].rank if t in MODE_SPELLINGS else None,
        _one_of(MODES, empty=False),
    ),
    "human_decision": _vocabulary("human_decision", HUMAN_CODES.get, _one_of(HUMAN_CODES)),
    "executed": _vocabulary("executed", _boolean, "true/false"),
    "outcome": _vocabulary("outcome", OUTCOME_CODES.get, _one_of(OUTCOME_CODES)),
    "severity": _vocabulary("severity", SEVERITY_CODES.get, _one_of(SEVERITY_CODES)),
    "system_tier": _vocabulary(
        "system_tier", _tier(SYSTEM_TIERS), f"a system tier 1..{SYSTEM_TIERS}"
    ),
    "risk_tier": _vocabulary("risk_tier", _tier(RISK_TIERS), f"a risk tier 1..{RISK_TIERS}"),
    "review_sampled": _vocabulary("review_sampled", _boolean, "true/false or empty"),
}


@dataclass(frozen=True)
class Typed:
    """What the values of the coded columns mean, per distinct value (not per row)."""

    lookups: dict[str, np.ndarray]
    """Per column of ``_CHECKS``, each distinct value's code, then -1 for empty (and for
    an invalid value): index it with the column's codes."""
    confidence: np.ndarray
    """Each distinct ``ai_confidence`` value's number (NaN if not one), then NaN for empty."""

    def codes(self, rows: Rows, name: str, which: np.ndarray | None = None) -> np.ndarray:
        """A coded column's codes in every row (or the rows ``which``), -1 empty."""
        values = rows.texts[name].codes
        found: np.ndarray = self.lookups[name][values if which is None else values[which]]
        return found


def check_rows(rows: Rows, problems: Problems) -> Typed:
    """Validate every column of every row but the time; return what they mean."""
    problems.add(blank_ids(rows.ids), "column 'decision_id': empty; an id is required")
    lookups = {name: check(rows.texts[name], problems) for name, check in _CHECKS.items()}
    action = rows.texts["action_class"]
    for index, value in enumerate(action.values.to_pylist()):
        if not _ACTION_CLASS.match(value):
            problems.add(
                action.rows_of(index),
                f"column 'action_class': {value!r} must match {ACTION_CLASS_TEXT}",
            )
    return Typed(lookups, _check_confidence(rows.texts["ai_confidence"], problems))


def _check_confidence(column: Text, problems: Problems) -> np.ndarray:
    """Each distinct confidence's number (then NaN for empty), reporting those not in [0, 1]."""
    numbers = confidence_numbers(column.values)
    bad = ~((numbers >= 0) & (numbers <= 1))  # NaN fails both
    if bad.any():
        out_of_range = np.flatnonzero(np.isin(column.codes, np.flatnonzero(bad)))
        for row in out_of_range[:MAX_REPORTED]:
            problems.add(
                np.array([row]),
                f"column 'ai_confidence': {column.text(int(row))!r} is not a number in [0, 1]",
            )
        problems.add(out_of_range[MAX_REPORTED:], "column 'ai_confidence': not a number in [0, 1]")
    return np.append(numbers, np.nan)


def confidence_numbers(values: pa.Array) -> np.ndarray:
    """Confidences (text) as numbers as ``pandas.to_numeric`` reads them (NaN if not a
    number). Plain decimals are read by ``float``; pandas is imported only for others."""
    spelled: list[str] = values.to_pylist()
    if all(_plain(text) for text in spelled):
        return np.array([float(text) for text in spelled], dtype=np.float64)
    import pandas as pd

    found = pd.to_numeric(values.to_pandas(), errors="coerce")
    return np.asarray(found, dtype=np.float64)


def _plain(text: str) -> bool:
    return _PLAIN_DECIMAL.fullmatch(text) is not None and sum(map(str.isdigit, text)) <= 15


def _first_seen_codes(numbers: np.ndarray) -> tuple[np.ndarray, int]:
    """Each number's code in the order values first appear (NaN: -1; 0.0 and -0.0 are one
    value), and how many values there are: what ``pandas.factorize`` gives."""
    given = ~np.isnan(numbers)
    distinct, first, inverse = np.unique(numbers[given], return_index=True, return_inverse=True)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(distinct))
    codes = np.full(len(numbers), -1, dtype=np.int64)
    codes[given] = rank[inverse.reshape(-1)]
    return codes, len(distinct)


def _value_codes(rows: Rows, typed: Typed, which: np.ndarray) -> Iterator[tuple[str, np.ndarray]]:
    """Each merged column's codes at some rows: -1 empty, equal codes for equal values.

    A column with fewer than two values cannot conflict and is left out.
    """
    for name in CODED:
        if len(np.unique(typed.lookups[name][typed.lookups[name] >= 0])) > 1:
            yield name, typed.codes(rows, name, which)
    for name in TEXT:
        if len(rows.texts[name].values) > 1:
            yield name, rows.texts[name].codes[which]
    # Equal numbers are one value however spelled (0.5, 0.50).
    numbers, distinct = _first_seen_codes(typed.confidence)  # NaN (empty, invalid) is -1
    if distinct > 1:
        yield "ai_confidence", numbers[rows.texts["ai_confidence"].codes[which]]


def find_conflicts(rows: Rows, groups: Grouping, typed: Typed, problems: Problems) -> None:
    """Report each row that gives a decision a second, different non-empty value.

    Only decisions with several rows can conflict, in a column with two values at
    least. Per column, one does when a non-empty code is not the largest; only the rows
    of such decisions are then looked at one by one.
    """
    if groups.unique:
        return
    which, starts = groups.rows, groups.starts
    sizes = np.diff(starts, append=np.int32(len(which)))
    for name, codes in _value_codes(rows, typed, which):
        # A row clashes when it gives a value, but not the decision's largest.
        clashes = (codes >= 0) & (codes != np.repeat(np.maximum.reduceat(codes, starts), sizes))
        if clashes.any():
            clash = np.repeat(np.logical_or.reduceat(clashes, starts), sizes)
            _report_conflicts(name, groups, which[clash], codes[clash], rows, problems)


def _report_conflicts(
    name: str,
    groups: Grouping,
    which: np.ndarray,
    codes: np.ndarray,
    rows: Rows,
    problems: Problems,
) -> None:
    """Messages for the rows ``which`` (by decision, then row) of conflicting decisions."""
    import pandas as pd  # the error path only

    given = codes >= 0
    pairs = pd.DataFrame(
        {"decision": groups.code[which[given]], "value": codes[given], "row": which[given]}
    )
    distinct = pairs.drop_duplicates(["decision", "value"])  # each value's first row
    later = distinct["decision"].duplicated(keep="first").to_numpy()
    first_row = distinct.drop_duplicates("decision").set_index("decision")["row"]
    conflicting = distinct[later].sort_values("row")
    text = rows.texts[name]
    # Only the first rows can be among the errors shown; the rest are counted.
    for decision_code, row in conflicting[["decision", "row"]].head(MAX_REPORTED).to_numpy():
        earlier = int(first_row[decision_code])
        problems.add(
            np.array([row]),
            f"column '{name}': {text.text(int(row))!r} conflicts with {text.text(earlier)!r} "
            f"given earlier for decision {rows.ids[int(row)].as_py()!r}",
        )
    problems.add(
        conflicting["row"].to_numpy()[MAX_REPORTED:], f"column '{name}': conflicting values"
    )


def check_decisions(rows: Rows, groups: Grouping, typed: Typed, problems: Problems) -> None:
    """Rules that hold per decision once all its rows are merged."""
    first_row = groups.first
    for name in REQUIRED_PER_DECISION:
        # From the text, so a value that was given but invalid is not also reported as missing.
        missing = ~groups.any(rows.texts[name].given())
        problems.add(
            first_row[missing],
            f"column '{name}': empty in every row of the decision; it is required",
        )
    verified_codes = (OUTCOME_CODES["success"], OUTCOME_CODES["failure"])
    outcome = typed.codes(rows, "outcome")
    not_executed = merged_codes(groups, typed.codes(rows, "executed")) == 0
    merged_outcome = merged_codes(groups, outcome)
    verified = (merged_outcome == verified_codes[0]) | (merged_outcome == verified_codes[1])
    bad = np.flatnonzero(not_executed & verified)
    if len(bad):
        outcome_rows = np.isin(groups.code, bad) & np.isin(outcome, verified_codes)
        problems.add(
            np.flatnonzero(outcome_rows),
            "column 'outcome': an action that was not executed (executed=false) has no "
            "outcome; leave it empty or 'unknown'",
        )
