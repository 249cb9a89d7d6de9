"""Generate a realistic synthetic decision log (schema v1) for demos, tests and benchmarks.

The decisions are drawn here from the scenarios of ``sample_scenarios`` and written by
``sample_csv``; their names are re-exported."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trustctl import schema, times
from trustctl.levels import LADDER, Level
from trustctl.sample_csv import write_frame
from trustctl.sample_scenarios import (
    AGENT_VERSIONS,
    COLUMNS,
    DEFAULT_END,
    EVENT_STREAM_SHARE,
    OFFSET_SHARE,
    RATIONALES,
    REVIEWERS,
    SCENARIOS,
    SERVICE_TIERS,
    SPAN_DAYS,
    VERSION_CHANGE_DAYS_AGO,
    CriticalFailure,
    Scenario,
)

__all__ = [
    "AGENT_VERSIONS",
    "COLUMNS",
    "DEFAULT_END",
    "EVENT_STREAM_SHARE",
    "OFFSET_SHARE",
    "RATIONALES",
    "REVIEWERS",
    "SCENARIOS",
    "SERVICE_TIERS",
    "SPAN_DAYS",
    "VERSION_CHANGE_DAYS_AGO",
    "Codes",
    "CriticalFailure",
    "Flags",
    "Floats",
    "Scenario",
    "generate_sample",
    "write_frame",
    "write_sample",
]

_HUMAN = ("", *schema.HUMAN_CODES)
_OUTCOME = ("", *schema.OUTCOME_CODES)
_SEVERITY = ("", *schema.SEVERITY_CODES)
_OFFSETS = (("Z", 0), ("+02:00", 120), ("-05:00", -300), ("+05:30", 330), ("+09:00", 540))
_VERDICT_COLUMNS = (
    "human_decision",
    "outcome",
    "severity",
    "reviewer",
    "rationale",
    "incident_id",
    "review_sampled",
)
_DAY = 86400
_MAX_VERDICT_DELAY = 900
"""A verdict row follows its proposal by at most this many seconds."""

Codes = npt.NDArray[np.int64]
Flags = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


def generate_sample(
    decisions: int = 6000, seed: int = 7, end: dt.datetime = DEFAULT_END
) -> pd.DataFrame:
    """A decision log of ``decisions`` decisions over the ``SPAN_DAYS`` days before ``end``.

    Every column is a string (empty when missing), in ``COLUMNS`` order, sorted by timestamp
    then decision id. About ``EVENT_STREAM_SHARE`` of decisions take two rows. The same
    arguments always give the same frame.
    """
    if decisions < 1:
        raise ValueError(f"decisions must be at least 1, got {decisions}")
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    rng = np.random.default_rng(seed)
    columns = _decide(_allocate(decisions), rng)
    first_second = math.ceil(end.timestamp()) - SPAN_DAYS * _DAY
    return _to_rows(columns, rng, first_second)


def write_sample(directory: Path, decisions: int = 6000, seed: int = 7) -> Path:
    """Write ``generate_sample(decisions, seed)`` to ``directory/decisions.csv`` atomically.

    Raise ``TrustctlError`` naming the path when ``directory`` is not a directory, or
    the file cannot be written; then an existing ``decisions.csv`` is left as it was.
    """
    return write_frame(directory, generate_sample(decisions, seed))


def _allocate(decisions: int) -> Codes:
    """Decisions per scenario: one each (largest shares first), the rest in proportion."""
    shares = np.array([scenario.share for scenario in SCENARIOS])
    reserved = np.zeros(len(SCENARIOS), dtype=np.int64)
    reserved[np.argsort(-shares, kind="stable")[:decisions]] = 1
    rest = decisions - int(reserved.sum())
    quota = shares / shares.sum() * rest
    counts = np.floor(quota).astype(np.int64)
    counts[np.argsort(counts - quota, kind="stable")[: rest - int(counts.sum())]] += 1
    return np.asarray(counts + reserved, dtype=np.int64)


def _decide(counts: Codes, rng: np.random.Generator) -> dict[str, Codes]:
    """One entry per decision, in time order: seconds since the start and column codes."""
    total = int(counts.sum())
    span = SPAN_DAYS * _DAY
    scenario = np.repeat(np.arange(len(SCENARIOS)), counts)
    # Adoption grows: the density of decisions rises linearly to twice its initial value.
    position = np.sqrt(1 + 3 * rng.random(total)) - 1
    second = (position * (span - 4 * _MAX_VERDICT_DELAY)).astype(np.int64)
    critical = np.zeros(total, dtype=np.bool_)
    mode = np.zeros(total, dtype=np.int64)
    service = np.zeros(total, dtype=np.int64)
    services = list(SERVICE_TIERS)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    for index, entry in enumerate(SCENARIOS):
        part = slice(int(bounds[index]), int(bounds[index + 1]))
        if part.start == part.stop:
            continue
        if entry.critical_failure is not None:
            planted = span - round(entry.critical_failure.days_ago * _DAY)
            nearest = part.start + int(np.argmin(np.abs(second[part] - planted)))
            second[nearest] = planted
            critical[nearest] = True
        starts = np.array([span - days * _DAY for _, days in entry.modes])
        ranks = np.array([level.rank for level, _ in entry.modes])
        mode[part] = ranks[np.searchsorted(starts, second[part], side="right") - 1]
        own = np.array([services.index(name) for name in entry.services])
        service[part] = own[rng.integers(0, len(own), part.stop - part.start)]
    order = np.argsort(second, kind="stable")
    scenario, second, mode, service = (array[order] for array in (scenario, second, mode, service))
    critical = critical[order]
    late = second / span
    agreement = _per_scenario("agreement", scenario)
    drifted = np.array(
        [s.agreement if s.late_agreement is None else s.late_agreement for s in SCENARIOS]
    )
    agreement += (drifted[scenario] - agreement) * late
    columns = _judge(mode, agreement, scenario, critical, rng)
    columns.update(
        second=second,
        action_class=scenario,
        risk_tier=scenario,
        mode=mode,
        service=service,
        agent_version=(second >= span - VERSION_CHANGE_DAYS_AGO * _DAY).astype(np.int64),
    )
    return columns


def _per_scenario(field: str, scenario: Codes) -> Floats:
    """A numeric scenario attribute, one value per decision."""
    values = np.array([getattr(entry, field) for entry in SCENARIOS], dtype=np.float64)
    return values[scenario]


def _judge(
    mode: Codes, agreement: Floats, scenario: Codes, critical: Flags, rng: np.random.Generator
) -> dict[str, Codes]:
    """Human verdicts, execution, outcomes and their paperwork for every decision."""
    total = len(mode)
    sound = rng.random(total) < agreement
    lapsed = rng.random(total) < _per_scenario("timeout", scenario)
    reviewed = rng.random(total) < _per_scenario("review", scenario)
    unverified = rng.random(total) < _per_scenario("unverified", scenario)
    succeeded = rng.random(total) < _per_scenario("success", scenario)
    modified, unknown, major, filed = (rng.random(total) for _ in range(4))

    suggest = mode == Level.SUGGEST.rank
    acting = mode >= Level.AUTO_NOTIFY.rank
    disagreement = np.where(suggest, np.where(modified < 0.4, 3, 2), np.where(acting, 5, 2))
    human = np.where(sound, 1, disagreement)
    human = np.where(suggest & lapsed, 4, np.where(suggest | reviewed, human, 0))
    human[critical] = 5
    executed = acting | (suggest & ((human == 1) | (human == 3)))

    outcome = np.where(succeeded & ~critical, 1, 2)
    outcome = np.where(unverified & ~critical, np.where(unknown < 0.5, 3, 0), outcome)
    outcome = np.where(executed, outcome, 0)
    failed = outcome == 2
    # Once the agent acts, the reviews drawn above are a random audit sample; a critical
    # failure outside it is looked at because it failed: not of the sample.
    sampled = np.where(acting & reviewed, 2, np.where(acting & critical, 1, 0))
    severity = np.where(failed, np.where(major < 0.3, 2, 1), 0)
    severity[critical] = 3
    with_incident = filed < np.array([0.0, 0.1, 0.6, 1.0])[severity]
    judged = (human != 0) & (human != 4)
    return {
        "human_decision": human,
        "executed": executed.astype(np.int64),
        "outcome": outcome,
        "severity": severity,
        "reviewer": np.where(judged, rng.integers(1, len(REVIEWERS) + 1, total), 0),
        "rationale": _rationale(human, failed, critical, scenario, rng),
        "incident_id": np.where(with_incident, rng.integers(10000, 100000, total), 0),
        "review_sampled": sampled,
        "ai_confidence": np.rint(
            np.where(sound, rng.beta(9.0, 1.5, total), rng.beta(3.0, 2.5, total)) * 1000
        ).astype(np.int64),
    }


def _rationale(
    human: Codes, failed: Flags, critical: Flags, scenario: Codes, rng: np.random.Generator
) -> Codes:
    """Codes into ``_rationale_vocabulary()``: a text for disagreements and failures, else 0."""
    situation = np.select([human == 2, human == 3, human == 5, failed], [1, 2, 3, 4], default=0)
    sizes = np.array([1, *(len(texts) for texts in RATIONALES.values())])
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    pick = (rng.random(len(human)) * sizes[situation]).astype(np.int64)
    # Each scenario's critical-failure text follows the shared ones, in scenario order.
    planted = int(sizes.sum()) + np.arange(len(SCENARIOS))
    return np.where(
        critical, planted[scenario], np.where(situation == 0, 0, first[situation] + pick)
    )


def _rationale_vocabulary() -> tuple[str, ...]:
    shared = (text for texts in RATIONALES.values() for text in texts)
    planted = (s.critical_failure.rationale if s.critical_failure else "" for s in SCENARIOS)
    return ("", *shared, *planted)


def _to_rows(
    columns: dict[str, Codes], rng: np.random.Generator, first_second: int
) -> pd.DataFrame:
    """Expand decisions into rows (some as proposal + verdict) and render them as strings."""
    total = len(columns["second"])
    streamed = np.flatnonzero(rng.random(total) < EVENT_STREAM_SHARE)
    decision = np.concatenate((np.arange(total), streamed))
    verdict_pending = np.zeros(len(decision), dtype=np.bool_)
    verdict_pending[streamed] = True
    delay = np.zeros(len(decision), dtype=np.int64)
    delay[total:] = rng.integers(60, _MAX_VERDICT_DELAY + 1, len(streamed))
    second = columns["second"][decision] + delay
    shifted = rng.random(len(decision)) < OFFSET_SHARE
    offset = np.where(shifted, rng.integers(1, len(_OFFSETS), len(decision)), 0)
    order = np.lexsort((decision, second))
    decision, second, offset = (array[order] for array in (decision, second, offset))
    verdict_pending = verdict_pending[order]

    def codes(name: str) -> Codes:
        row_codes = columns[name][decision]
        return np.where(verdict_pending, 0, row_codes) if name in _VERDICT_COLUMNS else row_codes

    services = list(SERVICE_TIERS)
    width = max(7, len(str(total)))
    rendered = {
        "decision_id": _prefixed("d-", decision + 1, width),
        "timestamp": _timestamps(first_second + second, offset),
        "action_class": _take([s.action_class for s in SCENARIOS], codes("action_class")),
        "mode": _take([level.value for level in LADDER], codes("mode")),
        "human_decision": _take(_HUMAN, codes("human_decision")),
        "executed": _take((schema.FALSE_SPELLINGS[0], schema.TRUE_SPELLINGS[0]), codes("executed")),
        "outcome": _take(_OUTCOME, codes("outcome")),
        "severity": _take(_SEVERITY, codes("severity")),
        "service": _take(services, codes("service")),
        "system_tier": _take([str(SERVICE_TIERS[name]) for name in services], codes("service")),
        "risk_tier": _take([s.risk_tier for s in SCENARIOS], codes("risk_tier")),
        "agent_version": _take(AGENT_VERSIONS, codes("agent_version")),
        "ai_confidence": _take(_thousandths(), codes("ai_confidence")),
        "reviewer": _take(("", *REVIEWERS), codes("reviewer")),
        "rationale": _take(_rationale_vocabulary(), codes("rationale")),
        "incident_id": _prefixed("INC-", codes("incident_id"), 0),
        "review_sampled": _take(
            ("", schema.FALSE_SPELLINGS[0], schema.TRUE_SPELLINGS[0]), codes("review_sampled")
        ),
    }
    frame: pd.DataFrame = pa.table(rendered).to_pandas()
    return frame


def _take(vocabulary: Sequence[str], codes: Codes) -> pa.Array:
    return pc.take(pa.array(vocabulary, pa.large_string()), pa.array(codes))


def _prefixed(prefix: str, numbers: Codes, width: int) -> pa.Array:
    """``prefix`` + zero-padded number; an empty string where ``numbers`` is 0."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.large_string()), width, "0")
    text = pc.binary_join_element_wise(_text(prefix), digits, _text(""))
    return pc.if_else(pa.array(numbers != 0), text, _text(""))


def _timestamps(seconds: Codes, offset: Codes) -> pa.Array:
    """ISO-8601 second-precision text; ``offset`` indexes ``_OFFSETS`` (0 is ``Z``)."""
    minutes = np.array([shift for _, shift in _OFFSETS])
    local = seconds + minutes[offset] * 60
    day, clock = np.divmod(local, _DAY)
    first = int(day.min())
    dates = [
        times.day_start(first + index).date().isoformat() + "T"
        for index in range(int(day.max()) - first + 1)
    ]
    return pc.binary_join_element_wise(
        _take(dates, day - first),
        pc.take(_clock_faces(), pa.array(clock)),
        _take([suffix for suffix, _ in _OFFSETS], offset),
        _text(""),
    )


@functools.cache
def _clock_faces() -> pa.Array:
    """``HH:MM:SS`` for every second of a day."""
    return pa.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(_DAY)],
        pa.large_string(),
    )


@functools.cache
def _thousandths() -> tuple[str, ...]:
    return tuple(f"{k / 1000:.3f}" for k in range(1001))


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())
