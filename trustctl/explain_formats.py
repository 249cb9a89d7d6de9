"""``trustctl explain`` as text (tables, or key: value lines below 100 columns), markdown or JSON.

Every string that can hold log or rules data goes to rich as a ``Text``, never as a ``str``
(see ``render``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trustctl import explain_json, numbers, times
from trustctl.diff import label
from trustctl.evidence import Evidence
from trustctl.explain import Explanation, Incident
from trustctl.ledger import Entry
from trustctl.levels import Level
from trustctl.markdown_cells import cell, code
from trustctl.pace import eta_text
from trustctl.policy_model import Policy
from trustctl.reasons import check_text, evidence_days, needs_text, reason_text
from trustctl.render import check_word
from trustctl.review_economics import trade_off_text
from trustctl.verdict import Verdict

__all__ = ["FORMATS", "TABLES_FROM", "Explained", "Group"]

TABLES_FROM = 100
"""Below this many columns, text shows key: value lines instead of tables."""

_ROLLUP_TOP = 5
"""How many values of each roll-up the text and markdown name."""


@dataclass(frozen=True)
class Group:
    """One group's explanation and its ledger entries (oldest first)."""

    item: Explanation
    history: tuple[Entry, ...]


@dataclass(frozen=True)
class Explained:
    """What ``explain`` shows: every group of the class, and the policy they belong to."""

    groups: tuple[Group, ...]
    policy: Policy
    wide: bool = False
    """Tables whatever the width (``--wide``)."""


def _lines(console: Console, texts: Sequence[str]) -> None:
    for text in texts:
        console.print(Text(text))


def _clock(evidence: Evidence, level: Level) -> str:
    """The first whole UTC day an evidence clock counts, and what started it."""
    return f"from {evidence_days(evidence, level)}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.6f}"


def _facts(v: Verdict) -> list[str]:
    """The verdict's evidence, one line each."""
    state, e = v.state, v.state.evidence
    lines = [
        f"reason: {reason_text(v.reason)}",
        f"level before this run: {v.previous_level.value} (from the {state.current_source}); "
        f"{v.level.value} since "
        f"{times.stamp(v.since) if v.since else 'no recorded level change'}",
        f"evidence for promotion: {e.decisions} decisions counted {_clock(e, state.current)}",
        f"  agreement: {e.agreed} approved of {e.reviewed} reviewed, {e.timeouts} timeouts "
        f"(not counted); rate {_fmt(v.agreement.rate)}, mean {v.agreement.mean:.6f}, "
        f"lower {numbers.bound_text(v.agreement.lower, 6, lower=True)}, "
        f"upper {numbers.bound_text(v.agreement.upper, 6, lower=False)}",
    ]
    if v.threshold is not None and v.p_agreement is not None:
        lines.append(
            f"  P(agreement ≥ {v.threshold}) = {v.p_agreement:.3f} under the Beta posterior"
        )
    lines += [
        f"  success: {e.succeeded} succeeded of {e.verified} verified, {e.unverified} unverified "
        f"of {e.executed} executed; rate {_fmt(v.success.rate)}, "
        f"lower {numbers.bound_text(v.success.lower, 6, lower=True)}, "
        f"upper {numbers.bound_text(v.success.upper, 6, lower=False)}",
        "  success is measured only on actions humans let through (rejected proposals have "
        "no outcome)",
        f"  critical failures in the window: {state.critical_failures}",
    ]
    record = state.demotion_evidence
    lines.append(
        f"record judged by the demotion checks: {record.decisions} decisions counted "
        f"{_clock(record, state.current)}: {record.agreed} approved of {record.reviewed} reviewed, "
        f"{record.succeeded} succeeded of {record.verified} verified"
    )
    recent = state.recent_evidence
    if recent is not None:
        lines.append(
            f"  and its recent part: {recent.decisions} decisions counted "
            f"{_clock(recent, state.current)}: {recent.agreed} approved of {recent.reviewed} "
            f"reviewed, {recent.succeeded} succeeded of {recent.verified} verified"
        )
    return lines


def _rules(v: Verdict) -> Iterator[tuple[str, str, str]]:
    """Every check of a verdict as (rule, result, numbers), then its cap and pin."""
    for check in v.checks:
        yield check.rule, check_word(check), check_text(check)
    yield (
        "caps",
        "",
        f"cap: {v.cap.level.value}" + (f" ({v.cap.limited_by})" if v.cap.limited_by else ""),
    )
    if v.pin is not None:
        pin = v.pin.pin
        yield (
            "pins",
            "active" if v.pin.active else "expired",
            f"{pin.level.value} by {pin.owner}: {pin.reason}",
        )


def _next(item: Explanation) -> list[str]:
    """What the next level needs; the binding need timed at the recent pace."""
    v = item.verdict
    lines = [f"next: {v.next.level.value if v.next.level else '–'}: {needs_text(v.next)}"]
    if item.eta is not None:
        lines.append(f"at the recent pace: {eta_text(item.eta)}")
    if item.trade_off is not None:
        lines.append(f"economics: {trade_off_text(item.trade_off)}")
    return lines


def _counted(incident: Incident) -> str:
    return "" if incident.counted else "; NOT COUNTED (before the evidence clock)"


def _incident_parts(i: Incident) -> list[str]:
    parts = [i.human_decision or "", f"outcome {i.outcome}" if i.outcome else ""]
    parts += [f"severity {i.severity}" if i.severity else "", i.reviewer]
    return [part for part in parts if part]


def _incident_lines(title: str, incidents: Sequence[Incident]) -> list[str]:
    lines = [f"{title}:"]
    for i in incidents:
        lines.append(
            f"  {i.decision_id} {i.timestamp}: {', '.join(_incident_parts(i))}{_counted(i)}"
        )
        why = i.rationale + (f" ({i.incident_id})" if i.incident_id else "")
        if why:
            lines.append(f"    {why}")
    return lines


def _incident_table(title: str, incidents: Sequence[Incident]) -> Table:
    """Incidents as a table; a decision the current evidence does not count has a ``*``."""
    uncounted = any(not i.counted for i in incidents)
    caption = "* not counted: before the evidence clock" if uncounted else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for heading in ("decision", "time", "human", "outcome", "severity", "reviewer", "rationale"):
        table.add_column(heading, no_wrap=heading in ("decision", "time"), overflow="fold")
    for i in incidents:
        why = i.rationale + (f" ({i.incident_id})" if i.incident_id else "")
        cells = (i.decision_id + ("" if i.counted else "*"), i.timestamp, i.human_decision)
        table.add_row(*(Text(c) for c in (*cells, i.outcome, i.severity, i.reviewer, why)))
    return table


def _rollup_lines(item: Explanation) -> list[str]:
    if not item.disagreed:
        return ["disagreements in the window: none"]
    lines = [f"disagreements in the window: {item.disagreed}"]
    for rollup in item.rollups:
        named = "; ".join(f"{value} ({count})" for value, count in rollup.counts[:_ROLLUP_TOP])
        more = len(rollup.counts) - _ROLLUP_TOP
        lines.append(f"  by {rollup.by}: {named}" + (f"; {more} more" if more > 0 else ""))
    return lines


def _calibration_lines(item: Explanation) -> list[str]:
    """How well ``ai_confidence`` predicts approval: Brier, ECE, the rate above each cut."""
    c = item.calibration
    if c is None:
        return []
    lines = [
        f"calibration of ai_confidence: {c.decisions} judged decisions, Brier {c.brier:.4f}, "
        f"ECE (10 bins) {c.ece:.4f}; approval above each cut:"
    ]
    for cut in c.cuts:
        lower = numbers.bound_text(cut.lower, 6, lower=True) if cut.reviewed else "–"
        lines.append(
            f"  ≥ {cut.cut:.2f}: {cut.approved} of {cut.reviewed} approved "
            f"({numbers.percent(cut.approved, cut.reviewed)}), lower bound {lower}"
        )
    return lines


def _history_row(entry: Entry) -> tuple[str, ...]:
    moves = " → ".join(
        "–" if level is None else level.value for level in (entry.from_level, entry.to_level)
    )
    return (str(entry.seq), entry.at, entry.kind, moves, entry.actor, entry.reason)


def _history_table(entries: Sequence[Entry]) -> Table:
    """A group's ledger entries, newest first: date, event, levels, who, why."""
    table = Table(title="history (ledger, newest first)", title_justify="left")
    for heading in ("line", "at", "event", "from → to", "actor", "reason"):
        table.add_column(heading, no_wrap=heading in ("at", "event"), overflow="fold")
    for entry in reversed(entries):
        table.add_row(*(Text(cell) for cell in _history_row(entry)))
    return table


def _history_lines(entries: Sequence[Entry]) -> list[str]:
    lines = ["history (ledger, newest first):"]
    for entry in reversed(entries):
        seq, at, kind, moves, actor, reason = _history_row(entry)
        lines += [f"  line {seq} {at}: {kind} {moves} by {actor}", f"    {reason}"]
    return lines


def _print_group(console: Console, group: Group, group_by: tuple[str, ...], tables: bool) -> None:
    item, v = group.item, group.item.verdict
    console.print(
        Text.assemble((label(group_by, v.state.key), "bold"), f": {v.level.value} ({v.change})")
    )
    _lines(console, _facts(v))
    if tables:
        table = Table(title="rules", title_justify="left")
        table.add_column("rule", no_wrap=True)
        table.add_column("result", no_wrap=True)
        table.add_column("numbers")
        for row in _rules(v):
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
    else:
        _lines(console, ["rules:"])
        for rule, result, text in _rules(v):
            _lines(console, [f"  {rule}: {result}" if result else f"  {rule}:", f"    {text}"])
    _lines(console, [*_next(item), *_rollup_lines(item)])
    for title, incidents in (
        ("recent disagreements", item.disagreements),
        ("recent failures", item.failures),
    ):
        if incidents and tables:
            console.print(_incident_table(title, incidents))
        elif incidents:
            _lines(console, _incident_lines(title, incidents))
    _lines(console, _calibration_lines(item))
    if group.history and tables:
        console.print(_history_table(group.history))
    elif group.history:
        _lines(console, _history_lines(group.history))


def _text(shown: Explained, console: Console) -> str:
    tables = shown.wide or console.width >= TABLES_FROM
    group_by = shown.policy.metadata.group_by
    with console.capture() as captured:
        for group in shown.groups:
            _print_group(console, group, group_by, tables)
    return captured.get()


def _markdown(shown: Explained, _: Console) -> str:
    group_by = shown.policy.metadata.group_by
    out: list[str] = []
    for group in shown.groups:
        item, v = group.item, group.item.verdict
        out += [f"### `{label(group_by, v.state.key)}`: {v.level.value} ({v.change})", ""]
        out += [f"- {line.strip()}" for line in _facts(v)]
        out += ["", "| rule | result | numbers |", "|---|---|---|"]
        out += [f"| {code(rule)} | {result} | {cell(text)} |" for rule, result, text in _rules(v)]
        out += ["", *(f"- {line}" for line in _next(item))]
        out += [*(f"- {line.strip()}" for line in _rollup_lines(item)), ""]
        for title, incidents in (
            ("Recent disagreements", item.disagreements),
            ("Recent failures", item.failures),
        ):
            if not incidents:
                continue
            out += [f"{title}:", "", "| decision | time | human | outcome | reviewer | counted | "
                    "rationale |", "|---|---|---|---|---|---|---|"]  # fmt: skip
            out += [
                f"| {code(i.decision_id)} | {i.timestamp} | {i.human_decision} | {i.outcome} | "
                f"{cell(i.reviewer)} | {'yes' if i.counted else 'no'} | {cell(i.rationale)} |"
                for i in incidents
            ]
            out.append("")
        calibration = _calibration_lines(item)
        if calibration:
            out += [f"{calibration[0]}", "", *(f"- {line.strip()}" for line in calibration[1:])]
            out.append("")
        if group.history:
            out += ["History (ledger, newest first):", ""]
            out += [
                f"- line {seq} {at}: {kind} {moves} by {cell(actor)}: {cell(reason)}"
                for seq, at, kind, moves, actor, reason in map(
                    _history_row, reversed(group.history)
                )
            ]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _json(shown: Explained, _: Console) -> str:
    actions = shown.policy.by_key()
    group_by = shown.policy.metadata.group_by
    groups = []
    for group in shown.groups:
        item, v = group.item, group.item.verdict
        groups.append(
            {
                "group": label(group_by, v.state.key),
                "action": actions[v.state.key].model_dump(mode="json"),
                "checks": [
                    {"rule": rule, "result": result, "numbers": text}
                    for rule, result, text in _rules(v)
                ],
                "binding_need": explain_json.eta_json(item.eta),
                **(
                    {}
                    if item.trade_off is None
                    else {"economics": explain_json.economics(item.trade_off)}
                ),
                "disagreements": {
                    "in_window": item.disagreed,
                    "by": {
                        r.by: [[value, count] for value, count in r.counts] for r in item.rollups
                    },
                    "recent": [explain_json.incident_json(i) for i in item.disagreements],
                },
                "failures": [explain_json.incident_json(i) for i in item.failures],
                "calibration": explain_json.calibration_json(item.calibration),
                "history": [
                    entry.model_dump(mode="json", by_alias=True) for entry in group.history
                ],
            }
        )
    data = {"as_of": times.stamp(shown.policy.metadata.as_of), "groups": groups}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FORMATS: Mapping[str, Callable[[Explained, Console], str]] = {
    "text": _text,
    "markdown": _markdown,
    "json": _json,
}
"""``explain --format``: text for people, markdown to paste, JSON for tools."""
