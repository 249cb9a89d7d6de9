"""The commands that look back: ``history``, the promotion ``review``, the rules' ``oc``."""

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import fails_cleanly, out, say
from trustctl.cli_options import (
    AsOfOption,
    Logs,
    ReviewMinutesOption,
    RulesOption,
    SetOption,
    WhereOption,
    WideOption,
    every_step,
    filters_of,
    instant,
    policy_or_none,
    refuse_overwrites,
    rules_with,
    stdin_logs,
)

__all__ = ["HistoryFormat", "OcFormat", "OcGate", "ReviewFormat", "history", "oc", "review"]


class HistoryFormat(str, Enum):
    """What ``history`` prints."""

    table = "table"
    json = "json"
    csv = "csv"


@fails_cleanly
@stdin_logs
def history(
    logs: Logs,
    every: Annotated[str, typer.Option("--every", help="Time between steps (7d, 12h, 2w).")] = "7d",
    since: Annotated[
        str | None,
        typer.Option("--since", help="The first step (ISO-8601). Default: the window's start."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="The last step (ISO-8601). Default: the latest row."),
    ] = None,
    rules: RulesOption = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only this action class or group (repeatable)."),
    ] = None,
    output_format: Annotated[
        HistoryFormat, typer.Option("--format", help="table, json or csv.")
    ] = HistoryFormat.table,
    sets: SetOption = None,
    where: WhereOption = None,
    wide: WideOption = False,
) -> None:
    """The policy at each step, each built on the step before, as a weekly job runs.

    Examples:

    \b
      trustctl history sample_data/
      trustctl history sample_data/ --every 14d --group k8s.scale --format csv
      trustctl history sample_data/ --group k8s.scale --wide
    """
    from trustctl import formats
    from trustctl.history import history as history_of
    from trustctl.history import pick_groups

    found = history_of(
        logs,
        rules_with(rules, sets),
        every=every_step(every),
        since=instant(since, "--since"),
        until=instant(until, "--until"),
        where=filters_of(where),
    )
    found = pick_groups(found, group or [])
    shown = formats.Stepped(found, wide)
    sys.stdout.write(formats.HISTORY[output_format.value](shown, out(wide)))


class ReviewFormat(str, Enum):
    """What ``review`` writes."""

    html = "html"
    markdown = "markdown"


@fails_cleanly
@stdin_logs
def review(
    logs: Logs,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only this action class or group (repeatable)."),
    ] = None,
    rules: RulesOption = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="The policy in force, to compare with (as --previous)."),
    ] = None,
    as_of: AsOfOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the review here: .html (one self-contained page) or .md (charts as "
            "SVG files in NAME_files/ beside it).",
        ),
    ] = None,
    output_format: Annotated[
        ReviewFormat | None,
        typer.Option("--format", help="html or markdown. Default: by -o's suffix, else markdown."),
    ] = None,
    recent: Annotated[
        int, typer.Option("--recent", min=0, help="How many recent disagreements to list.")
    ] = 10,
    review_minutes: ReviewMinutesOption = None,
) -> None:
    """The promotion review: a page with every group's verdict, trust over time and evidence.

    Examples:

      trustctl review sample_data/ -o review.html

      trustctl review sample_data/ --group k8s.scale -o review.md

      trustctl review sample_data/ --policy policy.yaml --format markdown

      trustctl review sample_data/ --review-minutes 12 -o review.html

      trustctl review sample_data/ --rules policies/economics.yaml -o review.html
    """
    from trustctl import formats, review_pages
    from trustctl.economics import parse_minutes
    from trustctl.files import write_atomically

    chosen = output_format or (
        ReviewFormat.html
        if output is not None and output.suffix.lower() in (".html", ".htm")
        else ReviewFormat.markdown
    )
    refuse_overwrites([output], logs, rules, policy)
    request = review_pages.Request(
        logs=tuple(logs),
        rules=rules_with(rules),
        policy=policy,
        previous=policy_or_none(policy),
        as_of=instant(as_of),
        groups=tuple(group or ()),
        recent=recent,
        review_minutes=parse_minutes(review_minutes),
    )
    found = review_pages.review_of(request)
    if output is None:
        sys.stdout.write(formats.REVIEW[chosen.value](found, out()))
        return
    if chosen is ReviewFormat.markdown:
        charts = review_pages.write_markdown(found, output)
        folder = output.with_name(f"{output.stem}_files")
        say(
            f"wrote the review of {len(found.groups)} group(s) to {output} "
            f"and {charts} chart(s) to {folder}/"
        )
        return
    write_atomically(output, formats.REVIEW[chosen.value](found, out()))
    say(f"wrote the review of {len(found.groups)} group(s) to {output}")


class OcGate(str, Enum):
    """The gates ``trustctl oc`` characterises."""

    auto_notify = "auto_notify"
    full = "full"
    demote = "demote"


class OcFormat(str, Enum):
    """What ``oc`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"


MAX_OC_VOLUME = 2000
"""Decisions per week ``oc`` accepts: the exact computation grows with its square."""


def _volumes(given: list[str] | None) -> list[str] | None:
    """Refuse a ``--volume`` that is not ``25`` or ``25/week`` (a usage error, exit 2)."""
    for text in given or []:
        number = text.removesuffix("/week")
        if not number.isdigit() or not 1 <= int(number) <= MAX_OC_VOLUME:
            raise typer.BadParameter(
                f"{text!r} is not a volume like 25 or 25/week (1 to {MAX_OC_VOLUME})"
            )
    return given


@fails_cleanly
def oc(
    rules: RulesOption = None,
    volume: Annotated[
        list[str] | None,
        typer.Option(
            "--volume",
            metavar="N/week",
            callback=_volumes,
            help="Decisions a gate counts per week (25 or 25/week); repeat for several. "
            "Default: 10, 25 and 100.",
        ),
    ] = None,
    weeks: Annotated[
        int, typer.Option("--weeks", min=1, max=104, help="Weekly runs looked at.")
    ] = 26,
    gate: Annotated[
        list[OcGate] | None,
        typer.Option(
            "--gate", help="auto_notify, full or demote; repeat for several. Default: all."
        ),
    ] = None,
    output_format: Annotated[
        OcFormat, typer.Option("--format", help="table, markdown or json.")
    ] = (OcFormat.table),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulated rows.")] = 20261201,
) -> None:
    """Print how often, and how soon, the rules promote and demote a class of known true rate.

    Examples:

    \b
      trustctl oc --volume 25 --gate auto_notify
      trustctl oc --rules policies/rules.yaml --gate demote --volume 100 --format markdown
    """
    from trustctl import formats
    from trustctl.oc import DEFAULT_VOLUMES, operating_characteristics

    report = operating_characteristics(
        rules_with(rules).rules,
        volumes=tuple(int(v.removesuffix("/week")) for v in volume) if volume else DEFAULT_VOLUMES,
        weeks=weeks,
        gates=tuple(g.value for g in gate) if gate else ("auto_notify", "full", "demote"),
        seed=seed,
    )
    sys.stdout.write(formats.OC[output_format.value](report, out()))
