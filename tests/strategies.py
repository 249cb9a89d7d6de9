"""The one hypothesis strategy for random decision logs, and the settings its tests share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from logbuilder import LogBuilder, iso

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""40 examples, no deadline (a run writes and reads a log), ``tmp_path`` allowed."""


@dataclass(frozen=True)
class Pools:
    """What a batch of decisions is drawn from; repeats in a pool weight its draws."""

    classes: tuple[str, ...]
    modes: tuple[str, ...]
    humans: tuple[str, ...]
    outcomes: tuple[str, ...]
    severities: tuple[str, ...]
    system_tiers: tuple[int | None, ...]
    risk_tiers: tuple[int | None, ...]
    spacings: tuple[int, ...]
    """Seconds between the decisions of a batch (0: ties in time)."""
    days: int
    slots_per_day: int
    """Batches start on one of ``days * slots_per_day`` evenly spaced moments."""
    max_batches: int
    max_count: int
    services: tuple[str, ...] = ("",)
    delays: tuple[int, ...] = (0,)
    """Seconds after which an outcome arrives in a second row (0: in the same row)."""


@st.composite
def batches(draw: st.DrawFn, pools: Pools) -> list[dict[str, Any]]:
    """Batches of decisions, as ``LogBuilder.add`` arguments plus ``recorded_after``."""
    found = []
    for _ in range(draw(st.integers(1, pools.max_batches))):
        executed = draw(st.booleans())
        outcome = draw(st.sampled_from(pools.outcomes))
        found.append(
            {
                "at": draw(st.integers(0, pools.days * pools.slots_per_day)) / pools.slots_per_day,
                "action_class": draw(st.sampled_from(pools.classes)),
                "count": draw(st.integers(1, pools.max_count)),
                "mode": draw(st.sampled_from(pools.modes)),
                "human": draw(st.sampled_from(pools.humans)),
                "executed": executed,
                "outcome": outcome if executed else draw(st.sampled_from(("", "unknown"))),
                "severity": draw(st.sampled_from(pools.severities)),
                "system_tier": draw(st.sampled_from(pools.system_tiers)),
                "risk_tier": draw(st.sampled_from(pools.risk_tiers)),
                "agent_version": draw(st.sampled_from(("", "v1", "v2"))),
                "service": draw(st.sampled_from(pools.services)),
                "spacing": draw(st.sampled_from(pools.spacings)),
                "recorded_after": draw(st.sampled_from(pools.delays)),
            }
        )
    return found


def log_of(spec: list[dict[str, Any]]) -> LogBuilder:
    """The log of some batches; a delayed outcome (and its severity) gets a row of its own."""
    log = LogBuilder()
    for batch in spec:
        fields = dict(batch)
        delay = fields.pop("recorded_after")
        first = len(log.rows)
        log.add(fields.pop("at"), fields.pop("action_class"), fields.pop("count"), **fields)
        if delay and batch["outcome"]:
            for proposal in log.rows[first:]:
                at = dt.datetime.fromisoformat(proposal["timestamp"].replace("Z", "+00:00"))
                outcome = {**proposal, "timestamp": iso(at + dt.timedelta(seconds=delay))}
                proposal.update(outcome="", severity="")
                log.rows.append(outcome)
    return log
