"""The ``whatif`` command: the baseline and scenarios side by side, or replayed."""

import datetime as dt
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trustctl._terminal import WIDE_WIDTH, fails_cleanly, out
from trustctl.cli_options import (
    AsOfOption,
    BadRows,
    Logs,
    OnBadRowsOption,
    ReviewMinutesOption,
    RulesOption,
    SetOption,
    WhereOption,
    every_step,
    filters_of,
    instant,
    reading_notes,
    rules_with,
    stdin_logs,
)

if TYPE_CHECKING:
    from trustctl.rules import LoadedRules
    from trustctl.whatif import Scenario

__all__ = ["WhatifFormat", "whatif"]


class WhatifFormat(str, Enum):
    """What ``whatif`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"
    csv = "csv"


@fails_cleanly
@stdin_logs
def whatif(
    logs: Logs,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario",
            help="'NAME: KEY=VALUE, KEY=VALUE': rules keys as --set takes them, "
            "where=EXPR (a filter added to --where) and as_of=TIME. Repeatable.",
        ),
    ] = None,
    scenario_rules: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario-rules",
            help="NAME=FILE: the scenario NAME starts from this rules file. Repeatable.",
        ),
    ] = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            "--sweep",
            help="KEY=FROM:TO:STEP: one scenario per value of a numeric rules key, or of a "
            "duration (window=30d:180d:30d), instead of --scenario; shows where each group "
            "changes level.",
        ),
    ] = None,
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    sets: SetOption = None,
    where: WhereOption = None,
    reasons: Annotated[
        bool, typer.Option("--reasons", help="Each scenario's reason for every cell it changes.")
    ] = False,
    on_bad_rows: OnBadRowsOption = BadRows.fail,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Replay the baseline and each scenario step by step over the logs (--as-of "
            "is the last step): the share automated, the failures that would have run first.",
        ),
    ] = False,
    every: Annotated[
        str, typer.Option("--every", help="With --replay: time between steps (7d, 2w).")
    ] = "7d",
    since: Annotated[
        str | None,
        typer.Option("--since", help="With --replay: the first step. Default: the window's start."),
    ] = None,
    output_format: Annotated[
        WhatifFormat, typer.Option("--format", help="table, markdown, json or csv.")
    ] = WhatifFormat.table,
    review_minutes: ReviewMinutesOption = None,
) -> None:
    """The baseline and scenarios side by side, from one read of the logs.

    Examples:

    \b
      trustctl whatif sample_data/ --scenario 'strict: promote.auto_notify.agreement.threshold=0.97'
      trustctl whatif sample_data/ --scenario 'no-ci: where=service!=ci-runners' --reasons
      trustctl whatif sample_data/ --sweep promote.auto_notify.agreement.min_decisions=50:150:25
      trustctl whatif sample_data/ --sweep window=30d:180d:30d
      trustctl whatif sample_data/ --replay --scenario 'loose: window=90d'
      trustctl whatif sample_data/ --replay --scenario 'loose: window=90d' --review-minutes 12
    """
    from trustctl import formats
    from trustctl.economics import minutes_of
    from trustctl.errors import TrustctlError
    from trustctl.whatif import parse_scenario, sweep_scenarios
    from trustctl.whatif import scenario_rules as joined
    from trustctl.whatif import whatif as whatif_of
    from trustctl.whatif_formats import Shown

    if sweep is not None and (scenario or scenario_rules):
        raise TrustctlError(
            "--sweep replaces --scenario and --scenario-rules; give one or the other"
        )
    if sweep is not None:
        scenarios = sweep_scenarios(sweep)
    else:
        scenarios = joined([parse_scenario(text) for text in scenario or []], scenario_rules or [])
    if not scenarios:
        raise TrustctlError("give at least one --scenario, --scenario-rules or a --sweep")
    if review_minutes is not None and not replay:
        raise TrustctlError("--review-minutes prices a replay: add --replay")
    if replay:
        loaded = rules_with(rules, sets)
        _replay(
            logs,
            loaded,
            scenarios,
            where,
            (instant(since, "--since"), instant(as_of), every_step(every)),
            on_bad_rows,
            minutes_of(review_minutes, loaded.rules),
            output_format,
        )
        return
    found = whatif_of(
        logs,
        rules_with(rules, sets),
        scenarios,
        where=filters_of(where),
        as_of=instant(as_of),
        on_bad_rows=on_bad_rows.value,
    )
    reading_notes(found.baseline.evaluation.report)
    shown = Shown(found, reasons, None if sweep is None else sweep.partition("=")[0].strip())
    sys.stdout.write(formats.WHATIF[output_format.value](shown, out(pipe_width=WIDE_WIDTH)))


def _replay(
    logs: list[Path],
    loaded: "LoadedRules",
    scenarios: "list[Scenario]",
    where: list[str] | None,
    steps: tuple[dt.datetime | None, dt.datetime | None, dt.timedelta],
    on_bad_rows: BadRows,
    review_minutes: float | None,
    output_format: WhatifFormat,
) -> None:
    from trustctl import formats
    from trustctl.replay import replay

    since, until, every = steps
    found = replay(
        logs,
        loaded,
        scenarios,
        every=every,
        since=since,
        until=until,
        where=filters_of(where),
        on_bad_rows=on_bad_rows.value,
        review_minutes=review_minutes,
    )
    reading_notes(found.baseline.history.decisions.report)
    sys.stdout.write(formats.REPLAY[output_format.value](found, out(pipe_width=WIDE_WIDTH)))
