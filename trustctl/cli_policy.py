"""The policy commands: ``generate``, ``check``, ``diff`` and ``validate``."""

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import EXIT_DRIFT, fails_cleanly, out, say
from trustctl.cli_options import (
    AsOfOption,
    BadRows,
    LedgerOption,
    Logs,
    LowMemoryOption,
    OnBadRowsOption,
    PreviousOption,
    RulesOption,
    SetOption,
    WhereOption,
    WideOption,
    filters_of,
    instant,
    log_source,
    policy_or_none,
    reading_notes,
    reading_progress,
    refuse_overwrites,
    rules_with,
    stdin_logs,
)

__all__ = [
    "CheckFormat",
    "DiffFormat",
    "OutputFormat",
    "SortOrder",
    "check",
    "diff",
    "generate",
    "validate",
]


class OutputFormat(str, Enum):
    """What ``generate`` prints on stdout."""

    yaml = "yaml"
    json = "json"
    table = "table"
    markdown = "markdown"
    csv = "csv"


class SortOrder(str, Enum):
    """The order of ``generate``'s rows (table, markdown, csv, json)."""

    name = "name"
    next = "next"
    level = "level"


class DiffFormat(str, Enum):
    """What ``diff`` prints."""

    table = "table"
    markdown = "markdown"
    json = "json"


class CheckFormat(str, Enum):
    """What ``check`` prints."""

    text = "text"
    json = "json"
    markdown = "markdown"


@fails_cleanly
@stdin_logs
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
            help="What to print: yaml, json, table, markdown, csv. Default: yaml, or table "
            "with -o.",
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
    wide: WideOption = False,
    sort: Annotated[
        SortOrder,
        typer.Option(
            "--sort",
            help="Order of the rows of the table, markdown, csv and json: name (the group), "
            "level (highest first) or next (closest to the next level first). The policy "
            "file (-o, or yaml) keeps its order.",
        ),
    ] = SortOrder.name,
) -> None:
    """Compute the autonomy policy from decision logs (the main job).

    Examples:

    \b
      trustctl generate sample_data/ -o policy.yaml
      trustctl generate sample_data/ --as-of 2026-09-30 -o old.yaml
      trustctl generate sample_data/ -o candidate.yaml
      trustctl generate sample_data/ --previous policy.yaml --format markdown
      trustctl generate sample_data/ --format csv
      trustctl generate sample_data/ --format table --sort next
    """
    from trustctl import formats
    from trustctl.errors import TrustctlError
    from trustctl.files import write_atomically
    from trustctl.ingest.log_source import StdinLog
    from trustctl.inputs import EvidenceFiles
    from trustctl.pair import by_rerunning, ledger_paths, open_ledger, write_pair
    from trustctl.record import run, settled

    if bad_rows_out is not None and on_bad_rows is not BadRows.skip:
        raise TrustctlError("--bad-rows-out needs --on-bad-rows skip")
    if evidence and any(isinstance(path, StdinLog) for path in logs):
        raise TrustctlError("--evidence reads evidence files; - (standard input) is for logs")
    if evidence and (on_bad_rows is not BadRows.fail or low_memory):
        raise TrustctlError(
            "--on-bad-rows and --low-memory apply to logs; evidence files were checked when built"
        )
    # -o may name the --previous policy: replacing it with its successor is the weekly run.
    read_from, write_to = ledger_paths(previous, output, ledger)
    refuse_overwrites([output, bad_rows_out, write_to], logs, rules, evidence=evidence)
    refuse_overwrites([bad_rows_out, write_to], [], previous)
    loaded = rules_with(rules, sets)
    source = (
        EvidenceFiles(logs, where=filters_of(where))
        if evidence
        else log_source(logs, on_bad_rows, low_memory, where)
    )
    committed = policy_or_none(previous)
    book = open_ledger(
        committed,
        previous,
        read_from,
        confirm=by_rerunning(source, loaded, committed),
    )
    with reading_progress([] if evidence else logs):
        done = run(source, loaded, book, committed, instant(as_of))
    if done.mismatches and write_to is not None:
        raise TrustctlError(
            f"{book.path}: {done.mismatches[0]}; the ledger records another run as of "
            "this moment: pass a later --as-of"
        )
    result = settled(done, done.ledger.head if write_to is not None else None)
    final = result.document
    reading_notes(result.report)
    # Every text is ready before any file is written, and the policy and its ledger go
    # first: a policy that cannot be written leaves no bad-rows file behind, as if the run
    # had not happened. If only the bad-rows file fails, the run exits 2 naming it; the
    # policy written is complete and counts the skipped rows in its metadata.
    if output is not None and write_to is not None:
        write_pair(final, output, book, done.ledger, write_to)
    if bad_rows_out is not None:
        write_atomically(bad_rows_out, formats.bad_rows_jsonl(result.bad_rows))
    chosen = output_format or (OutputFormat.table if output else OutputFormat.yaml)
    console = out(wide)
    shown = formats.Generated(result, output, wide, sort.value)
    sys.stdout.write(formats.GENERATE[chosen.value](shown, console))


@fails_cleanly
@stdin_logs
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

    loaded = rules_with(rules, sets)
    source = log_source(logs, BadRows.fail, low_memory, where)
    committed = load_policy(policy)
    book = read(ledger or default_ledger(policy))
    found = audit.check(source, loaded, committed, policy, book, instant(as_of))
    checked = formats.Checked(policy, book.path, len(committed.actions), len(book.entries), found)
    sys.stdout.write(formats.CHECK[output_format.value](checked, out()))
    if found:
        raise typer.Exit(EXIT_DRIFT)


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
    wide: WideOption = False,
) -> None:
    """What changed between two policies, with the reasons.

    Examples:

    \b
      trustctl diff old.yaml policy.yaml
      trustctl diff old.yaml policy.yaml --format markdown
      trustctl diff policy.yaml policy.yaml --exit-code
      trustctl diff old.yaml policy.yaml --wide
    """
    from trustctl import formats
    from trustctl.diff import diff_policies
    from trustctl.policy import load_policy

    before, after = load_policy(old), load_policy(new)
    changes = formats.Changes(diff_policies(before, after), before, after, str(new))
    console = out(wide)
    sys.stdout.write(formats.DIFF[output_format.value](changes, console))
    if exit_code and changes.changes:
        raise typer.Exit(EXIT_DRIFT)


@fails_cleanly
@stdin_logs
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
    from trustctl.pair import check_pair
    from trustctl.policy import load_policy

    loaded = rules_with(rules)
    say(f"rules: ok ({loaded.path or 'built-in defaults'})")
    if policy is not None:
        document = load_policy(policy)
        book = check_pair(document, policy)
        say(f"policy: ok ({policy}, {len(document.actions)} groups)")
        if book is not None:
            say(f"ledger: ok ({book.path}, {len(book.entries)} entries, the policy's head)")
    if logs:
        report = load_decisions(logs).report
        say(
            f"logs: ok ({len(report.files)} file(s), {report.rows} rows, "
            f"{report.decisions} decisions)"
        )
