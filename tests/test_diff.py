"""``diff``: what else differs besides levels — metadata, the old reasons, distances, proposals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import ok
from conftest import SAMPLE_CSV


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", SAMPLE_CSV, "--as-of", "2026-09-30", "-o", old)
    ok(
        "generate",
        SAMPLE_CSV,
        "--set",
        "promote.auto_notify.agreement.min_decisions=100",
        "--where",
        "service!=ci-runners",
        "-o",
        new,
    )
    return old, new


def _json(old: Path, new: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(ok("diff", old, new, "--format", "json").stdout)
    return found


def _policy(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return found


def test_metadata_differences_are_named(pair: tuple[Path, Path]) -> None:
    found = {m["name"]: (m["old"], m["new"]) for m in _json(*pair)["metadata"]}
    assert found["as_of"] == ("2026-09-30T00:00:00Z", "2026-11-19T21:13:30Z")
    assert found["overrides"] == ("none", "promote.auto_notify.agreement.min_decisions=100")
    assert found["filters"] == ("none", "service!=ci-runners")
    assert found["rules in effect"][0] == "as the file"
    assert len(found["rules in effect"][1]) == 64  # the sha256 of the rules in effect
    assert "rules sha256" not in found and "input added" not in found  # the same file


def test_level_changes_carry_both_reasons(pair: tuple[Path, Path]) -> None:
    old, new = pair
    levels = {c["label"]: c for c in _json(old, new)["levels"]}
    before = {a["action_class"]: a for a in _policy(old)["actions"]}
    after = {a["action_class"]: a for a in _policy(new)["actions"]}
    assert levels
    for name, change in levels.items():
        assert change["reason"] == after[name]["reason"]
        assert change["old_reason"] == before[name]["reason"]
        assert (change["old"], change["new"]) == (before[name]["level"], after[name]["level"])
    markdown = ok("diff", old, new, "--format", "markdown").stdout
    assert "### Level changes: the reasons before" in markdown
    name = next(iter(levels))
    assert f"- **{name}** ({before[name]['level']}): {before[name]['reason']}" in markdown


def test_distances_at_the_same_level_are_shown(pair: tuple[Path, Path]) -> None:
    old, new = pair
    before = {a["action_class"]: a for a in _policy(old)["actions"]}
    after = {a["action_class"]: a for a in _policy(new)["actions"]}
    expected = {
        name
        for name in before.keys() & after.keys()
        if before[name]["level"] == after[name]["level"]
        and (before[name]["next"]["level"], before[name]["next"]["clean_decisions_needed"])
        != (after[name]["next"]["level"], after[name]["next"]["clean_decisions_needed"])
    }
    distances = {d["label"]: d for d in _json(old, new)["distances"]}
    assert set(distances) == expected and expected
    for name, d in distances.items():
        assert d["old_needed"] == before[name]["next"]["clean_decisions_needed"]
        assert d["new_needed"] == after[name]["next"]["clean_decisions_needed"]
    table = ok("diff", old, new).stdout
    assert "next level: other distance, same level" in table
    assert "metadata" in table and "service!=ci-runners" in table


def test_a_proposal_is_shown_apart(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", SAMPLE_CSV, "--as-of", "2026-09-01", "-o", old)
    ok("generate", SAMPLE_CSV, "-o", new)
    proposals = _json(old, new)["proposals"]
    assert [(p["label"], p["kind"], p["level"], p["proposed"]) for p in proposals] == [
        ("k8s.restart_pod", "proposed", "auto_notify", "full")
    ]
    actions = {a["action_class"]: a for a in _policy(new)["actions"]}
    assert proposals[0]["reason"] == actions["k8s.restart_pod"]["reason"]
    table = ok("diff", old, new).stdout
    assert "proposals (waiting for sign-off)" in table
