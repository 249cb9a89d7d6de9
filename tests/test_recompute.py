"""The auditor's promise, checked: the sample policy recomputed by hand from the log.

Nothing here uses trustctl's ingest, evidence, bounds or decide code. The log is read
with ``csv``, merged with dicts, counted with loops, bounded with ``scipy.stats.beta``
and judged by the rules as the README states them; only the rules' values come from
``TrustRules()`` (they are the input, not the computation). The result is compared
with the policy that ``trustctl.evaluate.evaluate`` writes for ``sample_data/``.

Evidence is counted in whole UTC days; here each decision is tested against its
clock's rule one by one (``Clock.counts``), never through trustctl's day segments.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scipy.stats import beta

from trustctl.evaluate import evaluate
from trustctl.rules import TrustRules, load_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "decisions.csv"
LEVELS = ("observe", "suggest", "auto_notify", "full")
RANK = {level: rank for rank, level in enumerate(LEVELS)}
JUDGED = {"approved", "rejected", "modified", "overridden"}
TRUE = {"true", "1", "yes"}
TOLERANCE = 1e-6 + 1e-12  # 6 places, bounds rounded outwards (see test_bounds)
"""Policy floats are rounded to 6 places."""

Policy = dict[str, Any]
Entry = dict[str, Any]


# --- reading the log by hand --------------------------------------------------------------


def instant(text: str) -> dt.datetime:
    """ISO-8601 with ``Z`` or an offset (naive = UTC), as an aware UTC datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def level_of(mode: str) -> str:
    return mode.strip().lower().replace("-", "_")


@dataclass(frozen=True)
class Decision:
    """One decision, its event rows merged."""

    decision_id: str
    at: dt.datetime
    """The earliest row's time: when the agent proposed or acted."""
    recorded: dt.datetime
    """The latest row's time: when the last fact about it (its outcome) was recorded."""
    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    @property
    def action_class(self) -> str:
        return self.get("action_class")

    @property
    def mode(self) -> str:
        return level_of(self.get("mode"))

    @property
    def human(self) -> str:
        return self.get("human_decision").lower()

    @property
    def executed(self) -> bool:
        return self.get("executed").lower() in TRUE

    @property
    def outcome(self) -> str:
        return self.get("outcome").lower()

    @property
    def verified(self) -> bool:
        return self.executed and self.outcome in {"success", "failure"}

    @property
    def critical(self) -> bool:
        return (
            self.executed
            and self.outcome == "failure"
            and self.get("severity").lower() == "critical"
        )

    @property
    def sampling(self) -> str:
        """For a review of an action the agent took on its own (``auto_notify``, ``full``):
        ``sampled`` or ``not sampled`` as ``review_sampled`` says, else ``unknown``; for any
        other decision, ``""`` (every proposal is reviewed: there is no sample)."""
        if self.human not in JUDGED or self.mode not in ("auto_notify", "full"):
            return ""
        given = self.get("review_sampled").lower()
        return "unknown" if not given else "sampled" if given in TRUE else "not sampled"

    @property
    def order(self) -> tuple[dt.datetime, str]:
        """Time order; ties broken by decision id."""
        return self.at, self.decision_id


@dataclass(frozen=True)
class Log:
    rows: int
    decisions: list[Decision]


def read_log(path: Path) -> Log:
    """Every data row, merged by ``decision_id``: first non-empty value, first and last time."""
    merged: dict[str, dict[str, str]] = {}
    earliest: dict[str, dt.datetime] = {}
    latest: dict[str, dt.datetime] = {}
    rows = 0
    with path.open(newline="", encoding="utf-8") as stream:
        for record in csv.DictReader(stream):
            rows += 1
            decision_id = record["decision_id"]
            fields = merged.setdefault(decision_id, {})
            for name, value in record.items():
                if value and not fields.get(name):
                    fields[name] = value
            at = instant(record["timestamp"])
            if decision_id not in earliest or at < earliest[decision_id]:
                earliest[decision_id] = at
            if decision_id not in latest or at > latest[decision_id]:
                latest[decision_id] = at
    decisions = [Decision(i, earliest[i], latest[i], fields) for i, fields in merged.items()]
    return Log(rows=rows, decisions=sorted(decisions, key=lambda d: d.order))


# --- the evidence, counted by hand --------------------------------------------------------

ONE_DAY = dt.timedelta(days=1)


def midnight(moment: dt.datetime) -> dt.datetime:
    """Midnight UTC that began the day of ``moment``."""
    return dt.datetime.combine(moment.date(), dt.time(), tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class Clock:
    """Where an evidence clock starts, and which decisions it counts, in whole UTC days.

    - ``window``: the days that begin at or after ``start``;
    - ``level`` (a promotion or demotion): the decisions of ``start``'s day made at the
      current level, then every later day;
    - ``event`` (a critical failure, a new agent version): the days after ``start``'s.
    """

    start: dt.datetime
    reason: str
    kind: str

    @property
    def counted_from(self) -> dt.datetime:
        day = midnight(self.start)
        if self.kind == "window":
            return day if day == self.start else day + ONE_DAY
        return day if self.kind == "level" else day + ONE_DAY

    def counts(self, decision: Decision, current: str) -> bool:
        if self.kind == "level" and decision.at.date() == self.start.date():
            return decision.mode == current
        return decision.at >= self.counted_from


def latest_clock(window: Clock, *candidates: tuple[dt.datetime | None, str, str]) -> Clock:
    """The clock started last (as instants); on a tie, the one named first."""
    clock = window
    for start, reason, kind in candidates:
        if start is not None and start > clock.start:
            clock = Clock(start, reason, kind)
    return clock


def tally(decisions: list[Decision]) -> dict[str, int]:
    return {
        "decisions": len(decisions),
        "reviewed": sum(d.human in JUDGED and d.sampling != "not sampled" for d in decisions),
        "agreed": sum(d.human == "approved" and d.sampling != "not sampled" for d in decisions),
        "not_sampled": sum(d.sampling == "not sampled" for d in decisions),
        "sampling_unknown": sum(d.sampling == "unknown" for d in decisions),
        "timeouts": sum(d.human == "timeout" for d in decisions),
        "executed": sum(d.executed for d in decisions),
        "verified": sum(d.verified for d in decisions),
        "succeeded": sum(d.verified and d.outcome == "success" for d in decisions),
        "unverified": sum(d.executed and not d.verified for d in decisions),
    }


@dataclass(frozen=True)
class Recount:
    """One action class, recomputed."""

    current: str
    """The mode of the class's latest decision."""
    last_up: dt.datetime | None
    """The latest upward step of ``mode``, dated by the first decision at the higher mode."""
    last_down: dt.datetime | None
    critical_failures: int
    last_critical: dt.datetime | None
    clock: Clock
    """What promotion counts: since the last demotion, critical failure, version change."""
    counts: dict[str, int]
    record_clock: Clock
    """What the demotion checks judge: since the last demotion or promotion."""
    record: dict[str, int]
    risk_tiers: set[int]
    system_tiers: set[int]


def recount(history: list[Decision], as_of: dt.datetime, rules: TrustRules) -> Recount:
    """The evidence of one class from its decisions up to ``as_of``, in time order."""
    history = [d for d in history if d.at <= as_of]
    window = Clock(
        as_of - rules.window_span, f"window start ({rules.window} before as_of)", "window"
    )
    in_window = [d for d in history if window.counts(d, "")]
    current = history[-1].mode

    last_up: dt.datetime | None = None
    last_down: dt.datetime | None = None
    for before, after in itertools.pairwise(history):
        step = RANK[after.mode] - RANK[before.mode]
        if step > 0:
            last_up = after.at
        elif step < 0:
            last_down = before.at  # dated by the last decision at the higher level

    # A critical failure is dated when it was recorded (its decision's latest row); it is
    # in the window when it was recorded on one of the window's days.
    criticals = [d.recorded for d in history if d.critical and d.recorded >= window.counted_from]
    last_critical = max(criticals) if criticals else None

    # The latest named agent version, and the first decision of its latest run: the
    # last change of version. Nothing to reset when that run opens the class's history.
    named = [d for d in history if d.get("agent_version")]
    version_start: dt.datetime | None = None
    version = ""
    if named:
        version = named[-1].get("agent_version")
        for d in reversed(named):
            if d.get("agent_version") != version:
                break
            version_start = d.at
        if not rules.reset_on_agent_version_change or version_start == history[0].at:
            version_start = None

    clock = latest_clock(
        window,
        (last_down, "last demotion", "level"),
        (last_critical, "last critical failure", "event"),
        (version_start, f"change to agent version {version}", "event"),
    )
    record_clock = latest_clock(
        window, (last_down, "last demotion", "level"), (last_up, "last promotion", "level")
    )

    risk_tiers: set[int] = set()
    system_tiers: set[int] = set()
    for d in in_window:
        if d.get("risk_tier"):
            risk_tiers.add(int(d.get("risk_tier")))
        else:
            patterns = [
                p.tier for p in rules.risk_tiers if fnmatch.fnmatchcase(d.action_class, p.pattern)
            ]
            risk_tiers.add(patterns[0] if patterns else 3)  # unknown counts as 3
        if d.get("system_tier"):
            system_tiers.add(int(d.get("system_tier")))
    return Recount(
        current=current,
        last_up=last_up,
        last_down=last_down,
        critical_failures=len(criticals),
        last_critical=last_critical,
        clock=clock,
        counts=tally([d for d in history if clock.counts(d, current)]),
        record_clock=record_clock,
        record=tally([d for d in history if record_clock.counts(d, current)]),
        risk_tiers=risk_tiers,
        system_tiers=system_tiers,
    )


# --- bounds and verdicts by hand ----------------------------------------------------------


def lower(k: int, n: int, confidence: float) -> float:
    return 0.0 if k == 0 else float(beta.ppf(1 - confidence, k, n - k + 1))


def upper(k: int, n: int, confidence: float) -> float:
    return 1.0 if k == n else float(beta.ppf(confidence, k + 1, n - k))


def rates(counts: dict[str, int], metric: str) -> tuple[int, int]:
    c = counts
    return (
        (c["agreed"], c["reviewed"]) if metric == "agreement" else (c["succeeded"], c["verified"])
    )


def gate_rates(counts: dict[str, int], metric: str, gate: Any) -> tuple[int, int]:
    """What a promotion gate measures: with ``unverified: count_as_failure`` (the default),
    success over every executed decision, an unverified one counting as a failure."""
    if metric == "success" and gate.unverified == "count_as_failure":
        return counts["succeeded"], counts["executed"]
    return rates(counts, metric)


@dataclass(frozen=True)
class Judgement:
    level: str
    limited_by: str | None
    cap: str
    cap_by: str | None


def cap_of(recomputed: Recount, rules: TrustRules) -> tuple[str, str | None]:
    """The strictest tier cap; risk tiers are looked at before system tiers."""
    level, by = "full", None
    caps: list[tuple[str, str]] = [
        (rules.caps.risk_tier[t].value, f"cap:risk_tier={t}")  # type: ignore[index]
        for t in sorted(recomputed.risk_tiers)
    ]
    caps += [
        (rules.caps.system_tier[t].value, f"cap:system_tier={t}")  # type: ignore[index]
        for t in sorted(recomputed.system_tiers)
    ]
    for tier_level, name in caps:
        if RANK[tier_level] < RANK[level]:
            level, by = tier_level, name
    return level, by


def judge(recomputed: Recount, rules: TrustRules, as_of: dt.datetime) -> Judgement:
    """The README's order of the rules, for a run without ``--previous`` and without pins."""
    confidence = rules.bounds.confidence
    current = recomputed.current
    cap, cap_by = cap_of(recomputed, rules)
    target, limited_by = current, None
    demoted = False

    failure, up, down = recomputed.last_critical, recomputed.last_up, recomputed.last_down
    to = rules.demote.critical_failure_to.value
    if (
        failure is not None
        and (up is None or failure >= up)
        and (down is None or failure > down)
        and RANK[to] < RANK[current]
    ):
        target, demoted = to, True
    for guarded in LEVELS[1:]:
        demote_at = getattr(rules.demote, guarded)
        if demote_at is None or RANK[current] < RANK[guarded]:
            continue
        for metric in ("agreement", "success"):
            gate = getattr(demote_at, metric)
            k, n = rates(recomputed.record, metric)  # the record since the last level change
            below = LEVELS[RANK[guarded] - 1]
            if gate is not None and upper(k, n, confidence) < gate.threshold:
                demoted = True
                if RANK[below] < RANK[target]:
                    target = below

    if not demoted and current != "full":
        nxt = LEVELS[RANK[current] + 1]
        gates = getattr(rules.promote, nxt)
        failing: list[str] = []
        for metric in ("agreement", "success"):
            gate = getattr(gates, metric)
            if gate is None:
                continue
            k, n = gate_rates(recomputed.counts, metric, gate)
            if n < gate.min_decisions:
                failing.append("min_decisions")
            if n == 0 or lower(k, n, confidence) < gate.threshold:
                failing.append("threshold")
            if gate.max_unverified is not None:
                executed, unverified = (recomputed.counts[x] for x in ("executed", "unverified"))
                if executed == 0 or unverified > gate.max_unverified * executed:
                    failing.append("max_unverified")
        changes = [t for t in (up, down) if t is not None]
        if RANK[nxt] > RANK[cap]:
            limited_by = cap_by
        elif failing:
            short = "min_decisions" in failing or recomputed.counts["decisions"] == 0
            limited_by = "insufficient_data" if short else None
        elif changes and as_of.date() < max(changes).date() + dt.timedelta(
            days=math.ceil(rules.cooldown_span / dt.timedelta(days=1))
        ):
            limited_by = "cooldown"
        else:
            target = nxt
    if RANK[target] >= RANK[cap] and cap_by is not None:
        target, limited_by = cap, cap_by  # held at the cap, or arrived at it: the cap limits
    return Judgement(level=target, limited_by=limited_by, cap=cap, cap_by=cap_by)


def clean_needed(k: int, n: int, threshold: float, minimum: int, confidence: float) -> int:
    """The fewest further clean decisions that make the gate pass, by plain search."""
    more = 0
    while n + more < minimum or lower(k + more, n + more, confidence) < threshold:
        more += 1
    return more


# --- fixtures -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    policy: Policy
    log: Log
    as_of: dt.datetime
    rules: TrustRules
    recounts: dict[str, Recount]

    def entry(self, action_class: str) -> Entry:
        found: list[Entry] = [
            a for a in self.policy["actions"] if a["action_class"] == action_class
        ]
        assert len(found) == 1, f"{action_class}: {len(found)} entries in the policy"
        return found[0]


@pytest.fixture(scope="module")
def run() -> Iterator[Run]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        policy = evaluate([Path("sample_data")], load_rules(None)).policy
    rules = TrustRules()
    log = read_log(SAMPLE)
    as_of = max(d.recorded for d in log.decisions)  # the latest row of the log
    by_class: dict[str, list[Decision]] = {}
    for decision in log.decisions:
        by_class.setdefault(decision.action_class, []).append(decision)
    window = Clock(as_of - rules.window_span, "", "window")
    recounts = {
        name: recount(history, as_of, rules)
        for name, history in by_class.items()
        if any(window.counts(d, "") and d.at <= as_of for d in history)
    }
    yield Run(policy=policy, log=log, as_of=as_of, rules=rules, recounts=recounts)


CLASSES = (
    "cache.flush",
    "cert.renew",
    "db.failover",
    "deploy.rollback",
    "dns.update",
    "feature_flag.disable",
    "k8s.cordon_node",
    "k8s.restart_pod",
    "k8s.rollback",
    "k8s.scale",
    "lb.drain",
    "queue.redrive",
)


def when(text: str | None) -> dt.datetime | None:
    return None if text is None else instant(text)


# --- the checks ---------------------------------------------------------------------------


def test_metadata_describes_the_file(run: Run) -> None:
    (source,) = run.policy["metadata"]["inputs"]
    assert source["path"] == "sample_data/decisions.csv"
    assert source["rows"] == run.log.rows
    assert (
        source["decisions"]
        == len(run.log.decisions)
        == len({d.decision_id for d in run.log.decisions})
    )
    assert source["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    ingest = run.policy["metadata"]["ingest"]
    assert (ingest["rows"], ingest["decisions"]) == (run.log.rows, len(run.log.decisions))
    assert ingest["after_as_of"] == ingest["skipped_rows"] == ingest["skipped_decisions"] == 0


def test_as_of_is_the_latest_decision(run: Run) -> None:
    assert instant(run.policy["metadata"]["as_of"]) == run.as_of


def test_one_entry_per_class_in_the_window(run: Run) -> None:
    listed = [a["action_class"] for a in run.policy["actions"]]
    assert listed == sorted(run.recounts) == list(CLASSES)
    assert run.policy["metadata"]["summary"]["groups"] == len(CLASSES)


@pytest.mark.parametrize("action_class", CLASSES)
def test_evidence_clock(run: Run, action_class: str) -> None:
    evidence = run.entry(action_class)["evidence"]
    mine = run.recounts[action_class]
    assert instant(evidence["counted_from"]) == mine.clock.counted_from
    assert evidence["counted_from_reason"] == mine.clock.reason
    record = evidence["for_demotion"]
    assert instant(record["counted_from"]) == mine.record_clock.counted_from
    assert record["counted_from_reason"] == mine.record_clock.reason


@pytest.mark.parametrize("action_class", CLASSES)
def test_counts(run: Run, action_class: str) -> None:
    evidence = run.entry(action_class)["evidence"]
    mine = run.recounts[action_class]
    agreement, success = evidence["agreement"], evidence["success"]
    reported = {
        "decisions": evidence["decisions"],
        "reviewed": agreement["reviewed"],
        "agreed": agreement["agreed"],
        "timeouts": agreement["timeouts"],
        "executed": success["executed"],
        "verified": success["verified"],
        "succeeded": success["succeeded"],
        "unverified": success["unverified"],
        "not_sampled": agreement.get("not_sampled", 0),
        "sampling_unknown": mine.counts["sampling_unknown"],
    }
    assert reported == mine.counts
    unknown = mine.counts["sampling_unknown"] or mine.record["sampling_unknown"]
    assert run.entry(action_class).get("agreement_sampling") == ("unknown" if unknown else None)
    record = evidence["for_demotion"]
    assert {name: record[name] for name in ("agreed", "reviewed", "succeeded", "verified")} == {
        name: mine.record[name] for name in ("agreed", "reviewed", "succeeded", "verified")
    }
    assert evidence["critical_failures"] == mine.critical_failures
    assert when(evidence["last_critical_failure"]) == mine.last_critical


@pytest.mark.parametrize("action_class", CLASSES)
def test_bounds(run: Run, action_class: str) -> None:
    entry = run.entry(action_class)
    mine = run.recounts[action_class]
    confidence = run.rules.bounds.confidence
    a, b = run.rules.bounds.prior
    assert run.rules.bounds.method == "clopper-pearson"
    for metric in ("agreement", "success"):
        k, n = rates(mine.counts, metric)
        shown = entry["evidence"][metric]
        expected = {
            "mean": (a + k) / (a + b + n),
            "lower": lower(k, n, confidence) if n else 0.0,
            "upper": upper(k, n, confidence) if n else 1.0,
        }
        for name, value in expected.items():
            assert abs(shown[name] - value) <= TOLERANCE, (metric, name, shown[name], value)
        # Bounds are rounded outwards to 6 places: a re-read policy never shows a pass
        # (or a hold) that the exact bound did not give.
        assert shown["lower"] <= expected["lower"] < shown["lower"] + 1e-6
        assert shown["upper"] - 1e-6 < expected["upper"] <= shown["upper"]
        if n:
            assert abs(shown["rate"] - k / n) <= TOLERANCE
        else:
            assert shown["rate"] is None
        # the demotion checks' upper bound, on the record since the last level change
        k, n = rates(mine.record, metric)
        record_upper = upper(k, n, confidence) if n else 1.0
        shown_upper = entry["evidence"]["for_demotion"][f"{metric}_upper"]
        assert shown_upper - 1e-6 < record_upper <= shown_upper, (metric, shown_upper)
    # P(agreement >= threshold) under Beta(a + k, b + n - k), against the threshold of the
    # next level's agreement gate (the top level's own at the top).
    level = judge(mine, run.rules, run.as_of).level
    threshold_level = LEVELS[min(RANK[level] + 1, len(LEVELS) - 1)]
    threshold = getattr(run.rules.promote, threshold_level).agreement.threshold
    k, n = rates(mine.counts, "agreement")
    agreement = entry["evidence"]["agreement"]
    assert agreement["threshold"] == threshold
    p = float(beta.sf(threshold, a + k, b + n - k))
    assert abs(agreement["p_at_least_threshold"] - p) <= TOLERANCE


@pytest.mark.parametrize("action_class", CLASSES)
def test_verdict(run: Run, action_class: str) -> None:
    entry = run.entry(action_class)
    mine = run.recounts[action_class]
    verdict = judge(mine, run.rules, run.as_of)
    assert entry["previous_level"] == mine.current
    assert entry["level"] == verdict.level
    change = RANK[verdict.level] - RANK[mine.current]
    assert entry["change"] == (
        "promoted" if change > 0 else "demoted" if change < 0 else "unchanged"
    )
    assert entry["limited_by"] == verdict.limited_by
    assert entry["cap"] == {"level": verdict.cap, "by": verdict.cap_by}
    changed = verdict.level != mine.current
    assert when(entry["last_promoted"]) == (run.as_of if change > 0 else mine.last_up)
    assert when(entry["last_demoted"]) == (run.as_of if change < 0 else mine.last_down)
    known = [t for t in (mine.last_up, mine.last_down) if t is not None]
    assert when(entry["since"]) == (run.as_of if changed else max(known, default=None))


@pytest.mark.parametrize("action_class", CLASSES)
def test_distance_to_the_next_level(run: Run, action_class: str) -> None:
    entry = run.entry(action_class)
    mine = run.recounts[action_class]
    verdict = judge(mine, run.rules, run.as_of)
    if verdict.level == "full" or RANK[verdict.level] >= RANK[verdict.cap]:
        assert entry["next"]["clean_decisions_needed"] is None
        return
    confidence = run.rules.bounds.confidence
    gates = getattr(run.rules.promote, LEVELS[RANK[verdict.level] + 1])
    # A demotion restarts the clock: nothing counted so far counts towards the way back.
    counts = dict.fromkeys(mine.counts, 0) if verdict.level != mine.current else mine.counts
    needed = 0
    for metric in ("agreement", "success"):
        gate = getattr(gates, metric)
        if gate is None:
            continue
        k, n = gate_rates(counts, metric, gate)
        needed = max(needed, clean_needed(k, n, gate.threshold, gate.min_decisions, confidence))
        if gate.max_unverified is not None and counts["unverified"]:
            more = 0
            while counts["unverified"] > gate.max_unverified * (counts["executed"] + more):
                more += 1
            needed = max(needed, more)
    assert entry["next"]["clean_decisions_needed"] == needed


STORY: dict[str, tuple[str, str, str | None]] = {
    # class: (mode of the latest decision, level, limited_by)
    "k8s.scale": ("suggest", "auto_notify", "cap:system_tier=2"),
    "k8s.restart_pod": ("auto_notify", "full", None),
    "k8s.cordon_node": ("suggest", "suggest", None),
    "deploy.rollback": ("auto_notify", "suggest", None),
    "cache.flush": ("auto_notify", "suggest", None),
    "db.failover": ("suggest", "suggest", "cap:risk_tier=3"),
    "feature_flag.disable": ("suggest", "suggest", "cap:system_tier=3"),
    "queue.redrive": ("observe", "observe", "cap:system_tier=4"),
    "cert.renew": ("auto_notify", "auto_notify", "insufficient_data"),
    "lb.drain": ("suggest", "suggest", "insufficient_data"),
}


@pytest.mark.parametrize("action_class", sorted(STORY))
def test_the_sample_tells_its_story(run: Run, action_class: str) -> None:
    """The scenarios of ``trustctl.sample``, derived from the hand counts and the README."""
    mine = run.recounts[action_class]
    entry = run.entry(action_class)
    current, level, limited_by = STORY[action_class]
    assert mine.current == current
    assert (entry["level"], entry["limited_by"]) == (level, limited_by)
    confidence = run.rules.bounds.confidence
    k, n = rates(mine.counts, "agreement")
    if action_class == "k8s.scale":
        # Suggest, ≥ 95% sure of 95% agreement over ≥ 50 reviewed, nothing caps it lower.
        assert n >= 50 and lower(k, n, confidence) >= 0.95
        assert mine.last_up is None and mine.last_down is None and mine.critical_failures == 0
        assert mine.risk_tiers == {1} and max(mine.system_tiers) == 2
    if action_class == "deploy.rollback":
        # A critical failure after the last upward change of mode, answered by no demotion.
        assert mine.critical_failures == 1 and mine.last_critical is not None
        assert mine.last_up is not None and mine.last_critical >= mine.last_up
        assert mine.last_down is None
        assert mine.clock.reason == "last critical failure"
    if action_class == "k8s.cordon_node":
        # Its critical failure was answered by the demotion in the log. The new agent
        # version's record, counted from the first whole day after it arrived, is long
        # enough but not yet clean enough for auto_notify (the decisions of its first day
        # do not count): 90 of 91, lower bound 0.948 < 0.95.
        assert mine.last_critical is not None and mine.last_down is not None
        assert mine.last_critical <= mine.last_down < mine.clock.start
        assert mine.clock.start < mine.clock.counted_from
        assert mine.clock.reason.startswith("change to agent version")
        assert n >= 50 and lower(k, n, confidence) < 0.95
    if action_class == "cache.flush":
        # Agreement drifted: 95% sure it is below the 0.90 that guards auto_notify.
        assert upper(k, n, confidence) < 0.90
    if action_class == "db.failover":
        assert mine.risk_tiers == {3}
    if action_class == "queue.redrive":
        assert mine.system_tiers == {4}
    if action_class == "cert.renew":
        assert mine.risk_tiers == {1}
        assert mine.counts["unverified"] > 0.05 * mine.counts["executed"]
