"""Habits of a CLI that fits where SREs work: "did you mean", swapped arguments, completion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clirun import failure, ok, run
from trustctl.rules import TrustRules
from trustctl.suggest import close_to, did_you_mean, model_keys

RULES = Path("policies/rules.yaml")


def test_close_names_come_closest_first_and_far_ones_not_at_all() -> None:
    classes = ["k8s.scale", "k8s.rollback", "cert.renew"]
    assert close_to("k8s.scal", classes) == ["k8s.scale"]
    assert did_you_mean("k8s.rolback", classes) == "did you mean 'k8s.rollback'?"
    assert did_you_mean("payments", classes) == ""


def test_keys_are_found_through_nested_models_lists_and_maps() -> None:
    assert "confidence" in model_keys(TrustRules, ["bounds"])
    assert "promote" in model_keys(TrustRules, [])
    assert "threshold" in model_keys(TrustRules, ["promote", "auto_notify", "agreement"])
    assert "pattern" in model_keys(TrustRules, ["risk_tiers", 0])


def test_a_mistyped_class_gets_did_you_mean() -> None:
    stderr = failure(run("explain", "k8s.scal", "sample_data/"))
    assert stderr == (
        "error: no decisions for action class 'k8s.scal' in the window; did you mean 'k8s.scale'?\n"
    )


def test_a_class_like_no_other_gets_the_list() -> None:
    assert "known classes: cache.flush, cert.renew," in failure(run("explain", "x", "sample_data/"))


@pytest.mark.parametrize(
    ("typo", "key", "expected"),
    [
        ("initial_level: suggest", "initial_levle: suggest", "initial_levle"),
        ("  confidence: 0.95", "  confidance: 0.95", "bounds.confidance"),
    ],
)
def test_a_mistyped_rule_key_gets_did_you_mean(
    tmp_path: Path, typo: str, key: str, expected: str
) -> None:
    rules = tmp_path / "rules.yaml"
    text = RULES.read_text(encoding="utf-8")
    assert typo in text
    rules.write_text(text.replace(typo, key, 1), encoding="utf-8")
    stderr = failure(run("validate", "--rules", rules))
    right = typo.strip().split(":")[0]
    assert f"{expected}: Extra inputs are not permitted; did you mean {right!r}?" in stderr


def test_swapped_explain_arguments_are_named() -> None:
    stderr = failure(run("explain", "sample_data/", "k8s.scale"))
    assert stderr == (
        "error: sample_data/ is a path and k8s.scale is not: arguments swapped? "
        "The action class comes first: trustctl explain k8s.scale sample_data/\n"
    )


def test_a_missing_log_is_still_just_missing() -> None:
    stderr = failure(run("explain", "k8s.scale", "nowhere/"))
    assert "nowhere" in stderr and "swapped" not in stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_is_on(shell: str) -> None:
    script = ok("--show-completion", shell).stdout
    assert "_TRUSTCTL_COMPLETE" in script
    assert "--install-completion" in ok("--help").stdout


def test_diff_exit_code_is_1_only_when_a_level_differs(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    ok("generate", "sample_data/", "--as-of", "2026-09-30", "-o", old)
    ok("generate", "sample_data/", "-o", new)
    assert ok("diff", new, new, "--exit-code").exit_code == 0
    assert ok("diff", old, new).exit_code == 0
    differs = run("diff", old, new, "--exit-code", "--format", "json")
    assert differs.exit_code == 1, differs.output
    assert differs.stdout.startswith("[") or differs.stdout.startswith("{")


@pytest.mark.parametrize("env", [{}, {"NO_COLOR": "1"}, {"NO_COLOR": "1", "TERM": "xterm"}])
def test_no_colour_in_a_pipe_or_with_no_color(env: dict[str, str]) -> None:
    import os
    import subprocess
    import sys

    trustctl = Path(sys.executable).with_name("trustctl")
    environment = {**os.environ, **env}
    environment.pop("FORCE_COLOR", None)
    for args in (["generate", "sample_data/", "--format", "table"], ["explain", "k8s.scal", "x"]):
        done = subprocess.run(
            [trustctl, *args], capture_output=True, text=True, env=environment, check=False
        )
        assert "\x1b[" not in done.stdout + done.stderr


def test_a_terminal_gets_colour_promotions_green_demotions_red_proposals_yellow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")  # what rich reads as "stdout is a terminal"
    monkeypatch.setenv("COLUMNS", "160")
    table = ok("generate", "sample_data/", "--format", "table").stdout
    assert "\x1b[32m↑auto_notify" in table  # k8s.scale
    assert "\x1b[31m↓suggest" in table  # cache.flush, deploy.rollback
    assert "\x1b[33m⇡auto_notify" in table  # k8s.restart_pod waits for a sign-off
    wide = ok("generate", "sample_data/", "--format", "table", "--wide").stdout
    assert "\x1b[32m↑ promoted" in wide and "\x1b[31m↓ demoted" in wide
    for other in ("markdown", "yaml", "json"):
        shown = ok("generate", "sample_data/", "--format", other).stdout
        assert "\x1b[" not in shown, f"--format {other} is for files and pipes: no colour"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = ok("generate", "sample_data/", "--format", "table").stdout
    assert not re.search(r"\x1b\[3\dm", plain), "NO_COLOR on a terminal: bold stays, no colour"
