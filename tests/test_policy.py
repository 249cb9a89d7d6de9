"""The policy file: its content and order, atomic writes, reading it back, diffs, explain."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from logbuilder import LogBuilder, day, entry, iso, previous_policy, run, save, verdict

from trustctl.diff import diff_policies
from trustctl.errors import PolicyError, TrustctlError
from trustctl.explain import explain
from trustctl.files import write_atomically
from trustctl.policy import load_policy, to_json, to_yaml
from trustctl.yamlio import dump as dump_yaml
from trustctl.yamlio import load as load_yaml

POD = "k8s.restart_pod"


def _floats(value: Any) -> Iterator[float]:
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


def _busy_log() -> LogBuilder:
    return (
        LogBuilder()
        .reviewed(1, POD, 63, 1, timeouts=3)
        .add(2, POD, 7, human="approved", outcome="failure")
        .reviewed(1, "k8s.rollback", 35, 13, modified=2, mode="auto_notify")
        .add(3, "k8s.rollback", 3, mode="auto_notify", executed=True)
        .reviewed(1, "db.migrate", 10, 3)
    )


# --- content ---------------------------------------------------------------------------------


def test_every_float_is_rounded_to_six_places(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _busy_log(), as_of=day(5))
    floats = list(_floats(evaluation.policy))
    assert len(floats) > 20
    assert all(round(f, 6) == f for f in floats)
    # and the YAML text has no longer decimals either
    text = to_yaml(evaluation.document)
    assert all(len(part.split(".")[1]) <= 6 for part in _decimals(text))


def _decimals(text: str) -> list[str]:
    import re

    return re.findall(r"(?<![\w.])\d+\.\d+(?![\w.:-])", text)


def test_the_numbers_are_the_hand_counted_ones(tmp_path: Path) -> None:
    from scipy.stats import beta

    e = entry(run(tmp_path, _busy_log(), as_of=day(5)), POD)
    agreement, success = e["evidence"]["agreement"], e["evidence"]["success"]
    assert (agreement["agreed"], agreement["reviewed"], agreement["timeouts"]) == (70, 71, 3)
    assert agreement["rate"] == round(70 / 71, 6)
    assert agreement["lower"] == round(float(beta.ppf(0.05, 70, 2)), 6)
    assert agreement["upper"] == round(float(beta.ppf(0.95, 71, 1)), 6)
    assert agreement["mean"] == round(71 / 73, 6)
    # 7 approved-then-failed are executed and verified; the 63 plain approvals are unverified
    assert (success["succeeded"], success["verified"], success["unverified"]) == (0, 7, 63)
    assert success["executed"] == 70
    assert e["evidence"]["decisions"] == 63 + 1 + 3 + 7


def test_actions_are_sorted_by_group_key(tmp_path: Path) -> None:
    log = LogBuilder()
    for name in ("z.last", "a.first", "m.mid"):
        for tier in (3, 1, 2):
            log.reviewed(1, name, 2, system_tier=tier)
    log.reviewed(1, "m.mid", 2)
    evaluation = run(
        tmp_path, log, rule_data={"group_by": ["action_class", "system_tier"]}, as_of=day(3)
    )
    got = [(a["action_class"], a["system_tier"]) for a in evaluation.policy["actions"]]
    assert got == [
        ("a.first", 1),
        ("a.first", 2),
        ("a.first", 3),
        ("m.mid", None),
        ("m.mid", 1),
        ("m.mid", 2),
        ("m.mid", 3),
        ("z.last", 1),
        ("z.last", 2),
        ("z.last", 3),
    ]


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    log = _busy_log()
    a = to_yaml(run(tmp_path, log, as_of=day(5)).document)
    b = to_yaml(run(tmp_path, log, as_of=day(5)).document)
    assert a == b
    assert a.startswith("apiVersion: trustctl/v1\nkind: AutonomyPolicy\nmetadata:\n  as_of: ")


def test_metadata_summary_and_inputs(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _busy_log(), as_of=day(5))
    metadata = evaluation.policy["metadata"]
    assert metadata["as_of"] == iso(day(5))
    assert metadata["summary"] == {
        "groups": 3,
        "promoted": 0,
        "demoted": 1,
        "unchanged": 2,
        "new": 0,
        "proposed": 0,
    }
    assert metadata["inputs"][0]["rows"] == metadata["inputs"][0]["decisions"] == 74 + 53 + 13
    assert metadata["group_by"] == ["action_class"]


def test_yaml_and_json_read_back_the_same(tmp_path: Path) -> None:
    evaluation = run(tmp_path, _busy_log(), as_of=day(5))
    (tmp_path / "p.json").write_text(to_json(evaluation.document))
    (tmp_path / "p.yaml").write_text(to_yaml(evaluation.document))
    assert json.loads(to_json(evaluation.document)) == load_yaml(to_yaml(evaluation.document))
    from_json, from_yaml = load_policy(tmp_path / "p.json"), load_policy(tmp_path / "p.yaml")
    assert from_json == from_yaml
    assert [a.level.value for a in from_yaml.actions] == ["suggest", "suggest", "suggest"]


# --- atomic writes ---------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_write_atomically_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "policy.yaml"
    write_atomically(target, "one\n")
    write_atomically(target, "two\n")
    assert target.read_bytes() == b"two\n"
    assert _leftovers(tmp_path) == []


def test_write_atomically_gives_a_new_file_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.yaml", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.yaml").stat().st_mode) == 0o644
    existing = tmp_path / "existing.yaml"
    existing.write_text("old\n")
    existing.chmod(0o640)
    write_atomically(existing, "new\n")
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640


def test_write_atomically_writes_newlines_as_given(tmp_path: Path) -> None:
    write_atomically(tmp_path / "p.yaml", "a\nb\n")
    assert (tmp_path / "p.yaml").read_bytes() == b"a\nb\n"


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failed_write_leaves_the_target_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "policy.yaml"
    target.write_text("the committed policy\n")

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    if failing == "write":
        real_fdopen = os.fdopen

        class Broken:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self.handle = real_fdopen(*args, **kwargs)

            def __enter__(self) -> Broken:
                return self

            def __exit__(self, *exc: object) -> None:
                self.handle.close()

            def write(self, text: str) -> int:
                self.handle.write(text[:5])
                raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fdopen", Broken)
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises(TrustctlError, match="No space left on device"):
        write_atomically(target, "a new policy\n")
    assert target.read_text() == "the committed policy\n"
    assert _leftovers(tmp_path) == []


def test_an_interrupted_write_is_re_raised_and_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "policy.yaml"
    target.write_text("old\n")

    def interrupt(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert _leftovers(tmp_path) == []


def test_writing_into_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrustctlError, match=r"missing/policy.yaml: cannot write"):
        write_atomically(tmp_path / "missing" / "policy.yaml", "x\n")


# --- reading a policy back -------------------------------------------------------------------


def _write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(dump_yaml(document))
    return path


def _document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "trustctl/v1",
        "kind": "AutonomyPolicy",
        "metadata": {"as_of": "2026-01-01T00:00:00Z"},
        "actions": [{"action_class": POD, "level": "suggest"}],
    }
    document.update(changes)
    return document


def test_load_policy_accepts_a_minimal_document(tmp_path: Path) -> None:
    loaded = load_policy(_write(tmp_path, _document()))
    assert loaded.metadata.group_by == ("action_class",)
    assert loaded.prior_states()[(POD,)].level.value == "suggest"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (_document(kind="TrustRules"), "policy.yaml: kind: expected 'AutonomyPolicy', found"),
        (_document(apiVersion="v2"), "policy.yaml: apiVersion: Input should be 'trustctl/v1'"),
        (
            _document(actions=[{"action_class": POD}]),
            "policy.yaml: actions.0.level: Field required",
        ),
        (
            _document(actions=[{"level": "full"}]),
            "policy.yaml: actions.0.action_class: Field required",
        ),
        (
            _document(actions=[{"action_class": POD, "level": "max"}]),
            "policy.yaml: actions.0.level: Input should be",
        ),
        (_document(metadata={}), "policy.yaml: metadata.as_of: Field required"),
        (_document(extra=1), "policy.yaml: extra: Extra inputs are not permitted"),
        (
            _document(
                actions=[
                    {"action_class": POD, "level": "full"},
                    {"action_class": POD, "level": "observe"},
                ]
            ),
            "policy.yaml: actions.1: the group of actions.0 (k8s.restart_pod) appears twice",
        ),
        (["a", "list"], "policy.yaml: a policy file must be a mapping"),
    ],
)
def test_load_policy_rejects_bad_documents_naming_the_key(
    tmp_path: Path, document: Any, expected: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(_write(tmp_path, document))
    assert any(
        line.endswith(expected) or expected in line for line in str(caught.value).splitlines()
    )
    assert str(caught.value).startswith(str(tmp_path / "policy.yaml"))


def test_load_policy_rejects_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("actions: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(tmp_path / "bad.yaml")


def test_previous_with_other_group_by_is_refused(tmp_path: Path) -> None:
    previous = previous_policy(
        tmp_path,
        [{"action_class": POD, "system_tier": 1, "level": "suggest"}],
        as_of=day(0),
        group_by=("action_class", "system_tier"),
    )
    with pytest.raises(PolicyError, match="groups by"):
        run(tmp_path, LogBuilder().reviewed(1, POD, 3), previous=previous)


# --- diff --------------------------------------------------------------------------------------


def test_diff_policies_kinds_and_reasons(tmp_path: Path) -> None:
    old = previous_policy(
        tmp_path,
        [
            {"action_class": "a.up", "level": "suggest", "reason": "was"},
            {"action_class": "b.down", "level": "full", "reason": "was"},
            {"action_class": "c.same", "level": "suggest"},
            {"action_class": "d.gone", "level": "observe", "reason": "old reason"},
        ],
        as_of=day(0),
        name="old.yaml",
    )
    new = previous_policy(
        tmp_path,
        [
            {"action_class": "a.up", "level": "auto_notify", "reason": "promoted because"},
            {"action_class": "b.down", "level": "suggest", "reason": "demoted because"},
            {"action_class": "c.same", "level": "suggest"},
            {"action_class": "e.new", "level": "suggest", "reason": "first seen"},
        ],
        as_of=day(7),
        name="new.yaml",
    )
    changes = diff_policies(old, new)
    got = [(c.label, c.kind, c.old, c.new, c.reason) for c in changes]
    assert got == [
        ("a.up", "promoted", "suggest", "auto_notify", "promoted because"),
        ("b.down", "demoted", "full", "suggest", "demoted because"),
        ("d.gone", "removed", "observe", None, "old reason"),
        ("e.new", "added", None, "suggest", "first seen"),
    ]
    assert diff_policies(new, new) == []


def test_diff_labels_tiered_groups(tmp_path: Path) -> None:
    group_by = ("action_class", "system_tier")
    old = previous_policy(
        tmp_path,
        [{"action_class": POD, "system_tier": 2, "level": "suggest"}],
        as_of=day(0),
        group_by=group_by,
        name="old.yaml",
    )
    new = previous_policy(
        tmp_path,
        [
            {"action_class": POD, "system_tier": 2, "level": "auto_notify"},
            {"action_class": POD, "system_tier": None, "level": "suggest"},
        ],
        as_of=day(1),
        group_by=group_by,
        name="new.yaml",
    )
    assert [(c.label, c.kind) for c in diff_policies(old, new)] == [
        (POD, "added"),
        (f"{POD} system_tier=2", "promoted"),
    ]


def test_diff_of_two_generated_policies(tmp_path: Path) -> None:
    log = LogBuilder().reviewed(1, POD, 30)
    first = run(tmp_path, log, as_of=day(2))
    log.reviewed(3, POD, 40)
    second = run(tmp_path, log, previous=save(tmp_path, first), as_of=day(10))
    changes = diff_policies(save(tmp_path, first, "a.yaml"), save(tmp_path, second, "b.yaml"))
    assert [(c.label, c.kind, c.new) for c in changes] == [(POD, "promoted", "auto_notify")]
    assert changes[0].reason is not None
    assert changes[0].reason.startswith("promoted suggest → auto_notify: 70 of 70")


# --- explain ---------------------------------------------------------------------------------


def test_explain_lists_recent_disagreements_and_failures(tmp_path: Path) -> None:
    log = (
        LogBuilder()
        .add(1, POD, 3, human="rejected", rationale="wrong pod")
        .add(2, POD, human="overridden", outcome="failure", rationale="made it worse")
        .add(3, POD, human="timeout")
        .add(4, POD, 2, human="approved", outcome="failure", severity="major")
        .add(5, "k8s.scale", human="rejected")
    )
    evaluation = run(tmp_path, log, as_of=day(6))
    (item,) = explain(evaluation, POD, dt.timedelta(days=180), recent=3)
    assert item.verdict is verdict(evaluation, POD)
    assert [i.decision_id for i in item.disagreements] == ["d000003", "d000002", "d000001"]
    assert item.disagreements[0].rationale == "made it worse"
    assert [(i.decision_id, i.severity) for i in item.failures] == [
        ("d000006", "major"),
        ("d000005", "major"),
        ("d000003", ""),
    ]
    with pytest.raises(TrustctlError, match=r"known classes: k8s.restart_pod, k8s.scale"):
        explain(evaluation, "db.nothing", dt.timedelta(days=180))


def test_bounds_are_rounded_outwards_so_a_re_read_policy_never_shows_a_false_pass(
    tmp_path: Path,
) -> None:
    # 1315 of 1370: the exact lower bound is 0.94999963..., just short of 0.95. Rounded to
    # the nearest it would read 0.95 beside threshold 0.95; rounded down it reads 0.949999.
    from scipy.stats import beta

    exact = float(beta.ppf(0.05, 1315, 56))
    assert 0.9499995 < exact < 0.95
    log = LogBuilder().reviewed(1, "k8s.restart_pod", 1315, 55, spacing=1)
    evaluation = run(tmp_path, log, as_of=day(3))
    shown = entry(evaluation, "k8s.restart_pod")["evidence"]["agreement"]
    assert shown["lower"] == 0.949999
    assert shown["upper"] >= float(beta.ppf(0.95, 1316, 55))
    assert verdict(evaluation, "k8s.restart_pod").level.value == "suggest"
