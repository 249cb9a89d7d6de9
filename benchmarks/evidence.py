"""The evidence numbers every implementation computes, their JSON form, and their comparison.

Standard library only: the timed baselines import this module, so it must cost them nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The window the evidence is counted in (the rules' default ``window``).
WINDOW_DAYS = 180

#: Per action class, within the window (benchmarks/README.md defines each). ``decisions`` and
#: ``executed`` are not in the issue's list, but the segments table has them and they cost
#: nothing, so they are compared too.
COUNTS: tuple[str, ...] = (
    "decisions",
    "reviewed",
    "agreed",
    "timeouts",
    "executed",
    "verified",
    "succeeded",
    "unverified",
    "critical_failures",
)

#: ``human_decision`` values that are a human judgement (a timeout is not one).
REVIEWED: tuple[str, ...] = ("approved", "rejected", "modified", "overridden")
#: ``executed`` spellings that mean true (compared lower-cased).
TRUE_SPELLINGS: tuple[str, ...] = ("true", "1", "yes")


@dataclass(frozen=True)
class Evidence:
    """One implementation's answer: the window's first day and the counts per action class."""

    first_day: str | None
    """ISO date of the window's first UTC day; None when the implementation does not say."""
    classes: dict[str, dict[str, int]]
    """action_class -> count name -> value, for every class with a non-zero count."""


def evidence(first_day: str | None, rows: Sequence[Mapping[str, object]]) -> Evidence:
    """Build an ``Evidence`` from rows holding ``action_class`` and every count in ``COUNTS``."""
    classes: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = {name: int(str(row[name])) for name in COUNTS}
        if any(counts.values()):
            classes[str(row["action_class"])] = counts
    return Evidence(first_day=first_day, classes=dict(sorted(classes.items())))


def write(path: Path, result: Evidence) -> None:
    """Write ``result`` as JSON."""
    document = {"first_day": result.first_day, "classes": result.classes}
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read(path: Path) -> Evidence:
    """Read what ``write`` wrote."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return Evidence(first_day=document["first_day"], classes=document["classes"])


def differences(expected: Evidence, actual: Evidence, name: str) -> list[str]:
    """Every number in which ``actual`` differs from ``expected``, one line each."""
    problems: list[str] = []
    if None not in (expected.first_day, actual.first_day) and (
        expected.first_day != actual.first_day
    ):
        problems.append(f"{name}: window starts {actual.first_day}, expected {expected.first_day}")
    zero = dict.fromkeys(COUNTS, 0)
    for action_class in sorted(expected.classes.keys() | actual.classes.keys()):
        want = expected.classes.get(action_class, zero)
        got = actual.classes.get(action_class, zero)
        problems.extend(
            f"{name}: {action_class} {count} = {got[count]}, expected {want[count]}"
            for count in COUNTS
            if got[count] != want[count]
        )
    return problems
