"""The command layer: parse options, call the core, print the result (exit codes: ``_terminal``).

The core is imported inside each command so ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trustctl import __version__, cli_weekly
from trustctl._terminal import EXIT_DRIFT, err, fails_cleanly, out, say
from trustctl.cli_options import SetOption, WhereOption, filters_of, rules_with

__all__ = ["app", "main"]

if TYPE_CHECKING:
    from trustctl.ingest import IngestReport
    from trustctl.inputs import Source
    from trustctl.policy_model import Policy
    from trustctl.rules import LoadedRules

app = typer.Typer(
    name="trustctl",
    help="Decide, from evidence, how much authority an AI operations agent has earned.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trustctl {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Decide, from evidence, how much authority an AI operations agent has earned."""


class OutputFormat(str, Enum):
    """What ``generate`` prints on stdout."""

    yaml = "yaml"
    json = "json"
    table = "table"
    markdown = "markdown"


class DiffFormat(str, Enum):
    """What ``diff`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"


class BadRows(str, Enum):
    """What to do with rows that break the log schema."""

    fail = "fail"
    skip = "skip"


Logs = Annotated[
    list[Path],
    typer.Argument(help="Decision-log files or directories (*.csv, *.jsonl, *.parquet, *.gz)."),
]
RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="Rules file (TrustRules YAML). Default: the built-in rules."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Decide as of this ISO-8601 time; later decisions are ignored. "
        "Default: the latest decision's timestamp.",
    ),
]
OnBadRowsOption = Annotated[
    BadRows,
    typer.Option("--on-bad-rows", help="fail: refuse bad input; skip: leave out and count."),
]
LowMemoryOption = Annotated[
    bool,
    typer.Option(
        "--low-memory",
        help="Read the logs one slice of decisions at a time: the same result in bounded "
        "memory, at the cost of one pass over the files per slice.",
    ),
]
PreviousOption = Annotated[
    Path | None,
    typer.Option("--previous", help="The policy in force (its levels and dates are the start)."),
]


LedgerOption = Annotated[
    Path | None,
    typer.Option(
        "--ledger",
        help="The ledger of level changes. Default: beside the policy, its suffix replaced "
        "by .ledger.jsonl (policy.yaml → policy.ledger.jsonl).",
    ),
]
ByOption = Annotated[str, typer.Option("--by", help="Who signs: a person's name.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why, in a sentence.")]


class CheckFormat(str, Enum):
    """What ``check`` prints."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _signer(by: str, reason: str) -> tuple[str, str]:
    from trustctl.errors import TrustctlError
    from trustctl.ledger import TRUSTCTL

    if not by.strip() or by.strip() == TRUSTCTL:
        raise TrustctlError("--by: the name of the person who signs")
    if not reason.strip():
        raise TrustctlError("--reason: say why")
    return by.strip(), reason.strip()


def _rules(path: Path | None, sets: list[str] | None = None) -> LoadedRules:
    return rules_with(path, sets)


def _as_of(text: str | None, option: str = "--as-of") -> dt.datetime | None:
    """An instant option's value (ISO-8601; naive means UTC)."""
    from trustctl import times
    from trustctl.errors import TrustctlError

    if text is None:
        return None
    try:
        return times.parse(text)
    except ValueError as exc:
        raise TrustctlError(f"{option}: {exc}") from None


def _every(text: str) -> dt.timedelta:
    """An ``--every`` step: a duration (``7d``) that moves forward."""
    from trustctl.errors import TrustctlError
    from trustctl.rules import parse_duration

    try:
        step = parse_duration(text)
    except ValueError as exc:
        raise TrustctlError(f"--every: {exc}") from None
    if not step:
        raise TrustctlError(f"--every: a step of {text} never moves; give one like 7d")
    return step


def _policy(path: Path | None) -> Policy | None:
    from trustctl.policy import load_policy

    return None if path is None else load_policy(path)


def _refuse_overwrites(
    outputs: list[Path | None], inputs: list[Path], *others: Path | None, evidence: bool = False
) -> None:
    """The one rule for outputs (``files.check_outputs``), checked before anything is read."""
    from trustctl.evidence_files import find_evidence
    from trustctl.files import check_outputs
    from trustctl.sources import find_logs

    found = (find_evidence if evidence else find_logs)(inputs) if inputs else []
    check_outputs(outputs, [*found, *others])


def _logs(
    paths: list[Path], on_bad_rows: BadRows, low_memory: bool, where: list[str] | None = None
) -> Source:
    from trustctl.inputs import Logs, LowMemoryLogs

    kind = LowMemoryLogs if low_memory else Logs
    return kind(paths, on_bad_rows.value, where=filters_of(where))


@app.command()
@fails_cleanly
def generate(
    logs: Annotated[
        list[Path],
        typer.Argument(
            help="Decision-log files or directories (*.csv, *.jsonl, *.parquet, *.gz); "
            "with --evidence, evidence files or directories of them.",
        ),
    ],
    evidence: Annotated[
        bool,
        typer.Option(
            "--evidence",
            help="The inputs are evidence files (from `trustctl aggregate` or the "
            "`trustctl sql` query), merged into the policy the logs would give. Give each "
            "log's evidence once: a warehouse's file cannot be checked against trustctl's.",
        ),
    ] = False,
    rules: RulesOption = None,
    previous: PreviousOption = None,
    as_of: AsOfOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the policy here (YAML; JSON if it ends .json)."),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            help="What to print: yaml, json, table, markdown. Default: yaml, or table with -o.",
        ),
    ] = None,
    on_bad_rows: OnBadRowsOption = BadRows.fail,
    bad_rows_out: Annotated[
        Path | None,
        typer.Option("--bad-rows-out", help="With --on-bad-rows skip: write skipped rows (JSONL)."),
    ] = None,
    low_memory: LowMemoryOption = False,
    sets: SetOption = None,
    where: WhereOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Compute the autonomy policy from decision logs (the main job).

    Examples:

    \b
      trustctl generate sample_data/ -o policy.yaml
      trustctl generate sample_data/ --as-of 2026-09-30 -o old.yaml
      trustctl generate sample_data/ -o candidate.yaml
      trustctl generate sample_data/ --previous policy.yaml --format markdown
    """
    from trustctl import formats
    from trustctl.errors import TrustctlError
    from trustctl.files import write_atomically
    from trustctl.inputs import EvidenceFiles
    from trustctl.pair import ledger_paths, open_ledger, write_pair
    from trustctl.record import run, settled

    if bad_rows_out is not None and on_bad_rows is not BadRows.skip:
        raise TrustctlError("--bad-rows-out needs --on-bad-rows skip")
    if evidence and (on_bad_rows is not BadRows.fail or low_memory):
        raise TrustctlError(
            "--on-bad-rows and --low-memory apply to logs; evidence files were checked when built"
        )
    # -o may name the --previous policy: replacing it with its successor is the weekly run.
    read_from, write_to = ledger_paths(previous, output, ledger)
    _refuse_overwrites([output, bad_rows_out, write_to], logs, rules, evidence=evidence)
    _refuse_overwrites([bad_rows_out, write_to], [], previous)
    loaded = _rules(rules, sets)
    source = (
        EvidenceFiles(logs, where=filters_of(where))
        if evidence
        else _logs(logs, on_bad_rows, low_memory, where)
    )
    committed = _policy(previous)
    book = open_ledger(committed, previous, read_from)
    done = run(source, loaded, book, committed, _as_of(as_of))
    if done.mismatches and write_to is not None:
        raise TrustctlError(
            f"{book.path}: {done.mismatches[0]}; the ledger records another run as of "
            "this moment: pass a later --as-of"
        )
    result = settled(done, done.ledger.head if write_to is not None else None)
    final = result.document
    _notes(result.report)
    # Every text is ready before any file is written, and the policy and its ledger go
    # first: a policy that cannot be written leaves no bad-rows file behind, as if the run
    # had not happened. If only the bad-rows file fails, the run exits 2 naming it; the
    # policy written is complete and counts the skipped rows in its metadata.
    if output is not None and write_to is not None:
        write_pair(final, output, book, done.ledger, write_to)
    if bad_rows_out is not None:
        write_atomically(bad_rows_out, formats.bad_rows_jsonl(result.bad_rows))
    chosen = output_format or (OutputFormat.table if output else OutputFormat.yaml)
    console = out()
    sys.stdout.write(formats.GENERATE[chosen.value](formats.Generated(result, output), console))


def _notes(report: IngestReport) -> None:
    """What the reading left out or assumed, on stderr."""
    if report.skipped_decisions:
        err().print(
            f"warning: skipped {report.skipped_decisions} decision(s) "
            f"({report.skipped_rows} row(s)) with bad data",
            markup=False,
        )
    if report.naive_timestamps:
        err().print(
            f"note: {report.naive_timestamps} timestamp(s) had no time zone and were read as UTC",
            markup=False,
        )


@app.command()
@fails_cleanly
def check(
    logs: Logs,
    policy: Annotated[Path, typer.Option("--policy", help="The committed policy to check.")],
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    low_memory: LowMemoryOption = False,
    sets: SetOption = None,
    where: WhereOption = None,
    ledger: LedgerOption = None,
    output_format: Annotated[
        CheckFormat,
        typer.Option("--format", help="text, json, or markdown (a CI step summary)."),
    ] = CheckFormat.text,
) -> None:
    """Exit 1 unless the policy is what its ledger records and what the evidence gives (CI).

    Examples:

    \b
      trustctl check sample_data/ --policy policy.yaml
      trustctl check sample_data/ --policy policy.yaml --format markdown
    """
    from trustctl import audit, formats
    from trustctl.ledger import read
    from trustctl.pair import default_ledger
    from trustctl.policy import load_policy

    loaded = _rules(rules, sets)
    source = _logs(logs, BadRows.fail, low_memory, where)
    committed = load_policy(policy)
    book = read(ledger or default_ledger(policy))
    found = audit.check(source, loaded, committed, policy, book, _as_of(as_of))
    checked = formats.Checked(policy, book.path, len(committed.actions), len(book.entries), found)
    sys.stdout.write(formats.CHECK[output_format.value](checked, out()))
    if found:
        raise typer.Exit(EXIT_DRIFT)


@app.command()
@fails_cleanly
def verify(
    policy: Annotated[Path, typer.Option("--policy", help="The policy whose ledger to verify.")],
    logs: Annotated[
        list[Path] | None,
        typer.Argument(help="Decision logs: re-derive every automatic entry from them."),
    ] = None,
    ledger: LedgerOption = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            help="Rules the ledger's runs were made with (repeatable). Default: the built-in.",
        ),
    ] = None,
) -> None:
    """Exit 1 unless every ledger entry is intact and either earned from the logs or signed.

    Examples:

    \b
      trustctl verify --policy policy.yaml sample_data/
      trustctl verify --policy policy.yaml
    """
    from trustctl import audit
    from trustctl.inputs import Logs as LogFiles
    from trustctl.ledger import read
    from trustctl.pair import default_ledger
    from trustctl.policy import load_policy

    committed = load_policy(policy)
    book = read(ledger or default_ledger(policy), missing_ok=False)
    loaded = [_rules(path) for path in rules] if rules else [_rules(None)]
    source = LogFiles(logs) if logs else None
    found, derived = audit.verify(book, committed, policy, source, loaded)
    for finding in found:
        say(f"{finding.kind}: {finding}")
    if found:
        say(f"{book.path}: {len(found)} problem(s)")
        raise typer.Exit(EXIT_DRIFT)
    how = (
        f"{derived} automatic entries re-derived from the logs"
        if source is not None
        else "no logs given: automatic entries not re-derived"
    )
    say(f"{book.path}: {len(book.entries)} entries, chain intact, head matches {policy}; {how}")


@app.command()
@fails_cleanly
def approve(
    group: Annotated[str, typer.Argument(help="The group, e.g. k8s.restart_pod.")],
    logs: Logs,
    policy: Annotated[Path, typer.Option("--policy", help="The policy to sign.")],
    by: ByOption,
    reason: ReasonOption,
    rules: RulesOption = None,
    as_of: AsOfOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Apply a promotion waiting for sign-off, if the logs still earn it (exit 1 if not).

    Examples:

    \b
      trustctl approve k8s.restart_pod sample_data/ --policy policy.yaml --by Dana --reason ok
    """
    from trustctl import approvals
    from trustctl.inputs import Logs as LogFiles
    from trustctl.ledger import read
    from trustctl.pair import default_ledger, write_pair
    from trustctl.policy import load_policy
    from trustctl.record import usable

    name, why = _signer(by, reason)
    committed = load_policy(policy)
    path = ledger or default_ledger(policy)
    book = usable(read(path))
    approvals.trusted(committed, policy, book)
    signed, after, what = approvals.approve(
        LogFiles(logs), _rules(rules), committed, book, group, name, why, _as_of(as_of)
    )
    write_pair(signed, policy, book, after, path)
    say(f"{what} approved by {name}; {policy} and {path} written")


@app.command()
@fails_cleanly
def reject(
    group: Annotated[str, typer.Argument(help="The group, e.g. k8s.restart_pod.")],
    policy: Annotated[Path, typer.Option("--policy", help="The policy to sign.")],
    by: ByOption,
    reason: ReasonOption,
    rules: RulesOption = None,
    ledger: LedgerOption = None,
) -> None:
    """Reject a promotion waiting for sign-off; it is not proposed again before it expires.

    Examples:

    \b
      trustctl reject k8s.restart_pod --policy candidate.yaml --by Dana --reason "Q4 freeze"
    """
    from trustctl import approvals
    from trustctl.ledger import read
    from trustctl.pair import default_ledger, write_pair
    from trustctl.policy import load_policy
    from trustctl.record import usable

    name, why = _signer(by, reason)
    committed = load_policy(policy)
    path = ledger or default_ledger(policy)
    book = usable(read(path))
    approvals.trusted(committed, policy, book)
    signed, after, what = approvals.reject(committed, book, _rules(rules), group, name, why)
    write_pair(signed, policy, book, after, path)
    say(f"{what} rejected by {name}; {policy} and {path} written")


@app.command()
@fails_cleanly
def diff(
    old: Annotated[Path, typer.Argument(help="The policy before.")],
    new: Annotated[Path, typer.Argument(help="The policy after.")],
    output_format: Annotated[
        DiffFormat, typer.Option("--format", help="table, markdown (pull request body) or json.")
    ] = DiffFormat.table,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 1 when any level differs (as git diff does)."),
    ] = False,
) -> None:
    """What changed between two policies, with the reasons.

    Examples:

    \b
      trustctl diff old.yaml policy.yaml
      trustctl diff old.yaml policy.yaml --format markdown
      trustctl diff policy.yaml policy.yaml --exit-code
    """
    from trustctl import formats
    from trustctl.diff import diff_policies
    from trustctl.policy import load_policy

    before, after = load_policy(old), load_policy(new)
    changes = formats.Changes(diff_policies(before, after), before, after, str(new))
    console = out()
    sys.stdout.write(formats.DIFF[output_format.value](changes, console))
    if exit_code and changes.changes:
        raise typer.Exit(EXIT_DRIFT)


@app.command()
@fails_cleanly
def explain(
    action_class: Annotated[str, typer.Argument(help="The action class, e.g. k8s.rollback.")],
    logs: Logs,
    rules: RulesOption = None,
    previous: PreviousOption = None,
    as_of: AsOfOption = None,
    sets: SetOption = None,
    where: WhereOption = None,
    ledger: LedgerOption = None,
) -> None:
    """The full reasoning for one action class: evidence, gates, caps, pins, next step, history.

    Examples:

    \b
      trustctl explain k8s.scale sample_data/
      trustctl explain cert.renew sample_data/ --previous old.yaml
    """
    from trustctl import render
    from trustctl.explain import explain as explain_class
    from trustctl.ledger import group_key
    from trustctl.pair import ledger_paths, open_ledger
    from trustctl.record import run

    _class_first(action_class, logs)
    loaded = _rules(rules, sets)
    source = _logs(logs, BadRows.fail, False, where)
    committed = _policy(previous)
    book = open_ledger(committed, previous, ledger_paths(previous, None, ledger)[0])
    done = run(source, loaded, book, committed, _as_of(as_of))
    result = replace(done.evaluation, verdicts=tuple(o.verdict for o in done.outcomes))
    group_by = loaded.rules.group_by
    console = out()
    for item in explain_class(result, action_class, loaded.rules.window_span):
        render.print_explanation(console, item, group_by)
        key = item.verdict.state.key
        history = [e for e in done.ledger.entries if group_key(group_by, e.group) == key]
        if history:
            console.print(render.history_table(history))


def _class_first(action_class: str, logs: list[Path]) -> None:
    """Refuse ``explain LOGS CLASS``: the first argument a path, a later one not."""
    from trustctl.errors import TrustctlError

    missing = [path for path in logs if not path.exists()]
    if missing and Path(action_class).exists():
        raise TrustctlError(
            f"{action_class} is a path and {missing[0]} is not: arguments swapped? "
            f"The action class comes first: trustctl explain {missing[0]} {action_class}"
        )


@app.command()
@fails_cleanly
def validate(
    logs: Annotated[
        list[Path] | None, typer.Argument(help="Decision-log files or directories to check.")
    ] = None,
    rules: RulesOption = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="A policy file to check.")] = None,
) -> None:
    """Check logs, rules and a policy file without computing anything; exit 0 or 2.

    Examples:

    \b
      trustctl validate sample_data/ --rules policies/rules.yaml --policy policy.yaml
    """
    from trustctl.ingest import load_decisions
    from trustctl.policy import load_policy

    loaded = _rules(rules)
    say(f"rules: ok ({loaded.path or 'built-in defaults'})")
    if policy is not None:
        document = load_policy(policy)
        say(f"policy: ok ({policy}, {len(document.actions)} groups)")
    if logs:
        report = load_decisions(logs).report
        say(
            f"logs: ok ({len(report.files)} file(s), {report.rows} rows, "
            f"{report.decisions} decisions)"
        )


@app.command()
@fails_cleanly
def aggregate(
    logs: Logs,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The evidence file to write (Parquet).")
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Leave out rows recorded after this ISO-8601 time (for time travel later).",
        ),
    ] = None,
    on_bad_rows: OnBadRowsOption = BadRows.fail,
    low_memory: LowMemoryOption = False,
) -> None:
    """Write the evidence of some logs (counts per group and UTC day) for `generate --evidence`.

    Examples:

    \b
      trustctl aggregate sample_data/ -o evidence.parquet
      trustctl generate --evidence evidence.parquet --format table
    """
    from trustctl import evidence_files

    _refuse_overwrites([output], logs)
    until = _as_of(as_of)
    read = _logs(logs, on_bad_rows, low_memory).read(until)
    evidence_files.write(output, read.segments, read.report, until)
    say(
        f"wrote {len(read.segments)} evidence rows ({read.report.decisions} decisions, "
        f"{read.report.rows} rows) to {output}"
    )


class Dialect(str, Enum):
    """SQL dialects ``trustctl sql`` writes."""

    duckdb = "duckdb"
    spark = "spark"
    bigquery = "bigquery"
    postgres = "postgres"


@app.command()
@fails_cleanly
def sql(
    dialect: Annotated[
        Dialect, typer.Option("--dialect", help="duckdb, spark, bigquery or postgres.")
    ],
    table: Annotated[str, typer.Option("--table", help="The table of raw decision-log rows.")],
) -> None:
    """Print the query that computes the evidence table inside a warehouse or Spark.

    Examples:

    \b
      trustctl sql --dialect duckdb --table decisions
      trustctl sql --dialect bigquery --table project.ops.decisions
    """
    from trustctl.errors import TrustctlError
    from trustctl.sql import render

    try:
        sys.stdout.write(render(dialect.value, table))
    except ValueError as exc:
        raise TrustctlError(str(exc)) from None


@app.command()
@fails_cleanly
def sample(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write into.")],
    decisions: Annotated[
        int | None,
        typer.Option(
            "--decisions",
            min=1,
            max=100_000_000,
            help="How many decisions to generate (about, with --start or --days). "
            "Default: 6000 over 180 days, or that rate's end in a window.",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed (same seed, same bytes).")
    ] = 7,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="The window's first day (ISO-8601): a log that follows an earlier one. "
            "Default: 180 days (or --days) before 2026-11-20, where the shipped sample starts.",
        ),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help="How many days the log covers. Default: 7 with --start."),
    ] = None,
    id_prefix: Annotated[
        str, typer.Option("--id-prefix", help="Decision ids start with this (e.g. w48-).")
    ] = "d-",
) -> None:
    """Write a realistic synthetic decision log (decisions.csv) into a directory.

    Examples:

    \b
      trustctl sample -o logs/w47
      trustctl sample -o logs/w48 --start 2026-11-20 --days 7 --id-prefix w48- --seed 48
    """
    from trustctl.sample import write_sample

    if start is None and days is None and id_prefix == "d-":
        path = write_sample(output, decisions=decisions or 6000, seed=seed)
        say(f"wrote {decisions or 6000} decisions to {path}")
        return
    from trustctl.errors import TrustctlError
    from trustctl.sample import DEFAULT_END, SPAN_DAYS, write_frame
    from trustctl.sample_window import generate_window

    first = _as_of(start, "--start")
    if days is not None and not 1 <= days <= SPAN_DAYS:  # before any date arithmetic with it
        raise TrustctlError(f"--days: between 1 and {SPAN_DAYS}, got {days}")
    if days is None:
        days = SPAN_DAYS if first is None else 7
    if first is None:
        first = DEFAULT_END - dt.timedelta(days=days)
    frame = generate_window(decisions, seed, first, days, id_prefix)
    path = write_frame(output, frame)
    say(f"wrote {frame['decision_id'].nunique()} decisions to {path}")


class HistoryFormat(str, Enum):
    """What ``history`` prints."""

    table = "table"
    json = "json"
    csv = "csv"


@app.command()
@fails_cleanly
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
) -> None:
    """The policy at each step, each built on the step before, as a weekly job runs.

    Examples:

    \b
      trustctl history sample_data/
      trustctl history sample_data/ --every 14d --group k8s.scale --format csv
    """
    from trustctl import formats
    from trustctl.history import history as history_of
    from trustctl.history import pick_groups

    found = history_of(
        logs,
        _rules(rules, sets),
        every=_every(every),
        since=_as_of(since, "--since"),
        until=_as_of(until, "--until"),
        where=filters_of(where),
    )
    found = pick_groups(found, group or [])
    console = out()
    sys.stdout.write(formats.HISTORY[output_format.value](found, console))


class ReviewFormat(str, Enum):
    """What ``review`` writes."""

    html = "html"
    markdown = "markdown"


@app.command()
@fails_cleanly
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
) -> None:
    """The promotion review: a page with every group's verdict, trust over time and evidence.

    Examples:

      trustctl review sample_data/ -o review.html

      trustctl review sample_data/ --group k8s.scale -o review.md

      trustctl review sample_data/ --policy policy.yaml --format markdown
    """
    from trustctl import formats, review_pages
    from trustctl.files import write_atomically

    chosen = output_format or (
        ReviewFormat.html
        if output is not None and output.suffix.lower() in (".html", ".htm")
        else ReviewFormat.markdown
    )
    _refuse_overwrites([output], logs, rules, policy)
    request = review_pages.Request(
        logs=tuple(logs),
        rules=_rules(rules),
        policy=policy,
        previous=_policy(policy),
        as_of=_as_of(as_of),
        groups=tuple(group or ()),
        recent=recent,
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


@app.command()
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
        _rules(rules).rules,
        volumes=tuple(int(v.removesuffix("/week")) for v in volume) if volume else DEFAULT_VOLUMES,
        weeks=weeks,
        gates=tuple(g.value for g in gate) if gate else ("auto_notify", "full", "demote"),
        seed=seed,
    )
    sys.stdout.write(formats.OC[output_format.value](report, out()))


cli_weekly.register(app)


def main() -> None:
    """Run the command line; refuse to start with stdout closed (``>&-``)."""
    if sys.stdout is None:
        # Descriptor 1 is free: a file opened later would take it, and printing would write
        # into that file. Hold it with /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        if sys.stderr is not None:
            sys.stderr.write("error: <stdout>: closed; redirect it to a file or /dev/null\n")
        raise SystemExit(2)
    app()


from trustctl import cli_whatif as _cli_whatif  # noqa: E402  (registers `whatif` on the app)

__all__ += ["_cli_whatif"]
