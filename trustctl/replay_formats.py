"""``whatif --replay`` as a table, markdown, JSON or CSV: what each scenario would have exposed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping

from rich.console import Console

from trustctl import times
from trustctl.diff import label
from trustctl.evidence import GroupKey, sort_key
from trustctl.replay import Exposure, Replay, Replayed
from trustctl.whatif_formats import framed_table, markdown_table

__all__ = ["FORMATS", "Replay"]

_SHOWN_IDS = 10


def _share(exposure: Exposure) -> str:
    share = exposure.share
    return "–" if share is None else f"{share:.1%}"


def _ids(ids: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    return shown + (f", … {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else "")


def _summary(found: Replay, run: Replayed) -> str:
    total, base = run.total, found.baseline.total
    text = f"{run.scenario.name}: {_share(total)} of {total.decisions} decisions automated"
    if run is not found.baseline:
        text += f" (baseline {_share(base)})"
    text += f"; {total.failures} failures ran before a human saw them"
    if run is not found.baseline and total.failures != base.failures:
        theirs, ours = set(base.failure_ids), set(total.failure_ids)
        more = [i for i in total.failure_ids if i not in theirs]
        fewer = len([i for i in base.failure_ids if i not in ours])
        text += f" ({len(more)} more" + (f": {_ids(more)}" if more else "") + f", {fewer} fewer)"
    text += f", {total.critical} critical"
    if total.critical_ids:
        text += f" ({_ids(total.critical_ids)})"
    if total.disagreed:
        text += f"; {total.disagreed} of the automated were rejected, modified or overridden"
    saved, before = found.minutes_saved(total), found.minutes_saved(base)
    if saved is not None and before is not None:
        text += f"; {_hours(saved)} of human review saved"
        if run is not found.baseline:
            text += f" ({_hours(saved - before)} more than the baseline)"
    return text


def _hours(minutes: float) -> str:
    return f"{minutes / 60:,.1f} h"


def _keys(found: Replay) -> list[GroupKey]:
    keys: set[GroupKey] = set()
    for run in (found.baseline, *found.scenarios):
        keys |= set(run.groups) | set(run.promoted)
    return sorted(keys, key=sort_key)


def _promoted(run: Replayed, key: GroupKey) -> str:
    moment = run.promoted.get(key)
    return "never" if moment is None else times.stamp(moment)[:10]


def _cell(run: Replayed, key: GroupKey) -> str:
    return f"{_share(run.groups.get(key, Exposure()))} · {_promoted(run, key)}"


def _header(found: Replay) -> list[str]:
    start, end = found.moments[0], found.moments[-1]
    lines = [f"replay: {len(found.moments)} steps from {times.stamp(start)} to {times.stamp(end)}"]
    for run in found.scenarios:
        lines.append(f"{run.scenario.name}: {'; '.join(run.scenario.changes()) or 'no change'}")
    return lines


def _footer(found: Replay) -> list[str]:
    runs = (found.baseline, *found.scenarios)
    legend = "cells: share of the group's decisions automated · first promotion in the replay"
    return [*(_summary(found, run) for run in runs), legend]


def _rows(found: Replay) -> list[list[str]]:
    runs = (found.baseline, *found.scenarios)
    return [[label(found.group_by, key), *(_cell(r, key) for r in runs)] for key in _keys(found)]


def _columns(found: Replay) -> list[str]:
    return ["group", "baseline", *(run.scenario.name for run in found.scenarios)]


def _table(found: Replay, console: Console) -> str:
    return framed_table(console, _header(found), _columns(found), _rows(found), _footer(found))


def _markdown(found: Replay, _: Console) -> str:
    return markdown_table(_header(found), _columns(found), _rows(found), _footer(found))


def _exposure_data(exposure: Exposure, found: Replay) -> dict[str, object]:
    saved = found.minutes_saved(exposure)
    return {
        **({} if saved is None else {"review_minutes_saved": round(saved, 6)}),
        "decisions": exposure.decisions,
        "automated": exposure.automated,
        "share": None if exposure.share is None else round(exposure.share, 6),
        "failures": exposure.failures,
        "critical": exposure.critical,
        "disagreed": exposure.disagreed,
        "failure_ids": list(exposure.failure_ids),
        "critical_ids": list(exposure.critical_ids),
    }


def _json(found: Replay, _: Console) -> str:
    data = {
        "steps": [times.stamp(m) for m in found.moments],
        "scenarios": [
            {
                "name": run.scenario.name,
                "changes": run.scenario.changes(),
                "summary": _summary(found, run),
                "total": _exposure_data(run.total, found),
                "groups": {
                    label(found.group_by, key): {
                        **_exposure_data(run.groups.get(key, Exposure()), found),
                        "first_promotion": None
                        if run.promoted.get(key) is None
                        else _promoted(run, key),
                    }
                    for key in _keys(found)
                },
            }
            for run in (found.baseline, *found.scenarios)
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _csv(found: Replay, _: Console) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = ["decisions", "automated", "failures", "critical", "disagreed"]
    writer.writerow(["as_of", "group", "scenario", *names, "first_promotion", "failure_ids"])
    until = times.stamp(found.moments[-1])
    for key in _keys(found):
        for run in (found.baseline, *found.scenarios):
            exposure = run.groups.get(key, Exposure())
            writer.writerow(
                [
                    until,
                    label(found.group_by, key),
                    run.scenario.name,
                    *(getattr(exposure, name) for name in names),
                    "" if run.promoted.get(key) is None else _promoted(run, key),
                    " ".join(exposure.failure_ids),
                ]
            )
    return out.getvalue()


FORMATS: Mapping[str, Callable[[Replay, Console], str]] = {
    "table": _table,
    "markdown": _markdown,
    "json": _json,
    "csv": _csv,
}
"""``whatif --replay --format``: per group and scenario, the share automated and first promotion."""
