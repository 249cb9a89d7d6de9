"""The truth behind the synthetic log: its span, services, action classes, reviewers and
rationales (``trustctl.sample`` draws the decisions from them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from trustctl import schema
from trustctl.levels import Level

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
    "CriticalFailure",
    "Scenario",
]

DEFAULT_END = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
"""The instant the default sample ends; fixed so the sample never depends on today."""

SPAN_DAYS = 180
"""The sample covers the ``SPAN_DAYS`` days before ``end``."""

COLUMNS: tuple[str, ...] = schema.COLUMNS
"""Every column of decision-log schema v1, in order."""

SERVICE_TIERS: dict[str, int] = {
    "internal-wiki": 1,
    "ci-runners": 1,
    "metrics-pipeline": 1,
    "build-cache": 1,
    "search": 2,
    "recommendations": 2,
    "notifications": 2,
    "catalog": 2,
    "edge-dns": 2,
    "checkout-api": 3,
    "payments": 3,
    "orders-db": 3,
    "customer-db": 3,
    "ledger": 4,
}
"""System tier per service: internal tools 1, customer-facing 2, revenue-critical 3, regulated 4."""

AGENT_VERSIONS = ("agent-2.3.1", "agent-2.4.0")
VERSION_CHANGE_DAYS_AGO = 45
"""The new agent version takes over this many days before ``end``, for every class."""

EVENT_STREAM_SHARE = 0.15
"""Share of decisions logged as a proposal row followed by a verdict row."""

OFFSET_SHARE = 0.01
"""Share of rows whose timestamp is written with a UTC offset instead of ``Z``."""


@dataclass(frozen=True)
class CriticalFailure:
    """One planted critical failure: executed, overridden, with an incident."""

    days_ago: float
    """How long before ``end`` it happened; the class must be acting on its own then."""
    rationale: str


@dataclass(frozen=True)
class Scenario:
    """How the agent and its humans behave for one action class."""

    action_class: str
    share: float
    """Relative weight of this class among all decisions."""
    services: tuple[str, ...]
    """Services the class acts on (keys of ``SERVICE_TIERS``), drawn uniformly."""
    modes: tuple[tuple[Level, int], ...]
    """``(level, days before end it starts)``, oldest first; the first starts at ``SPAN_DAYS``."""
    agreement: float
    """Chance that a human judging the proposal agrees with it."""
    success: float
    """Chance that an executed action with a verified outcome succeeds."""
    late_agreement: float | None = None
    """Agreement reached at ``end`` when it drifts linearly from ``agreement``."""
    timeout: float = 0.02
    """Chance that the approval window of a ``suggest`` proposal lapses."""
    review: float = 0.3
    """Chance that a human reviews an ``observe``, ``auto_notify`` or ``full`` decision."""
    unverified: float = 0.01
    """Share of executed actions whose outcome was never verified."""
    risk_tier: str = ""
    """Written to the ``risk_tier`` column; empty lets trustctl derive it."""
    critical_failure: CriticalFailure | None = None
    """Plant this critical failure among the class's decisions."""

    def __post_init__(self) -> None:
        starts = [days for _, days in self.modes]
        if not starts or starts[0] != SPAN_DAYS or starts != sorted(starts, reverse=True):
            raise ValueError(
                f"{self.action_class}: modes must start at {SPAN_DAYS} days and move on"
            )
        if not set(self.services) <= SERVICE_TIERS.keys():
            raise ValueError(f"{self.action_class}: unknown service in {self.services}")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "k8s.restart_pod",
        share=22,
        services=("internal-wiki", "ci-runners", "metrics-pipeline", "build-cache"),
        modes=((Level.SUGGEST, 180), (Level.AUTO_NOTIFY, 90)),
        agreement=0.995,
        success=0.999,
        review=0.35,
        unverified=0.003,
    ),
    Scenario(
        "k8s.scale",
        share=14,
        services=("search", "recommendations", "ci-runners"),
        modes=((Level.SUGGEST, 180),),
        agreement=0.99,
        success=0.995,
    ),
    Scenario(
        "k8s.rollback",
        share=8,
        services=("search", "catalog", "notifications"),
        modes=((Level.SUGGEST, 180),),
        agreement=0.97,
        success=0.98,
    ),
    Scenario(
        "deploy.rollback",
        share=10,
        services=("search", "catalog", "notifications", "recommendations"),
        modes=((Level.SUGGEST, 180), (Level.AUTO_NOTIFY, 120)),
        agreement=0.98,
        success=0.985,
        critical_failure=CriticalFailure(
            6.3, "rolled back onto a broken schema migration, checkout errors for 14 minutes"
        ),
    ),
    Scenario(
        "db.failover",
        share=5,
        services=("orders-db", "customer-db"),
        modes=((Level.SUGGEST, 180),),
        agreement=0.96,
        success=0.97,
    ),
    Scenario(
        "cache.flush",
        share=9,
        services=("recommendations", "catalog", "build-cache"),
        modes=((Level.SUGGEST, 180), (Level.AUTO_NOTIFY, 110)),
        agreement=0.97,
        late_agreement=0.80,
        success=0.98,
        review=0.4,
    ),
    Scenario(
        "lb.drain",
        share=0.4,
        services=("search", "notifications"),
        modes=((Level.SUGGEST, 180),),
        agreement=0.95,
        success=0.98,
    ),
    Scenario(
        "dns.update",
        share=6,
        services=("edge-dns",),
        modes=((Level.SUGGEST, 180),),
        agreement=0.98,
        success=0.99,
        timeout=0.35,
    ),
    Scenario(
        "cert.renew",
        share=6,
        services=("internal-wiki", "ci-runners", "metrics-pipeline"),
        modes=((Level.SUGGEST, 180), (Level.AUTO_NOTIFY, 100)),
        agreement=0.99,
        success=0.995,
        unverified=0.4,
        risk_tier="1",
    ),
    Scenario(
        "queue.redrive",
        share=4,
        services=("ledger",),
        modes=((Level.OBSERVE, 180),),
        agreement=0.9,
        success=0.98,
        review=0.5,
    ),
    Scenario(
        "feature_flag.disable",
        share=6,
        services=("checkout-api", "payments"),
        modes=((Level.OBSERVE, 180), (Level.SUGGEST, 75)),
        agreement=0.985,
        success=0.99,
        timeout=0.03,
    ),
    Scenario(
        "k8s.cordon_node",
        share=5,
        services=("ci-runners", "search"),
        modes=((Level.SUGGEST, 180), (Level.AUTO_NOTIFY, 140), (Level.SUGGEST, 60)),
        agreement=0.96,
        success=0.97,
        critical_failure=CriticalFailure(
            61.2, "cordoned the whole pool, CI builds stalled for 40 minutes"
        ),
    ),
)
"""The action classes of the sample and the truth behind each one."""

REVIEWERS = (
    "a.chen@example.com",
    "m.okafor@example.com",
    "s.lindqvist@example.com",
    "r.patel@example.com",
    "j.moreau@example.com",
    "k.tanaka@example.com",
)

RATIONALES: dict[str, tuple[str, ...]] = {
    "rejected": (
        "wrong target, the alert came from a canary",
        "change freeze until the release ships",
        "not needed, the spike was a load test",
        "would hide the root cause; investigating first",
        'runbook says "page the owner first"',
    ),
    "modified": (
        "same action, smaller blast radius",
        "one zone first, then the rest",
        "lower target, 4 replicas instead of 8",
    ),
    "overridden": (
        "reverted, it masked a memory leak",
        "reverted: traffic dropped, rolled forward instead",
        "undone by on-call, wrong cluster",
    ),
    "failure": (
        "health check still failing after the action",
        "timed out waiting for readiness, 3 retries",
        "action ran, but the error rate stayed high",
    ),
}
"""Free-text rationale per situation; commas and quotes exercise CSV quoting."""
