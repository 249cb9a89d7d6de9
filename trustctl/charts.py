"""The review's charts as SVG text: trust over time, volume per week, reliability.

matplotlib (Agg) is imported here only, so only ``trustctl review`` pays for it. Text
stays text (``svg.fonttype: none``) and ids are salted with a constant, so the same
review gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.patches import Patch

from trustctl import numbers
from trustctl.calibration import Calibration
from trustctl.levels import Level
from trustctl.review import HUMAN_KINDS, OUTCOME_KINDS, GroupReview, Week
from trustctl.review_html import Chart
from trustctl.rules import Metric

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LEVEL_COLOURS",
    "group_charts",
    "reliability_chart",
    "trust_chart",
    "volume_chart",
]

_STYLE: Any = {  # matplotlib types its keys as literals
    "svg.fonttype": "none",
    "svg.hashsalt": "trustctl",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.frameon": False,
    "legend.fontsize": 9,
}
LEVEL_COLOURS = {
    Level.OBSERVE: "#eeeeee",
    Level.SUGGEST: "#fdf0d5",
    Level.AUTO_NOTIFY: "#dcecf9",
    Level.FULL: "#dff3e3",
}
HUMAN_COLOURS = ("#2e7d32", "#c62828", "#ef6c00", "#6a1b9a", "#9e9e9e", "#d7d7d7")
OUTCOME_COLOURS = ("#2e7d32", "#c62828", "#fbc02d", "#d7d7d7")
_RATE, _BOUND, _PROMOTE, _DEMOTE = "#1565c0", "#0d47a1", "#2e7d32", "#c62828"


def _svg(figure: Figure) -> str:
    """The figure as inline SVG (no XML prolog, no DOCTYPE), then closed."""
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(figure)
    text = out.getvalue()
    return text[text.index("<svg") :]


def _days(moments: Sequence[dt.datetime]) -> list[float]:
    return [float(mdates.date2num(m)) for m in moments]


def _bands(axes: Axes, weeks: Sequence[Week]) -> None:
    """Shade each week by the level in force at its end."""
    for week in weeks:
        if week.level is not None:
            start = week.end - dt.timedelta(days=7)
            axes.axvspan(
                float(mdates.date2num(start)),
                float(mdates.date2num(week.end)),
                color=LEVEL_COLOURS[week.level],
                lw=0,
                zorder=0,
            )


def _steps(axes: Axes, weeks: Sequence[Week], values: list[float | None], **style: Any) -> None:
    """A threshold as a step line that follows the level in force."""
    x = _days([*(w.end - dt.timedelta(days=7) for w in weeks), weeks[-1].end])
    y = [_nan(v) for v in values]
    axes.step(x, [*y, y[-1]], where="post", **style)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _series(weeks: Sequence[Week], metric: Metric) -> tuple[list[float], list[float]]:
    """The week's own rate and the gate's lower bound, NaN where there is none."""
    rates, lowers = [], []
    for w in weeks:
        k, n = w.agreement if metric == "agreement" else w.success
        rates.append(k / n if n else float("nan"))
        lowers.append(_nan(w.agreement_lower if metric == "agreement" else w.success_lower))
    return rates, lowers


def _events(axes: Axes, group: GroupReview, x: list[float], labelled: bool) -> None:
    """Agent-version changes, critical failures, promotions and demotions."""
    for when, version in group.version_changes:
        day = float(mdates.date2num(when))
        axes.axvline(day, color="#555555", lw=1, ls="-.", label="agent version change")
        if labelled:
            axes.annotate(
                version,
                (day, 0.03),
                xycoords=axes.get_xaxis_transform(),
                rotation=90,
                fontsize=7,
                color="#555555",
                xytext=(3, 0),
                textcoords="offset points",
                va="bottom",
            )
    for when in group.critical_failures:
        axes.plot(
            float(mdates.date2num(when)), 0.05, "X", ms=8, color=_DEMOTE,
            label="critical failure", zorder=4, transform=axes.get_xaxis_transform(),
        )  # fmt: skip
    for week, day in zip(group.weeks, x, strict=True):
        if week.change in ("promoted", "demoted"):
            up = week.change == "promoted"
            axes.plot(
                day, 1.04, "^" if up else "v", ms=8, clip_on=False, zorder=4,
                color=_PROMOTE if up else _DEMOTE, label=week.change,
            )  # fmt: skip


def _bottom(weeks: Sequence[Week], metrics: Sequence[Metric]) -> float:
    """The y axis starts a tenth below the lowest rate, bound or threshold drawn (never
    below 0), so the band near 1 where the thresholds lie is not squashed."""
    drawn = [
        value
        for metric in metrics
        for series in _series(weeks, metric)
        for value in series
        if not math.isnan(value)
    ]
    drawn += [v for w in weeks for v in (*w.promote.values(), *w.demote.values())]
    return max(0.0, math.floor((min(drawn, default=0.0) - 0.05) * 10) / 10)


def trust_chart(group: GroupReview) -> str:
    """Weekly agreement and success with the gates' lower bounds, thresholds, level bands
    and the events that moved them."""
    weeks = group.weeks
    x = _days([w.end for w in weeks])
    metrics: tuple[Metric, Metric] = ("agreement", "success")
    bottom = _bottom(weeks, metrics)
    with plt.rc_context(_STYLE):
        figure, panels = plt.subplots(2, 1, figsize=(7.5, 4.8), sharex=True)
        for axes, metric in zip(panels, metrics, strict=True):
            _bands(axes, weeks)
            rates, lowers = _series(weeks, metric)
            axes.plot(x, rates, "o", ms=3.5, color=_RATE, label="week's own rate", zorder=3)
            axes.plot(x, lowers, "-", lw=2, color=_BOUND, label="gate's lower bound", zorder=3)
            _steps(
                axes, weeks, [w.promote.get(metric) for w in weeks],
                color=_PROMOTE, ls="--", lw=1.2, label="promotion threshold",
            )  # fmt: skip
            _steps(
                axes, weeks, [w.demote.get(metric) for w in weeks],
                color=_DEMOTE, ls=":", lw=1.2, label="demotion threshold",
            )  # fmt: skip
            _events(axes, group, x, labelled=metric == "agreement")
            axes.set_ylim(bottom, 1.08)
            axes.set_ylabel(metric)
            axes.grid(axis="y", color="#dddddd", lw=0.5)
        panels[0].set_title(f"{group.name}: trust over time")
        panels[1].xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        handles: dict[str, Any] = {}
        for axes in panels:
            for handle, text in zip(*axes.get_legend_handles_labels(), strict=True):
                handles.setdefault(text, handle)
        for level in Level:
            if any(w.level is level for w in weeks):
                handles[f"level: {level.value}"] = Patch(color=LEVEL_COLOURS[level])
        figure.legend(list(handles.values()), list(handles.keys()), loc="lower center", ncol=4)
        rows = -(-len(handles) // 4)
        figure.tight_layout(rect=(0, 0.045 * rows + 0.01, 1, 1))
        return _svg(figure)


def volume_chart(group: GroupReview) -> str:
    """Decisions per week, stacked by human verdict and by outcome."""
    weeks = group.weeks
    x = _days([w.end for w in weeks])
    with plt.rc_context(_STYLE):
        figure, panels = plt.subplots(2, 1, figsize=(7.5, 4.2), sharex=True)
        for axes, kinds, colours, counts, title in (
            (panels[0], HUMAN_KINDS, HUMAN_COLOURS, [w.human for w in weeks], "human verdict"),
            (panels[1], OUTCOME_KINDS, OUTCOME_COLOURS, [w.outcome for w in weeks], "outcome"),
        ):
            bottom = [0.0] * len(weeks)
            for kind, colour in zip(kinds, colours, strict=True):
                values = [float(c[kind]) for c in counts]
                axes.bar(x, values, width=5.5, bottom=bottom, color=colour, label=kind)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            axes.set_ylabel(title)
            axes.legend(loc="upper left", ncol=len(kinds), fontsize=7)
            axes.set_ylim(0, max([*bottom, 1.0]) * 1.35)
            axes.grid(axis="y", color="#dddddd", lw=0.5)
        panels[0].set_title(f"{group.name}: decisions per week")
        panels[1].xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        figure.tight_layout()
        return _svg(figure)


def reliability_chart(name: str, calibration: Calibration) -> str:
    """Approval rate against mean confidence per bin, with the diagonal and bin counts."""
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(4.2, 4.0))
        axes.plot([0, 1], [0, 1], ls="--", color="#999999", lw=1, label="perfectly calibrated")
        full = [b for b in calibration.bins if b.count]
        axes.plot(
            [_nan(b.mean_confidence) for b in full],
            [_nan(b.approval_rate) for b in full],
            "o-",
            color=_RATE,
            label="approval rate per bin",
        )
        for b in full:
            axes.annotate(
                str(b.count),
                (b.mean_confidence or 0, b.approval_rate or 0),
                xytext=(3, -10),
                textcoords="offset points",
                fontsize=7,
            )
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1.02)
        axes.set_xlabel("ai_confidence")
        axes.set_ylabel("approved by a human")
        axes.set_title(f"{name}: reliability")
        axes.legend(loc="lower right")
        axes.grid(color="#eeeeee", lw=0.5)
        figure.tight_layout()
        return _svg(figure)


def _trust_alt(group: GroupReview) -> str:
    """The trust chart in words: where the bound ends, and the events on it."""
    last = group.weeks[-1]
    parts = []
    for metric in ("agreement", "success"):
        lower = last.agreement_lower if metric == "agreement" else last.success_lower
        if lower is not None:
            parts.append(f"{metric} lower bound {numbers.bound_text(lower, 3, lower=True)}")
    changes = [
        f"{w.change} to {w.level.value} in the week to {w.end:%Y-%m-%d}"
        for w in group.weeks
        if w.change in ("promoted", "demoted") and w.level is not None
    ]
    versions = [f"{version} from {when:%Y-%m-%d}" for when, version in group.version_changes]
    text = f"Weekly rates and the gates' lower bounds; at the last step {', '.join(parts)}."
    if changes:
        text += " Level changes a weekly job would have made: " + "; ".join(changes) + "."
    if versions:
        text += " Agent versions: " + "; ".join(versions) + "."
    text += f" Critical failures in the window: {len(group.critical_failures)}."
    return text


def _volume_alt(group: GroupReview) -> str:
    total = sum(sum(w.human.values()) for w in group.weeks)
    approved = sum(w.human["approved"] for w in group.weeks)
    failures = sum(w.outcome["failure"] for w in group.weeks)
    return (
        f"{total} decisions over {len(group.weeks)} weeks, {approved} approved by a human, "
        f"{failures} failed; bars stack each week by human verdict, then by outcome."
    )


def group_charts(group: GroupReview) -> dict[str, Chart]:
    """Every chart of one group, by name (``trust``, ``volume``, ``reliability``)."""
    charts = {
        "trust": Chart("trust", f"{group.name}: trust over time", _trust_alt(group),
                       trust_chart(group)),
        "volume": Chart("volume", f"{group.name}: decisions per week", _volume_alt(group),
                        volume_chart(group)),
    }  # fmt: skip
    calibration = group.calibration
    if calibration is not None:
        charts["reliability"] = Chart(
            "reliability",
            f"{group.name}: reliability of ai_confidence",
            f"Approval rate against mean confidence in 10 bins; Brier {calibration.brier:.4f}, "
            f"ECE {calibration.ece:.4f}.",
            reliability_chart(group.name, calibration),
        )
    return charts
