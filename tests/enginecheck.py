"""What the tests of `trustctl sql` in real engines share: a log of every case, trustctl's answer.

The answer an engine must give is what ``trustctl aggregate`` writes for the same log, row
for row and column for column; and ``generate --evidence`` on the engine's Parquet must
give the policy ``generate`` gives on the log.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from clirun import ok, policy_yaml
from logbuilder import LogBuilder

#: Session time zones the queries must not depend on (half-hour and negative offsets).
ZONES = ("UTC", "Asia/Kolkata", "America/Los_Angeles")

#: Every timestamp spelling the query's header promises, one decision each, with the
#: instant trustctl reads: fractions of 1 to 6 digits, offsets with and without a colon
#: or minutes, '-00:00', a space, no seconds, and offsets that move the UTC day.
TIME_FORMS = (
    "2026-01-12T10:00",
    "2026-01-12 10:00Z",
    "2026-01-12 10:00:00.5Z",
    "2026-01-12T10:00:00.12+05:30",
    "2026-01-12T10:00:00.123+0530",
    "2026-01-12T03:00:00+05",
    "2026-01-12T10:00:00-00:00",
    "2026-01-12T20:00:00.1234-11:00",
    "2026-01-13T00:30:00.12345+01:00",
    "2026-01-12T23:59:59.999999-12:00",
)


def aggregated(log: Path, out: Path, *options: str) -> pa.Table:
    """What ``trustctl aggregate`` writes for ``log`` (to ``out``), without its metadata."""
    ok("aggregate", log, "-o", out, *options)
    return pq.read_table(out).replace_schema_metadata(None)


#: The confidence bands of ``sampled_and_banded``'s check: every kind of band, cuts whose
#: doubles are not their decimals.
CUTS = "confidence_bands=[0.3, 0.9]"
#: Confidences on a decision's first row, in turn: at a cut, the double just below it, none.
CONFIDENCES = ("0.9", "0.8999999999999999", "", "0.3", "0.29999999999999993", "1", "0", "0.95")


def sampled_and_banded(log: LogBuilder) -> LogBuilder:
    """``log`` with ``ai_confidence`` on the first row of each decision and ``review_sampled``
    (true, false, not given) on each row with a human verdict."""
    seen: set[str] = set()
    verdicts = 0
    for row in log.rows:
        row.setdefault("review_sampled", "")
        if row["decision_id"] not in seen:
            row["ai_confidence"] = CONFIDENCES[len(seen) % len(CONFIDENCES)]
            seen.add(row["decision_id"])
        else:
            row["ai_confidence"] = ""
        if row["human_decision"]:
            row["review_sampled"] = ("true", "false", "", "FALSE", "Yes")[verdicts % 5]
            verdicts += 1
    return log


def assert_same(got: pa.Table, want: pa.Table) -> None:
    """Identical tables, with a readable first difference when not."""
    assert got.column_names == want.column_names
    assert got.num_rows == want.num_rows
    for name in want.column_names:
        left, right = got.column(name).to_pylist(), want.column(name).to_pylist()
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            assert a == b, f"row {index}, column {name!r}: {a!r} != {b!r}"
    assert got.equals(want)


def assert_same_policy(evidence: Path, log: Path, *options: str) -> None:
    """``generate --evidence`` on an engine's file (or folder of them) gives the policy of the
    log (a relative path, like ``evidence``).

    A warehouse's file does not say which logs it came from nor how many rows they had,
    so the policy lists the file itself as its input and counts decisions as rows; all
    else is the same.
    """
    from_evidence = yaml.safe_load(policy_yaml("--evidence", evidence, *options))
    from_log = yaml.safe_load(policy_yaml(log, *options))
    inputs = [Path(entry["path"]) for entry in from_evidence["metadata"].pop("inputs")]
    assert inputs and all(path == evidence or evidence in path.parents for path in inputs)
    from_log["metadata"].pop("inputs")
    counted, read = from_evidence["metadata"].pop("ingest"), from_log["metadata"].pop("ingest")
    assert counted["rows"] == counted["decisions"] == read["decisions"]
    assert from_evidence == from_log
    assert from_log["actions"]


def _event(log: LogBuilder, decision_id: str, timestamp: str, **fields: str) -> None:
    """One more event row: ``decision_id`` at ``timestamp``, every other field empty."""
    row = dict.fromkeys(log.rows[0], "")
    row.update(decision_id=decision_id, timestamp=timestamp, **fields)
    log.rows.append(row)


def event_log() -> LogBuilder:
    """Event streams, every spelling the SQL normalises, and the tie-breaks."""
    log = LogBuilder()
    # Plain decisions; keys that sort differently by code point than by a locale:
    # 'K' < 'd' < 'k', and 'zeta' < 'été'.
    log.clean(0, "k8s.restart_pod", 3, service="zeta", system_tier=2, agent_version="v1")
    log.clean(0, "k8s.restart_pod", 2, service="été", system_tier=2, agent_version="v1")
    log.clean(0, "K8s.restart_pod", 1)
    log.reviewed(
        1, "db.failover", approved=2, rejected=1, modified=1, overridden=1, timeouts=2, risk_tier=3
    )
    log.add(1, "db.failover", 2, mode="auto-notify", executed=True, risk_tier=3)  # unverified
    log.add(1, "db.failover", 1, mode="auto_notify", executed=True, outcome="unknown", risk_tier=3)
    log.add(2, "deploy.rollback", 2, mode="full", outcome="failure", severity="major")
    log.add(2, "deploy.rollback", 1, mode="observe", executed=False)
    for row, spelling in zip(log.rows, ("TRUE", "Yes", "1", "true", "YES"), strict=False):
        row["executed"] = spelling
    log.rows[-1]["executed"] = "No"
    log.rows[-2]["executed"] = "True"
    log.rows[-3]["executed"] = "FALSE"
    log.rows[-3]["human_decision"] = ""
    log.rows[-3]["outcome"] = ""
    log.rows[-3]["severity"] = ""
    # An event stream: proposed (naive time), approved (an offset), outcome the next day;
    # the tiers, service and agent version only come in later rows.
    base = {"action_class": "k8s.scale", "mode": "suggest"}
    _event(log, "e-1", "2026-01-04T10:00:00", executed="", **base)
    _event(log, "e-1", "2026-01-04T12:30:00+02:00", human_decision="approved", executed="yes")
    _event(log, "e-1", "2026-01-05 08:00:00", outcome="success", system_tier="3", risk_tier="2")
    _event(log, "e-1", "2026-01-05T09:00:00.250000Z", service="api", agent_version="v2")
    # Four decisions at one instant, spelt three ways: first_id 't-A', last_id 't-c'.
    for decision_id, stamp in (
        ("t-b", "2026-01-06T07:00:00Z"),
        ("t-A", "2026-01-06T07:00:00"),
        ("t-c", "2026-01-06T09:00:00+02:00"),
        ("t-a", "2026-01-06T07:00:00+00:00"),
    ):
        _event(log, decision_id, stamp, executed="false", **base)
    _event(log, "t-0", "2026-01-06T06:59:59.999999Z", executed="false", **base)
    _event(log, "t-z", "2026-01-06T07:00:00.000001Z", executed="false", **base)
    # Critical failures recorded days after their proposal, three at the same recorded
    # instant: the latest is the largest (timestamp, id), here 'crit-c'.
    crit = {"action_class": "db.failover", "mode": "auto-notify", "risk_tier": "3"}
    for decision_id, proposed in (
        ("crit-a", "2026-01-06T23:00:00Z"),
        ("crit-b", "2026-01-06T20:00:00Z"),
        ("crit-c", "2026-01-07T04:00:00+05:00"),
    ):
        _event(log, decision_id, proposed, executed="1", **crit)
    _event(log, "crit-a", "2026-01-09T01:00:00+03:00", outcome="failure", severity="critical")
    _event(log, "crit-b", "2026-01-08T22:00:00Z", outcome="failure", severity="critical")
    _event(log, "crit-c", "2026-01-08T22:00:00", outcome="failure", severity="critical")
    # One recorded on its proposal's day, one a day later on a day with decisions of its own.
    _event(log, "crit-d", "2026-01-02T05:00:00Z", executed="true", outcome="failure",
           severity="critical", **crit)  # fmt: skip
    _event(log, "crit-e", "2026-01-01T23:30:00-01:00", executed="true", **crit)
    _event(log, "crit-e", "2026-01-02T06:00:00Z", outcome="failure", severity="critical")
    # Offsets and naive times that move a decision across UTC midnight, a date alone.
    _event(log, "m-1", "2026-01-11T01:30:00+05:30", executed="no", **base)  # 10th, 20:00Z
    _event(log, "m-2", "2026-01-10T22:00:00-05:00", executed="no", **base)  # 11th, 03:00Z
    _event(log, "m-3", "2026-01-11", executed="no", **base)  # 11th, 00:00Z
    _event(log, "m-4", "2026-01-10 23:59:59.999999", executed="no", **base)
    # Each spelling of a time once, a service of its own: each instant is a segment's first.
    for index, stamp in enumerate(TIME_FORMS):
        forms = {"action_class": "k8s.time_forms", "mode": "full", "service": f"form-{index}"}
        _event(log, f"f-{index}", stamp, executed="no", **forms)
    return log
