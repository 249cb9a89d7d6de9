"""The trustctl-validate pre-commit hook, run the way users run it: pre-commit try-repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trustctl.precommit import main

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_the_hook_checks_rules_and_policies_by_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "compose.yaml"
    other.write_text("services: {web: {image: nginx}}\nkind: [broken\n", encoding="utf-8")
    bad = tmp_path / "rules.yaml"
    text = (ROOT / "policies" / "rules.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("initial_level: suggest", "initial_level: sugest"), "utf-8")
    assert main([str(ROOT / "policies" / "rules.yaml"), str(other)]) == 0
    assert main([str(bad), str(ROOT / "tests" / "golden" / "policy.yaml")]) == 1
    assert capsys.readouterr().err.startswith(f"error: {bad}: initial_level:")


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_hook(tmp_path: Path) -> None:
    repo = tmp_path / "ops"
    (repo / "policies").mkdir(parents=True)
    shutil.copy(ROOT / "policies" / "rules.yaml", repo / "policies" / "rules.yaml")
    shutil.copy(ROOT / "tests" / "golden" / "policy.yaml", repo / "policy.yaml")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@invalid",
    }  # fmt: skip

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    def hook() -> subprocess.CompletedProcess[str]:
        command = [BIN / "pre-commit", "try-repo", ROOT, "trustctl-validate", "--all-files"]
        return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)

    git("init", "-q")
    git("add", "-A")
    passed = hook()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "trustctl validate" in passed.stdout and "Passed" in passed.stdout
    policy = (repo / "policy.yaml").read_text(encoding="utf-8")
    (repo / "policy.yaml").write_text(policy.replace("level: full", "level: ful", 1), "utf-8")
    git("add", "-A")
    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout and "error: policy.yaml:" in failed.stdout
