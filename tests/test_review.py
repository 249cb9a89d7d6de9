"""trustctl review: the page's content, its files, its formats, and bad input."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from clirun import failure, ok, run
from conftest import SAMPLE_CSV

from trustctl import oc_report
from trustctl.oc import operating_characteristics
from trustctl.reasons import need_text
from trustctl.review import Review
from trustctl.review_pages import Request, html_page, markdown_page, review_of
from trustctl.rules import load_rules
from trustctl.schema import HUMAN_CODES
from trustctl.verdict import MoreClean, MoreVerified

GROUPS = ("k8s.cordon_node", "k8s.scale", "cache.flush")
_JUDGED = [HUMAN_CODES[h] for h in ("approved", "rejected", "modified", "overridden")]


@pytest.fixture(scope="module")
def sample_review() -> Review:
    return review_of(Request(logs=(SAMPLE_CSV,), rules=load_rules(None), groups=GROUPS))


@pytest.mark.slow
def test_the_html_page_is_self_contained_and_deterministic(tmp_path: Path) -> None:
    pages = []
    for name in ("a.html", "b.html"):
        ok(
            "review",
            SAMPLE_CSV,
            *(x for g in GROUPS[:2] for x in ("--group", g)),
            "-o",
            tmp_path / name,
        )
        pages.append((tmp_path / name).read_text(encoding="utf-8"))
    assert pages[0] == pages[1]
    page = pages[0]
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", "src=", 'href="http'):
        assert forbidden not in page, forbidden
    assert not re.search(r"url\((?!#)", page)  # only the SVGs' own clip paths
    assert page.count("<svg") == 6  # trust, volume and reliability for each group
    assert page.count("<title>") == 1 + 6 and page.count("<figcaption>") == 6
    assert "@media print" in page and "break-inside: avoid" in page
    assert 'name="viewport"' in page


def test_markdown_with_charts_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "review.md"
    said = ok("review", SAMPLE_CSV, "--group", "k8s.scale", "-o", out).stdout
    assert said.startswith(f"wrote the review of 1 group(s) to {out} and 3 chart(s)")
    text = out.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert links == [
        "review_files/k8s-scale-trust.svg",
        "review_files/k8s-scale-volume.svg",
        "review_files/k8s-scale-reliability.svg",
    ]
    for link in links:
        assert (tmp_path / link).read_text(encoding="utf-8").startswith("<svg")


def test_markdown_on_stdout_has_the_header_summary_and_every_verdict(
    sample_review: Review,
) -> None:
    text = ok("review", SAMPLE_CSV, *(x for g in GROUPS for x in ("--group", g))).stdout
    for label in ("as of", "window", "input", "rules", "compared with", "trustctl"):
        assert f"- **{label}:**" in text
    assert "sha256 " in text and "![" not in text
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert [line.split(" | ")[0].lstrip("| ") for line in summary.splitlines()[4:7]] == [
        g.name for g in sample_review.groups
    ]
    for group in sample_review.groups:
        assert f"## {group.name} — {group.verdict.level.value}" in text
        assert f"**Verdict:** {group.verdict.level.value}" in text


def test_closest_to_promotion_first_with_the_eta_arithmetic(sample_review: Review) -> None:
    frame = pd.read_csv(SAMPLE_CSV)
    merged = frame.groupby("decision_id").agg("last")  # event rows add fields, never change them
    as_of = pd.Timestamp(sample_review.header.as_of)
    weeks = []
    for group in sample_review.groups:
        if group.eta is None:
            continue
        rows = merged[merged["action_class"] == group.name]
        first = pd.to_datetime(frame["timestamp"], utc=True).groupby(frame["decision_id"]).min()
        stamps = first[rows.index]
        recent = rows[(stamps > as_of - pd.Timedelta(days=28)).to_numpy()]
        judged = recent["human_decision"].isin(["approved", "rejected", "modified", "overridden"])
        assert group.eta.noun == "clean approvals"
        assert group.eta.per_week == judged.sum() / 4
        assert group.eta.weeks == group.eta.more / group.eta.per_week
        weeks.append(group.eta.weeks)
    assert weeks == sorted(weeks) and len(weeks) >= 2


def test_disagreements_are_marked_counted_from_the_evidence_clock(sample_review: Review) -> None:
    group = next(g for g in sample_review.groups if g.name == "k8s.cordon_node")
    counted_from = group.verdict.state.evidence.counted_from
    assert group.recent and any(d.counted for d in group.recent)
    assert any(not d.counted for d in group.recent)
    for d in group.recent:
        assert d.counted == (d.timestamp >= counted_from)
    assert [d.timestamp for d in group.recent] == sorted(
        (d.timestamp for d in group.recent), reverse=True
    )
    by_reviewer = dict(group.rollups[0].counts)
    assert sum(by_reviewer.values()) == group.disagreements


def test_the_history_behind_the_charts_has_the_version_change(sample_review: Review) -> None:
    group = next(g for g in sample_review.groups if g.name == "k8s.scale")
    assert [v for _, v in group.version_changes] == ["agent-2.4.0"]
    assert any(w.change == "promoted" for w in group.weeks)
    assert sum(sum(w.human.values()) for w in group.weeks) == sum(
        sum(w.outcome.values()) for w in group.weeks
    )


def test_an_unknown_group_exits_2_with_a_suggestion(tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    said = failure(run("review", SAMPLE_CSV, "--group", "k8s.scal", "-o", out))
    assert said == "error: --group 'k8s.scal': no such group; did you mean 'k8s.scale'?\n"
    assert not out.exists()


def test_help_has_examples() -> None:
    text = ok("review", "--help").stdout
    assert "trustctl review sample_data/ -o review.html" in text


def test_the_page_shows_the_operating_characteristics_of_the_rules_in_use(
    sample_review: Review,
) -> None:
    assert sample_review.oc == operating_characteristics(load_rules(None).rules)
    page = markdown_page(sample_review)
    assert "## Operating characteristics of these rules" in page
    assert page.endswith(oc_report.markdown(sample_review.oc))
    assert "<h2>Operating characteristics of these rules</h2>" in html_page(sample_review)


def test_a_capped_groups_next_step_names_the_services_at_the_capping_tier(tmp_path: Path) -> None:
    page = ok("review", SAMPLE_CSV, "--format", "markdown").stdout
    row = next(line for line in page.splitlines() if line.startswith("| k8s.scale |"))
    with SAMPLE_CSV.open(encoding="utf-8", newline="") as stream:
        services = {
            r["service"]
            for r in csv.DictReader(stream)
            if r["action_class"] == "k8s.scale" and r["system_tier"] == "2" and r["service"]
        }
    assert services
    assert (
        f"capped at auto_notify by system_tier=2 (services: {', '.join(sorted(services))}); "
        "adding system_tier to group_by would split it, each tier judged apart"
    ) in row
    rules = tmp_path / "split.yaml"
    rules.write_text("group_by: [action_class, system_tier]\n", encoding="utf-8")
    split = ok(
        "review", SAMPLE_CSV, "--rules", rules, "--group", "k8s.scale", "--format", "markdown"
    )
    assert "k8s.scale system_tier=2" in split.stdout
    assert "adding system_tier" not in split.stdout


def test_the_sign_off_block_shows_the_ledgers_state_for_each_group(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    ok("generate", SAMPLE_CSV, "-o", policy)
    before = ok("review", SAMPLE_CSV, "--policy", policy, "--format", "markdown").stdout
    block = before.split("## k8s.restart_pod")[1].split("### Sign-off")[1].split("| reviewers")[0]
    assert "waiting for sign-off: full proposed on 2026-11-19T21:13:30Z" in block
    assert "trustctl approve k8s.restart_pod --by NAME --reason TEXT" in block
    ok(
        "approve",
        "k8s.restart_pod",
        SAMPLE_CSV,
        "--policy",
        policy,
        "--by",
        "Dana",
        "--reason",
        "ok",
    )
    after = ok("review", SAMPLE_CSV, "--policy", policy, "--format", "markdown").stdout
    block = after.split("## k8s.restart_pod")[1].split("### Sign-off")[1].split("| reviewers")[0]
    assert "no promotion waiting for sign-off" in block
    assert re.search(r"line \d+: approved full by Dana at [0-9TZ:-]+: ok", block), block
    plain = ok("review", SAMPLE_CSV, "--group", "k8s.scale", "--format", "markdown").stdout
    assert "waiting for sign-off" not in plain and "ledger " not in plain.split("### Sign-off")[1]


def _recent_pace(group: str, as_of: pd.Timestamp) -> tuple[float, float]:
    """Reviewed and verified decisions per week over the last 4 weeks, counted from the CSV."""
    frame = pd.read_csv(SAMPLE_CSV)
    merged = frame.groupby("decision_id").agg("last")  # event rows add fields, never change them
    first = pd.to_datetime(frame["timestamp"], utc=True).groupby(frame["decision_id"]).min()
    rows = merged[merged["action_class"] == group]
    recent = rows[(first[rows.index] > as_of - pd.Timedelta(days=28)).to_numpy()]
    judged = recent["human_decision"].isin(["approved", "rejected", "modified", "overridden"])
    executed = recent["executed"].astype(str).str.lower().isin(["true", "1", "yes"])
    verified = executed & recent["outcome"].isin(["success", "failure"])
    return judged.sum() / 4, verified.sum() / 4


def test_the_summary_names_the_binding_need_the_one_its_eta_times() -> None:
    # cert.renew misses 57 clean approvals and 6,752 verified successes: the summary used to
    # name the first and time the second. The binding one takes longest at its own pace.
    review = review_of(Request(logs=(SAMPLE_CSV,), rules=load_rules(None)))
    as_of = pd.Timestamp(review.header.as_of)
    cert = next(g for g in review.groups if g.name == "cert.renew")
    reviewed, verified = _recent_pace("cert.renew", as_of)
    waits = {}
    for need in cert.verdict.next.needs:
        if isinstance(need, MoreClean) and need.metric == "agreement":
            waits[need_text(need)] = need.more / reviewed
        elif isinstance(need, (MoreClean, MoreVerified)):
            waits[need_text(need)] = need.more / verified
    assert len(waits) == 3  # approvals, successes, verified executions
    binding = max(waits, key=lambda text: waits[text])
    assert binding.startswith("6752 more verified successes")
    assert cert.next_step == binding
    assert cert.eta is not None and cert.eta.weeks == pytest.approx(waits[binding])
    page = markdown_page(review)
    row = next(line for line in page.splitlines() if line.startswith("| cert.renew |"))
    assert binding in row and "≈ 520 weeks at 13 verified/week" in row
    assert "57 more clean approvals" not in row
    for group in review.groups:  # every row names the need its ETA times
        if group.eta is not None:
            assert group.next_step == need_text(group.eta.need)
    explained = ok("explain", "cert.renew", SAMPLE_CSV, "--format", "json").stdout
    assert json.loads(explained)["groups"][0]["binding_need"]["need"] == binding
