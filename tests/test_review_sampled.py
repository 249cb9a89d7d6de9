"""``review_sampled``: once the agent acts, agreement counts only the audit sample's reviews;
without the column the policy says ``agreement_sampling: unknown``.

Bounds are computed here with ``scipy.stats.beta`` (one-sided 95% Clopper-Pearson).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from clirun import failure, ok
from clirun import run as cli
from logbuilder import LogBuilder, day, entry, run
from scipy.stats import beta

from trustctl import yamlio

POD = "k8s.restart_pod"


def upper(k: int, n: int) -> float:
    return 1.0 if k == n else float(beta.ppf(0.95, k + 1, n - k))


def _acting(sampled: str, selective: str) -> LogBuilder:
    """At auto_notify: 60 approvals of the audit sample, and 20 overrides of actions people
    chose to look at because they went wrong."""
    log = LogBuilder().reviewed(1, POD, 60, mode="auto_notify", review_sampled=sampled)
    return log.reviewed(2, POD, overridden=20, mode="auto_notify", review_sampled=selective)


def test_only_the_audit_sample_counts_at_auto_notify(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _acting("true", "false"), as_of=day(10))
    found = entry(evaluation, POD)
    assert found["level"] == "auto_notify"
    agreement = found["evidence"]["agreement"]
    assert (agreement["agreed"], agreement["reviewed"], agreement["not_sampled"]) == (60, 60, 20)
    assert found["evidence"]["for_demotion"]["not_sampled"] == 20
    assert "agreement_sampling" not in found


def test_without_the_column_every_review_counts_and_the_policy_says_so(tmp_path: Path) -> None:
    # 60 of 80: the upper bound is below the 0.90 demotion threshold.
    assert upper(60, 80) < 0.9
    evaluation = run(tmp_path, _acting("", ""), as_of=day(10))
    found = entry(evaluation, POD)
    assert (found["level"], found["change"]) == ("suggest", "demoted")
    assert found["agreement_sampling"] == "unknown"
    assert found["evidence"]["for_demotion"]["reviewed"] == 80
    assert "not_sampled" not in found["evidence"]["agreement"]


def test_at_suggest_every_proposal_is_reviewed_so_the_column_changes_nothing(
    tmp_path: Path,
) -> None:
    log = LogBuilder().reviewed(1, POD, 50, 10, review_sampled="false")
    found = entry(run(tmp_path, log, as_of=day(10)), POD)
    assert (found["evidence"]["agreement"]["reviewed"], found["level"]) == (60, "suggest")
    assert "agreement_sampling" not in found


def test_a_value_that_is_not_true_or_false_is_refused_with_its_line(tmp_path: Path) -> None:
    path = LogBuilder().reviewed(1, POD, 2, review_sampled="maybe").write(tmp_path / "d.csv")
    message = failure(cli("validate", path))
    assert f"{path}:2:" in message and "column 'review_sampled': 'maybe'" in message


def test_evidence_written_before_the_column_is_of_unknown_sampling(tmp_path: Path) -> None:
    logs = _acting("true", "false").write(tmp_path / "d.csv")
    ok("aggregate", logs, "-o", tmp_path / "new.parquet")
    table = pq.read_table(tmp_path / "new.parquet")
    old = table.drop_columns(["unsampled", "unsampled_agreed", "sampling_unknown"])
    pq.write_table(old.replace_schema_metadata(table.schema.metadata), tmp_path / "old.parquet")
    args = ("generate", "--evidence", "--as-of", "2026-01-11")
    new = yamlio.load(ok(*args, tmp_path / "new.parquet").stdout.encode())
    older = yamlio.load(ok(*args, tmp_path / "old.parquet").stdout.encode())
    assert "agreement_sampling" not in new["actions"][0]
    assert older["actions"][0]["agreement_sampling"] == "unknown"
    assert older["actions"][0]["evidence"]["for_demotion"]["reviewed"] == 80


def test_trustctl_sample_writes_the_column_and_leaves_no_sampling_unknown(tmp_path: Path) -> None:
    ok("sample", "-o", tmp_path / "s", "--decisions", "3000")
    text = (tmp_path / "s" / "decisions.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].endswith(",review_sampled")
    policy = yamlio.load(ok("generate", tmp_path / "s").stdout.encode())
    acting = [a for a in policy["actions"] if a["level"] in ("auto_notify", "full")]
    assert acting and not [a for a in policy["actions"] if "agreement_sampling" in a]
