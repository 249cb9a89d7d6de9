"""The weekly job's update: what changed since the committed policy, and its pull-request body."""

from __future__ import annotations

import datetime as dt
import math
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from trustctl.diff import LevelChange, ProposalChange, diff_policies, label, proposal_changes
from trustctl.explain import Explanation
from trustctl.policy_model import Action, InputFile, Policy
from trustctl.rules_diff import changed_keys, differ, made_with, shown

__all__ = ["CLOSEST", "ProposalChange", "Update", "hand_edits", "pr_body", "summary", "title"]

CLOSEST = 3
"""How many groups closest to promotion the body lists."""

_KEYS = 10
"""How many changed rules keys the body names."""

_ARROW = {"promoted": "↑", "demoted": "↓", "added": "+", "removed": "−"}


@dataclass(frozen=True)
class Update:
    """One run of the weekly job: the committed policy, the new one and what differs."""

    old: Policy | None
    """The committed policy; ``None`` on the first run."""
    new: Policy
    logs: tuple[str, ...]
    """The log paths as given (``-`` for standard input), for the commands that reproduce
    each verdict."""
    policy_path: str
    rules_path: str | None
    explanations: tuple[Explanation, ...] = ()
    """For each demoted class: the disagreements and failures behind it."""
    stdin_format: str | None = None
    """The ``--input-format`` of ``-`` when the logs came on standard input."""

    @property
    def changes(self) -> list[LevelChange]:
        """Every group whose level differs (all groups are added on the first run)."""
        if self.old is None:
            return diff_policies(_empty(self.new), self.new)
        return diff_policies(self.old, self.new)

    @property
    def proposals(self) -> list[ProposalChange]:
        """Every group whose proposal (a promotion waiting for sign-off) began or lapsed."""
        return proposal_changes(self.old, self.new)

    @property
    def rules_changed(self) -> bool:
        """Whether the rules differ from those the committed policy records, as ``check``
        compares them: by the rules in effect (a file equal to the built-in rules is the same
        rules) whenever those can be known, else by the files."""
        if self.old is None:
            return False
        before, after = self.old.metadata.rules, self.new.metadata.rules
        if before is None or after is None:
            return before != after
        return differ(before, after)

    @property
    def changed(self) -> bool:
        """Whether the policy must be rewritten (and a pull request opened): a level, a
        proposal or the rules changed (a policy left with other rules would fail ``check``)."""
        return bool(self.changes or self.proposals or self.rules_changed)


def _empty(policy: Policy) -> Policy:
    return policy.model_copy(update={"actions": ()})


def hand_edits(policy: Policy) -> list[str]:
    """Groups whose ``level`` contradicts their own ``previous_level`` and ``change``.

    trustctl writes the three together; a ``level`` edited alone breaks them. (An edit of
    all three is the ledger's to catch.)
    """
    found = []
    for key, action in policy.by_key().items():
        before, change = action.previous_level, action.change
        if before is None or change is None or change == "new":
            continue
        step = (action.level.rank > before.rank) - (action.level.rank < before.rank)
        expected = {"promoted": 1, "demoted": -1, "unchanged": 0, "proposed": 0}[change]
        if step != expected:
            found.append(
                f"{label(policy.metadata.group_by, key)}: level {action.level.value}, but the "
                f"policy says {change} from {before.value} — edited by hand?"
            )
    return found


def title(update: Update) -> str:
    """The pull request's title: how many groups moved, and which way."""
    changes, proposals = update.changes, update.proposals
    if not changes and not proposals:
        return (
            "trustctl: "
            + ("rules changed; " if update.rules_changed else "")
            + ("no level changes")
        )
    titles = []
    if changes:
        titles.append(f"{len(changes)} level change(s) ({_counted(c.kind for c in changes)})")
    if proposals:
        titles.append(f"{len(proposals)} proposal(s) ({_counted(p.kind for p in proposals)})")
    return "trustctl: " + "; ".join(titles)


def _counted(kinds: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{count} {kind}" for kind, count in counts.items())


def pr_body(update: Update) -> str:
    """The pull request's body in markdown: short lines, no raw YAML."""
    lines = [f"## {title(update)}", ""]
    lines += _window(update)
    lines += _changes(update)
    lines += _sign_offs(update)
    lines += _closest(update.new)
    lines += _reproduce(update)
    return "\n".join(lines).rstrip("\n") + "\n"


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _window(update: Update) -> list[str]:
    new, old = update.new.metadata, update.old.metadata if update.old else None
    before = _stamp(old.as_of) if old else "(no policy yet)"
    lines = ["### Evidence", "", f"- Window end (as_of): {before} → {_stamp(new.as_of)}"]
    added, changed = _new_inputs(update)
    if added:
        lines.append("- Inputs added since the committed policy:")
        lines += [f"  - `{f.path}` ({f.rows} rows, {f.decisions} decisions)" for f in added]
    else:
        lines.append("- Inputs added since the committed policy: none")
    if changed:
        lines.append("- Inputs whose bytes changed since the committed policy:")
        lines += [f"  - `{f.path}` ({f.rows} rows, {f.decisions} decisions)" for f in changed]
    lines += _rules_change(update)
    return [*lines, ""]


def _new_inputs(update: Update) -> tuple[list[InputFile], list[InputFile]]:
    """The inputs whose bytes the committed policy did not read: under a new name (added),
    or under a name it read other bytes from (``<stdin>``, a log that grew). An input is its
    bytes, as the ledger counts it: the same bytes under another name are nothing new."""
    before = update.old.metadata.inputs if update.old else ()
    read = {f.sha256 for f in before}
    names = {f.path for f in before}
    fresh = [f for f in update.new.metadata.inputs if f.sha256 not in read]
    return [f for f in fresh if f.path not in names], [f for f in fresh if f.path in names]


def _rules_change(update: Update) -> list[str]:
    new, old = update.new.metadata, update.old.metadata if update.old else None
    was = old.rules.sha256 if old and old.rules else None
    now = new.rules.sha256 if new.rules else None
    if old is None or (was == now and not update.rules_changed):
        return [f"- Rules: unchanged ({_short(now)})"]
    if not update.rules_changed:
        return [f"- Rules: the same rules in effect ({_short(was)} → {_short(now)})"]
    lines = [f"- Rules changed: {_short(was)} → {_short(now)}"]
    before = None if old.rules is None else made_with(old.rules)
    after = None if new.rules is None else made_with(new.rules)
    if before is not None and after is not None:
        changed = changed_keys(before, after)
        lines += [f"  - `{key}`: {shown(a)} → {shown(b)}" for key, a, b in changed[:_KEYS]]
        if len(changed) > _KEYS:
            lines.append(f"  - … and {len(changed) - _KEYS} more key(s)")
        return lines
    gone = old.rules.path if before is None and old.rules else new.rules.path if new.rules else None
    lines.append(
        f"  - the keys cannot be named: `{gone}` no longer holds the rules recorded"
        if gone
        else "  - the keys cannot be named"
    )
    if old.bounds != new.bounds and old.bounds and new.bounds:
        for name in ("method", "confidence", "prior"):
            before_value, after_value = getattr(old.bounds, name), getattr(new.bounds, name)
            if before_value != after_value:
                lines.append(f"  - `bounds.{name}`: {before_value} → {after_value}")
    if old.group_by != new.group_by:
        lines.append(f"  - `group_by`: {list(old.group_by)} → {list(new.group_by)}")
    return lines


def _short(digest: str | None) -> str:
    return "the built-in rules" if digest is None else f"sha256 {digest[:12]}"


def _changes(update: Update) -> list[str]:
    changes = update.changes
    if not changes:
        return ["### Level changes", "", "None.", ""]
    actions = update.new.by_key()
    lines = ["### Level changes", ""]
    for change in changes:
        was, now = change.old or "–", change.new or "–"
        lines.append(f"- **{change.label}**: {was} {_ARROW[change.kind]} {now} ({change.kind})")
        if change.reason:
            lines.append(f"  - why: {change.reason}")
        action = actions.get(change.key)
        if action is not None and change.kind == "demoted":
            lines += [f"  - {line}" for line in _record(action)]
        elif action is not None:
            lines += [f"  - {line}" for line in _numbers(action)]
        if change.kind == "demoted":
            lines += _behind(change.label, update.explanations)
    return [*lines, ""]


def _sign_offs(update: Update) -> list[str]:
    """Promotions that began or stopped waiting for a person (``approval.required_for``)."""
    proposals = update.proposals
    if not proposals:
        return []
    lines = ["### Waiting for sign-off", ""]
    for proposal in proposals:
        if proposal.kind == "proposed":
            lines.append(
                f"- **{proposal.label}**: {proposal.level} ⇡ {proposal.proposed} (proposed: "
                f"`trustctl approve` or `trustctl reject` it)"
            )
        else:
            lines.append(
                f"- **{proposal.label}**: {proposal.proposed} no longer proposed; stays at "
                f"{proposal.level} (lapsed)"
            )
        if proposal.reason:
            lines.append(f"  - why: {proposal.reason}")
    return [*lines, ""]


def _numbers(action: Action) -> list[str]:
    evidence = action.evidence
    if evidence is None:
        return []
    agreement, success = evidence.agreement, evidence.success
    return [
        f"agreement: {agreement.agreed}/{agreement.reviewed} approved, "
        f"lower bound {_down(agreement.lower)}, upper {_up(agreement.upper)}",
        f"success: {success.succeeded}/{success.verified} verified, "
        f"lower bound {_down(success.lower)}; {success.unverified} unverified",
        f"critical failures in the window: {evidence.critical_failures}",
    ]


def _record(action: Action) -> list[str]:
    """The record the demotion checks judged: at the old level since its last change."""
    evidence = action.evidence
    if evidence is None:
        return []
    record = evidence.for_demotion
    return [
        f"record at the old level (from {record.counted_from:%Y-%m-%d}): "
        f"{record.agreed}/{record.reviewed} approved, upper bound {_up(record.agreement_upper)}; "
        f"{record.succeeded}/{record.verified} succeeded, upper bound {_up(record.success_upper)}",
        f"critical failures in the window: {evidence.critical_failures}",
    ]


def _down(bound: float) -> str:
    """A lower bound to 3 places, rounded down as the reasons round it."""
    return f"{math.floor(bound * 1000) / 1000:.3f}"


def _up(bound: float) -> str:
    """An upper bound to 3 places, rounded up."""
    return f"{math.ceil(bound * 1000) / 1000:.3f}"


def _behind(group: str, explanations: Sequence[Explanation]) -> list[str]:
    """The incidents, reviewers and rationales of a demoted class's latest bad decisions."""
    lines = []
    for item in explanations:
        if item.verdict.state.key[0] != group.split(" ")[0]:
            continue
        seen = set()
        for incident in (*item.failures, *item.disagreements):
            if incident.decision_id in seen:
                continue
            seen.add(incident.decision_id)
            what = incident.outcome if incident.outcome == "failure" else incident.human_decision
            parts = [f"`{incident.decision_id}` {incident.timestamp[:10]} {what}"]
            if incident.severity:
                parts.append(f"severity {incident.severity}")
            if incident.incident_id:
                parts.append(f"incident {incident.incident_id}")
            if incident.reviewer:
                parts.append(f"reviewer {incident.reviewer}")
            if incident.rationale:
                parts.append(f"“{incident.rationale}”")
            lines.append("  - " + ", ".join(parts))
    return lines[:5]


def _closest(policy: Policy) -> list[str]:
    near = []
    for key, action in policy.by_key().items():
        step = action.next
        if step is not None and step.level is not None and step.clean_decisions_needed:
            name = label(policy.metadata.group_by, key)
            near.append((step.clean_decisions_needed, name, action.level.value, step.level.value))
    lines = ["### Closest to promotion", ""]
    if not near:
        return [*lines, "None can be promoted on more clean decisions alone.", ""]
    for needed, name, level, target in sorted(near)[:CLOSEST]:
        lines.append(f"- **{name}**: {level} → {target} after {needed} more clean decision(s)")
    return [*lines, ""]


def _reproduce(update: Update) -> list[str]:
    # Without the logs (``diff``), logs/ stands for the logs the new policy was made from.
    logs = " ".join(shlex.quote(path) for path in update.logs) or "logs/"
    rules = f" --rules {shlex.quote(update.rules_path)}" if update.rules_path else ""
    # Standard input again: "…" stands for the same bytes (their sha256 is in the policy).
    piped = "" if update.stdin_format is None else "… | "
    if update.stdin_format is not None:
        rules += f" --input-format {update.stdin_format}"
    as_of = _stamp(update.new.metadata.as_of)
    policy = shlex.quote(update.policy_path)
    lines = [
        "### Reproduce",
        "",
        "```console",
        f"$ git show HEAD:{policy} > before.yaml",
        f"$ {piped}trustctl update {logs} --policy before.yaml{rules}",
    ]
    changed = [str(c.key[0]) for c in update.changes] + [str(p.key[0]) for p in update.proposals]
    for name in [shlex.quote(name) for name in dict.fromkeys(changed)][:5]:
        lines.append(
            f"$ {piped}trustctl explain {name} {logs} --previous before.yaml{rules} --as-of {as_of}"
        )
    lines.append("```")
    if piped:
        lines += ["", "(`…`: the same bytes on standard input, `<stdin>` in the policy's inputs.)"]
    return lines


def summary(update: Update) -> dict[str, Any]:
    """The run as data, for ``--summary-json`` (a CI step's outputs)."""
    return {
        "changed": update.changed,
        "title": title(update),
        "as_of": {
            "before": _stamp(update.old.metadata.as_of) if update.old else None,
            "after": _stamp(update.new.metadata.as_of),
        },
        "changes": [
            {"group": c.label, "kind": c.kind, "from": c.old, "to": c.new, "reason": c.reason}
            for c in update.changes
        ],
        "proposals": [
            {"group": p.label, "kind": p.kind, "level": p.level, "proposed": p.proposed}
            for p in update.proposals
        ],
    }
