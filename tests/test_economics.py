"""Economics: review time saved and failures that ran first (``--review-minutes``), counted
from the CSV; the rules' prices and the trade a promotion offers, against hand-computed values."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import defaultdict
from pathlib import Path

import pytest
from clirun import failure, ok, run
from conftest import SAMPLE_CSV
from logbuilder import LogBuilder

from trustctl.overrides import effective_sha256
from trustctl.rules import TrustRules, load_rules

MINUTES = 12
PRICED_RULES = Path(__file__).resolve().parent.parent / "policies" / "economics.yaml"


def _merged() -> dict[str, dict[str, str]]:
    """Each decision of the sample: its earliest time, every other field's one value."""
    decisions: dict[str, dict[str, str]] = defaultdict(dict)
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as stream:
        for record in csv.DictReader(stream):
            merged = decisions[record["decision_id"]]
            for name, value in record.items():
                if name == "timestamp":
                    merged[name] = min(merged.get(name, value), value, key=_instant)
                elif value:
                    merged[name] = value
    return decisions


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_review_counts_what_ran_without_a_human_first() -> None:
    steps = json.loads(ok("history", SAMPLE_CSV, "--format", "json").stdout)["steps"]
    first, last = _instant(steps[0]["as_of"]), _instant(steps[-1]["as_of"])
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for d in _merged().values():
        if not first < _instant(d["timestamp"]) <= last:
            continue
        counts = expected[d["action_class"]]
        counts[0] += 1
        if d["executed"] == "true" and d["mode"] in ("auto_notify", "full"):
            counts[1] += 1
            counts[2] += d.get("outcome") == "failure"
            counts[3] += d.get("outcome") == "failure" and d.get("severity") == "critical"
    page = ok("review", SAMPLE_CSV, "--review-minutes", str(MINUTES), "--format", "markdown")
    lines = page.stdout.split("## Economics")[1].split("\n## ")[0].splitlines()
    table = [line.split(" | ") for line in lines if line.startswith("| ") and "---" not in line]
    shown = {cells[0].lstrip("| "): cells for cells in table[1:]}
    assert set(shown) == set(expected)
    for group, (decisions, automated, failed, critical) in expected.items():
        cells = shown[group]
        assert int(cells[1]) == decisions, group
        assert cells[2].split(" ")[0] == str(automated), group
        saved = automated * MINUTES
        assert cells[3] == (f"{saved:,.0f} min" if saved < 120 else f"{saved / 60:,.1f} h")
        assert cells[4] == str(failed) + (f" ({critical} critical)" if critical else "")
    assert sum(c[1] for c in expected.values()) > 0


def test_without_the_minutes_there_is_no_economics_section() -> None:
    page = ok("review", SAMPLE_CSV, "--group", "k8s.scale", "--format", "markdown").stdout
    assert "Economics" not in page


@pytest.mark.parametrize("minutes", ["0", "-3", "1e9"])
def test_bad_minutes_exit_2(minutes: str) -> None:
    assert "--review-minutes" in failure(run("review", SAMPLE_CSV, "--review-minutes", minutes))


def test_the_replay_prices_each_scenario_in_review_time() -> None:
    args = ["--replay", "--since", "2026-10-01", "--scenario", "p90: window=90d"]
    data = json.loads(
        ok("whatif", SAMPLE_CSV, *args, "--review-minutes", "7.5", "--format", "json").stdout
    )
    for scenario in data["scenarios"]:
        total = scenario["total"]
        assert total["review_minutes_saved"] == total["automated"] * 7.5
        for group in scenario["groups"].values():
            assert group["review_minutes_saved"] == group["automated"] * 7.5
    baseline, p90 = (s["total"]["automated"] * 7.5 / 60 for s in data["scenarios"])
    assert (
        f"{p90:,.1f} h of human review saved ({p90 - baseline:,.1f} h more"
        in (data["scenarios"][1]["summary"])
    )
    plain = json.loads(ok("whatif", SAMPLE_CSV, *args, "--format", "json").stdout)
    assert "review_minutes_saved" not in plain["scenarios"][0]["total"]


def test_review_minutes_price_a_replay_only() -> None:
    result = run("whatif", SAMPLE_CSV, "--scenario", "a: window=90d", "--review-minutes", "5")
    assert "add --replay" in failure(result)


# --- the rules' economics: the trade a promotion to auto_notify offers -------------------------

PRICES = (
    "economics:\n"
    "  review_delay_minutes: 12\n"
    "  downtime_cost_per_minute: 800\n"
    "  failure_cost: {minor: 500, major: 20000, critical: 250000}\n"
)


def _binomial_upper(k: int, n: int, alpha: float = 0.05) -> float:
    """The one-sided Clopper-Pearson upper bound by bisection on the binomial CDF: the p at
    which P(X <= k) = alpha (independent of scipy)."""
    low, high = 0.0, 1.0
    for _ in range(200):
        p = (low + high) / 2
        cdf = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
        low, high = (p, high) if cdf > alpha else (low, p)
    return (low + high) / 2


def _priced_log(tmp_path: Path) -> tuple[Path, Path]:
    """100 executed approvals (96 successes; failures: 2 minor, 1 major, 1 without a
    severity) and 10 rejections: agreement 100/110 keeps svc.patch at suggest."""
    log = (
        LogBuilder()
        .add(0, "svc.patch", 60, human="approved", outcome="success", system_tier=1)
        .add(30, "svc.patch", 36, human="approved", outcome="success", system_tier=1)
        .add(30.1, "svc.patch", 2, human="approved", outcome="failure", severity="minor")
        .add(30.2, "svc.patch", 1, human="approved", outcome="failure", severity="major")
        .add(30.3, "svc.patch", 1, human="approved", outcome="failure", system_tier=1)
        .add(30.4, "svc.patch", 10, human="rejected", system_tier=1)
    )
    rules = tmp_path / "priced.yaml"
    rules.write_text(PRICES, encoding="utf-8")
    return log.write(tmp_path / "decisions.csv"), rules


def test_the_trade_of_the_next_level_by_hand(tmp_path: Path) -> None:
    logs, rules = _priced_log(tmp_path)
    data = json.loads(ok("explain", "svc.patch", logs, "--rules", rules, "--format", "json").stdout)
    found = data["groups"][0]
    assert found["action"]["level"] == "suggest" and found["action"]["next"]["level"] == (
        "auto_notify"
    )
    economics = found["economics"]
    # The last 4 weeks (after day 30.4 - 28 = day 2.4) hold the 50 decisions of days 30-30.4.
    assert economics["decisions_per_week"] == 50 / 4 == 12.5
    # 12.5 decisions/week × 12 min = 150 min/week; × 800/min = 120,000/week.
    assert economics["delay_minutes_saved_per_week"] == 150
    assert economics["delay_cost_per_week"] == 120_000
    # 100 verified executions; the failure without a severity counts as the costliest,
    # critical (250,000): minor 2, major 1, critical 1.
    assert economics["verified"] == 100
    failures = economics["failures"]
    assert {s: f["count"] for s, f in failures.items()} == {"minor": 2, "major": 1, "critical": 1}
    # 95% one-sided Clopper-Pearson upper bounds: 2 of 100 → 0.0616192, 1 of 100 → 0.0465598
    u2, u1 = _binomial_upper(2, 100), _binomial_upper(1, 100)
    assert u2 == pytest.approx(0.0616192, abs=1e-7) and u1 == pytest.approx(0.0465598, abs=1e-7)
    assert failures["minor"]["rate_upper"] == pytest.approx(u2, rel=1e-9)
    assert failures["major"]["rate_upper"] == pytest.approx(u1, rel=1e-9)
    assert failures["critical"]["rate_upper"] == pytest.approx(u1, rel=1e-9)
    # 12.5 × (0.0616192 × 500 + 0.0465598 × 20,000 + 0.0465598 × 250,000) ≈ 157,524.48/week
    expected = 12.5 * (u2 * 500 + u1 * 20_000 + u1 * 250_000)
    assert expected == pytest.approx(157_524.48, abs=0.01)
    assert economics["failure_cost_per_week_upper"] == pytest.approx(expected, rel=1e-9)
    assert (economics["confidence"], economics["method"]) == (0.95, "clopper-pearson")
    markdown = ok("explain", "svc.patch", logs, "--rules", rules, "--format", "markdown").stdout
    line = next(x for x in markdown.splitlines() if x.startswith("- economics: "))
    assert "12.5 decisions/week" in line and "2.5 h/week of remediation delay saved" in line
    assert "worth 120,000/week at 800/min" in line and "expected ≤ 157,524/week" in line
    assert "95% upper bound (clopper-pearson)" in line
    text = " ".join(ok("explain", "svc.patch", logs, "--rules", rules).stdout.split())
    assert " ".join(line.removeprefix("- ").split()) in text
    page = ok("review", logs, "--rules", rules, "--format", "markdown").stdout
    row = next(x for x in page.split("## Economics")[1].splitlines() if x.startswith("| svc"))
    assert row.endswith("| 2.5 h/week | 120,000/week | 157,524/week |")


def test_review_minutes_override_the_rules_minutes(tmp_path: Path) -> None:
    logs, rules = _priced_log(tmp_path)
    page = ok("review", logs, "--rules", rules, "--review-minutes", "6", "--format", "markdown")
    section = page.stdout.split("## Economics")[1]
    assert section.split("\n\n")[1].startswith("At 6 minutes of waiting")
    row = next(x for x in section.splitlines() if x.startswith("| svc"))
    # 12.5/week × 6 min = 75 min/week, × 800 = 60,000/week; the failures' cost does not move
    assert row.endswith("| 75 min/week | 60,000/week | 157,524/week |")


def test_without_economics_nothing_is_shown_or_assumed(tmp_path: Path) -> None:
    logs, _ = _priced_log(tmp_path)
    data = json.loads(ok("explain", "svc.patch", logs, "--format", "json").stdout)
    assert "economics" not in data["groups"][0]
    assert "economics" not in ok("explain", "svc.patch", logs).stdout
    assert "Economics" not in ok("review", logs, "--format", "markdown").stdout


def test_prices_change_no_hash_and_no_level(tmp_path: Path) -> None:
    plain = TrustRules()
    priced = load_rules(PRICED_RULES).rules
    assert priced.economics is not None
    assert effective_sha256(priced) == effective_sha256(plain)
    assert plain.deciding() == priced.deciding()
    policy = tmp_path / "policy.yaml"
    ok("generate", SAMPLE_CSV, "-o", policy)
    # made with the built-in rules; checked with the priced ones: the same rules in effect
    checked = ok("check", SAMPLE_CSV, "--policy", policy, "--rules", PRICED_RULES)
    assert "up to date" in checked.stdout
    with_prices = ok("generate", SAMPLE_CSV, "--rules", PRICED_RULES)
    without = ok("generate", SAMPLE_CSV).stdout
    assert [
        x
        for x in with_prices.stdout.splitlines()
        if "rules" not in x and "sha256" not in x and "path" not in x
    ] == [
        x
        for x in without.splitlines()
        if "rules" not in x and "sha256" not in x and "path" not in x
    ]


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        (
            "review_delay_minutes: 0",
            "economics.review_delay_minutes: Input should be greater than 0",
        ),
        (
            "failure_cost: {minor: 1, major: 2}",
            "economics.failure_cost: needs a cost for every severity; missing: critical",
        ),
        (
            "failure_cost: {minor: 1, major: 2, critical: 3, fatal: 4}",
            "economics.failure_cost.fatal:",
        ),
    ],
)
def test_bad_prices_exit_2_naming_the_key(tmp_path: Path, prices: str, message: str) -> None:
    base = dict(line.strip().split(": ", 1) for line in PRICES.splitlines()[1:])
    key = prices.split(":", 1)[0]
    base[key] = prices.split(": ", 1)[1]
    rules = tmp_path / "bad.yaml"
    rules.write_text(
        "economics:\n" + "".join(f"  {k}: {v}\n" for k, v in base.items()), encoding="utf-8"
    )
    said = failure(run("validate", "--rules", rules))
    assert said.startswith(f"error: {rules}: {message}"), said
