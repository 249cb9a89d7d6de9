"""The rules file: defaults, the shipped file, and errors that name the key path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from trustctl.errors import RulesError
from trustctl.levels import Level
from trustctl.rules import TrustRules, load_rules, parse_duration, parse_rules

SHIPPED = Path(__file__).resolve().parent.parent / "policies" / "rules.yaml"


def test_shipped_rules_equal_the_built_in_defaults() -> None:
    assert load_rules(SHIPPED).rules == TrustRules()


def test_loaded_rules_carry_path_and_digest() -> None:
    loaded = load_rules(SHIPPED)
    assert loaded.path == str(SHIPPED)
    assert loaded.sha256 is not None and len(loaded.sha256) == 64
    assert load_rules(None).path is None


def test_defaults_are_the_documented_ones() -> None:
    rules = TrustRules()
    assert rules.bounds.method == "clopper-pearson"
    assert rules.bounds.confidence == 0.95
    assert rules.window_span == dt.timedelta(days=180)
    assert rules.cooldown_span == dt.timedelta(days=7)
    assert rules.promote.auto_notify is not None and rules.promote.auto_notify.agreement
    assert rules.promote.auto_notify.agreement.min_decisions == 50
    assert rules.promote.auto_notify.agreement.threshold == 0.95
    full = rules.promote.full
    assert full is not None and full.success is not None
    assert (full.success.min_decisions, full.success.threshold) == (200, 0.99)
    assert full.success.max_unverified == 0.05
    assert rules.demote.critical_failure_to is Level.SUGGEST
    assert rules.caps.system_tier[4] is Level.OBSERVE
    assert rules.risk_tier_of("db.failover") == 3
    assert rules.risk_tier_of("k8s.rollback") == 2
    assert rules.risk_tier_of("k8s.restart_pod") == 1


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"promote": {"full": {"success": {"threshold": 1.5}}}},
            "promote.full.success.threshold: must be < 1",
        ),
        (
            {"promote": {"full": {"success": {"threshold": 0.0}}}},
            "promote.full.success.threshold: must be > 0",
        ),
        ({"bounds": {"confidence": 1.0}}, "bounds.confidence: must be < 1"),
        ({"bounds": {"confidence": "0.9"}}, "bounds.confidence: Input should be a valid number"),
        ({"bounds": {"method": "wald"}}, "bounds.method"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
        ({"promote": {"full": {"succes": {"threshold": 0.99}}}}, "promote.full.succes"),
        ({"initial_level": "max"}, "initial_level: Input should be 'observe'"),
        ({"demote": {"critical_failure_to": "sometimes"}}, "demote.critical_failure_to"),
        ({"window": "six months"}, "window: 'six months' is not a duration"),
        ({"group_by": ["service"]}, "group_by: must start with 'action_class'"),
        (
            {"group_by": ["system_tier", "action_class"]},
            "group_by: must start with 'action_class'",
        ),
        ({"group_by": []}, "group_by: must start with 'action_class'"),
        ({"group_by": ["action_class", "action_class"]}, "group_by: lists a key twice"),
        ({"window": "0d"}, "window: must be > 0"),
        ({"window": "99999999999999d"}, "window: at most 36500d"),
        ({"window": "36501d"}, "window: at most 36500d"),
        ({"cooldown": "99999999999999w"}, "cooldown: at most 36500d"),
        ({"caps": {"risk_tier": {4: "full"}}}, "caps.risk_tier.4"),
        (
            {"promote": {"auto_notify": {"agreement": {"threshold": 0.9}}}},
            "promote.auto_notify.agreement.threshold: must be above "
            "demote.auto_notify.agreement.threshold",
        ),
        (
            {"demote": {"full": {"success": {"threshold": 0.995}}}},
            "promote.full.success.threshold: must be above demote.full.success.threshold",
        ),
        ({"pins": [{"action_class": "x.*", "level": "full"}]}, "pins.0.reason: Field required"),
        ({"apiVersion": "trustctl/v2"}, "apiVersion"),
    ],
)
def test_bad_rules_name_the_key_path(document: dict[str, Any], expected: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(document, "my-rules.yaml")
    assert f"my-rules.yaml: {expected}" in str(caught.value)


def test_rules_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "rules.yaml"
    broken.write_text("promote: [unclosed\n")
    with pytest.raises(RulesError, match=r"rules\.yaml:2: not valid YAML: while parsing a flow"):
        load_rules(broken)
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_rules(tmp_path / "missing.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(RulesError, match="must be a mapping"):
        load_rules(listed)


def test_pin_expiry_date_means_midnight_utc() -> None:
    rules = parse_rules(
        {
            "pins": [
                {
                    "action_class": "db.*",
                    "level": "observe",
                    "reason": "audit",
                    "owner": "sre-lead",
                    "expires": dt.date(2027, 1, 31),
                }
            ]
        },
        "r.yaml",
    )
    pin = rules.pins[0]
    assert pin.expires_at() == dt.datetime(2027, 1, 31, tzinfo=dt.timezone.utc)
    assert pin.matches("db.failover", set())
    assert not pin.matches("k8s.rollback", set())


@pytest.mark.parametrize(
    ("text", "seconds"), [("180d", 180 * 86400), ("12h", 43200), ("2w", 1209600), ("90s", 90)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "d", "1.5d", "-1d", "7 days", "1y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(text)


def test_longest_and_shortest_durations_are_allowed() -> None:
    rules = parse_rules({"window": "36500d", "cooldown": "0s"}, "r.yaml")
    assert rules.window_span == dt.timedelta(days=36500)
    assert rules.cooldown_span == dt.timedelta(0)
    assert parse_rules({"window": "1s"}, "r.yaml").window_span == dt.timedelta(seconds=1)


def test_a_duration_too_long_for_a_timedelta_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="at most 36500d"):
        parse_duration("99999999999999d")


def test_group_by_may_add_keys_after_the_action_class() -> None:
    rules = parse_rules({"group_by": ["action_class", "system_tier", "service"]}, "r.yaml")
    assert rules.group_by == ("action_class", "system_tier", "service")


def test_a_partial_caps_map_keeps_the_default_caps_of_the_other_tiers() -> None:
    rules = parse_rules(
        {"caps": {"risk_tier": {3: "observe"}, "system_tier": {1: "auto_notify"}}}, "r.yaml"
    )
    assert rules.caps.risk_tier == {1: Level.FULL, 2: Level.AUTO_NOTIFY, 3: Level.OBSERVE}
    assert rules.caps.system_tier == {
        1: Level.AUTO_NOTIFY,
        2: Level.AUTO_NOTIFY,
        3: Level.SUGGEST,
        4: Level.OBSERVE,
    }
    assert parse_rules({"caps": {"risk_tier": {}}}, "r.yaml") == TrustRules()


def test_a_cap_is_lifted_only_when_named() -> None:
    rules = parse_rules({"caps": {"system_tier": {4: "full"}}}, "r.yaml")
    assert rules.caps.system_tier[4] is Level.FULL
    assert rules.caps.system_tier[3] is Level.SUGGEST


def test_critical_failure_to_full_is_refused() -> None:
    with pytest.raises(RulesError, match=r"demote\.critical_failure_to: must be below full"):
        parse_rules({"demote": {"critical_failure_to": "full"}}, "r.yaml")


def test_approval_defaults_and_errors() -> None:
    rules = TrustRules()
    assert rules.approval.required_for == (Level.FULL,)
    assert rules.approval.expires_span == dt.timedelta(days=14)
    assert parse_rules({"approval": {"required_for": []}}, "r.yaml").approval.required_for == ()
    both = parse_rules({"approval": {"required_for": ["auto_notify", "full"]}}, "r.yaml")
    assert both.approval.required_for == (Level.AUTO_NOTIFY, Level.FULL)
    with pytest.raises(RulesError, match=r"r.yaml: approval.expires: 'two weeks' is not"):
        parse_rules({"approval": {"expires": "two weeks"}}, "r.yaml")
    with pytest.raises(RulesError, match=r"r.yaml: approval.required_for: no promotion leads"):
        parse_rules({"approval": {"required_for": ["observe"]}}, "r.yaml")
    with pytest.raises(RulesError, match=r"r.yaml: approval.required_for.0: "):
        parse_rules({"approval": {"required_for": ["fullest"]}}, "r.yaml")


def test_unverified_belongs_to_the_success_gate() -> None:
    gate = {"min_decisions": 50, "threshold": 0.95}
    success = {**gate, "threshold": 0.99, "unverified": "exclude"}
    given = parse_rules({"promote": {"full": {"agreement": gate, "success": success}}}, "r.yaml")
    full = given.promote.full
    assert full is not None and full.success is not None
    assert full.success.unverified == "exclude"
    bad = {"agreement": {**gate, "unverified": "exclude"}, "success": success}
    with pytest.raises(RulesError, match=r"agreement\.unverified: only the success gate has it"):
        parse_rules({"promote": {"full": bad}}, "r.yaml")
