"""The weekly job as shipped: the workflow, the composite action, the GitLab example, and
its shell step run over three simulated weeks in a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCRIPT = ROOT / "scripts" / "trustctl-weekly.sh"
BODY_OUT = Path(__file__).resolve().parent / "golden" / "weekly-body.md"


def _check_jsonschema(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [BIN / "check-jsonschema", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-workflows", "examples/github-actions/trustctl-weekly.yml"),
        ("vendor.github-actions", "action.yml"),
        ("vendor.gitlab-ci", "examples/gitlab-ci.yml"),
    ],
)
def test_the_ci_files_pass_their_platforms_schemas_offline(schema: str, path: str) -> None:
    checked = _check_jsonschema("--builtin-schema", schema, ROOT / path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_workflow_uses_the_action_and_opens_a_pull_request_only_on_a_change() -> None:
    workflow = (ROOT / "examples/github-actions/trustctl-weekly.yml").read_text(encoding="utf-8")
    assert "workflow_dispatch:" in workflow and "cron:" in workflow
    assert "if: steps.trustctl.outputs.changed == 'true'" in workflow
    assert "body-path: ${{ steps.trustctl.outputs.body-file }}" in workflow
    action = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert 'run: bash "${{ github.action_path }}/scripts/trustctl-weekly.sh"' in action


class Repo:
    """A repository that holds the logs and the policy, as the job sees it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.out = root.parent / "runner"
        self.out.mkdir()
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@invalid", *args],
            cwd=self.root, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    def job(self) -> tuple[int, dict[str, str], str]:
        """Run the shell step as the action does: exit code, GITHUB_OUTPUT, the step summary."""
        for name in ("output", "summary"):
            (self.out / name).write_text("", encoding="utf-8")
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "TRUSTCTL_LOGS": "logs/",
            "TRUSTCTL_POLICY": "policy.yaml",
            "RUNNER_TEMP": str(self.out),
            "GITHUB_OUTPUT": str(self.out / "output"),
            "GITHUB_STEP_SUMMARY": str(self.out / "summary"),
        }
        done = subprocess.run(
            ["bash", SCRIPT], cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        outputs = dict(
            line.split("=", 1) for line in (self.out / "output").read_text().splitlines()
        )
        return done.returncode, outputs, (self.out / "summary").read_text(encoding="utf-8")

    def merge(self, message: str) -> None:
        """What merging the pull request does: the rewritten policy is committed."""
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)


@pytest.mark.slow
def test_three_weeks_of_the_job(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "ops")
    logs = repo.root / "logs"
    logs.mkdir()
    shutil.copy(ROOT / "sample_data" / "decisions.csv", logs / "w47.csv")

    # Week 1: no policy yet: it is written, every group added.
    status, outputs, _ = repo.job()
    assert (status, outputs["changed"]) == (0, "true")
    assert outputs["title"] == "trustctl: 12 level change(s) (12 added)"
    repo.merge("week 47")

    # Week 2: a new week of logs moves two levels: a pull request with the body.
    _sample(logs, "w48", "2026-11-20")
    status, outputs, step_summary = repo.job()
    assert (status, outputs["changed"]) == (0, "true")
    assert outputs["title"] == "trustctl: 2 level change(s) (2 promoted)"
    body = Path(outputs["body-file"]).read_text(encoding="utf-8")
    assert step_summary == body
    assert "- Window end (as_of): 2026-11-19T21:13:30Z → 2026-11-26T22:19:23Z" in body
    assert "  - `logs/w48.csv` (366 rows, 315 decisions)" in body
    assert "- **dns.update**: suggest ↑ auto_notify (promoted)" in body
    assert "- **k8s.cordon_node**: suggest ↑ auto_notify (promoted)" in body
    assert "$ trustctl explain dns.update logs --previous before.yaml" in body
    assert repo.git("status", "--porcelain").split() == [
        "M",
        "policy.ledger.jsonl",
        "M",
        "policy.yaml",
        "??",
        "logs/w48.csv",
    ]
    # The README's "Weekly job" section shows this body; the golden file keeps them honest.
    assert body == BODY_OUT.read_text(encoding="utf-8")
    repo.merge("week 48")

    # A rerun with nothing new: no change, no pull request, no file touched.
    status, outputs, _ = repo.job()
    assert (status, outputs["changed"]) == (0, "false")
    assert repo.git("status", "--porcelain") == ""

    # Week 3: someone raised a level by hand: the job fails and writes nothing.
    _sample(logs, "w49", "2026-11-27")
    policy = repo.root / "policy.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(
        text.replace("cert.renew\n  level: auto_notify", "cert.renew\n  level: full"), "utf-8"
    )
    status, outputs, _ = repo.job()
    assert status == 2 and outputs == {}
    assert repo.git("status", "--porcelain").split() == ["M", "policy.yaml", "??", "logs/w49.csv"]


def _sample(logs: Path, week: str, start: str) -> None:
    folder = logs.parent / f".{week}"
    subprocess.run(
        [BIN / "trustctl", "sample", "-o", folder, "--start", start, "--id-prefix", f"{week}-",
         "--seed", week[1:]],
        check=True, capture_output=True,
    )  # fmt: skip
    shutil.move(folder / "decisions.csv", logs / f"{week}.csv")
    folder.rmdir()
