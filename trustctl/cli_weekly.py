"""The commands for the weekly job and the tools around it: ``update`` and ``schema``."""

import json
import sys
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import EXIT_DRIFT, fails_cleanly, out, say
from trustctl.cli_options import instant, refuse_overwrites, rules_with, stdin_logs

__all__ = ["SchemaName", "schema", "update"]


class SchemaName(str, Enum):
    """The files ``trustctl schema`` describes."""

    rules = "rules"
    policy = "policy"
    ledger = "ledger"
    evidence = "evidence"


@fails_cleanly
def schema(
    name: Annotated[SchemaName, typer.Argument(help="rules, policy, ledger or evidence.")],
) -> None:
    """Print the JSON Schema of a trustctl file, generated from the model that reads it.

    The same schemas are in the repository's schemas/ directory, for editors and CI.

    Examples:

    \b
      trustctl schema rules
      trustctl schema policy > policy.schema.json
    """
    from trustctl.schemas import schema_text

    sys.stdout.write(schema_text(name.value))


@fails_cleanly
@stdin_logs
def update(
    logs: Annotated[
        list[Path],
        typer.Argument(help="Decision-log files or directories (*.csv, *.jsonl, *.parquet, *.gz)."),
    ],
    policy: Annotated[
        Path,
        typer.Option("--policy", help="The committed policy: the start, and what is rewritten."),
    ],
    rules: Annotated[
        Path | None, typer.Option("--rules", help="Rules file. Default: the built-in rules.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Decide as of this ISO-8601 time. Default: the latest row."),
    ] = None,
    pr_body: Annotated[
        Path | None,
        typer.Option("--pr-body", help="Write the pull request's body here (markdown)."),
    ] = None,
    summary_json: Annotated[
        Path | None,
        typer.Option(
            "--summary-json", help="Write the run as JSON here (changed, title, changes)."
        ),
    ] = None,
) -> None:
    """The weekly job in one step: exit 1 and rewrite the policy only when a level changes.

    Recomputes with the committed policy and its ledger as the starting point. When any
    group's level changes, or a promotion begins or stops waiting for sign-off, the policy
    is rewritten with its ledger (atomically) and the exit code is 1: open a pull request
    with --pr-body. When none does, no file is touched and the exit code is 0, however much
    new evidence came in. 2 on bad input. `check` stays the read-only guard.

    Examples:

    \b
      trustctl update sample_data/ --policy policy.yaml
      trustctl update sample_data/ --policy policy.yaml --pr-body body.md --summary-json run.json
    """
    from trustctl.errors import PolicyError
    from trustctl.explain import explain
    from trustctl.files import write_atomically
    from trustctl.ingest.log_source import STDIN, StdinLog
    from trustctl.inputs import DecisionLogs
    from trustctl.pair import by_rerunning, default_ledger, open_ledger, write_pair
    from trustctl.policy import load_policy
    from trustctl.record import run as run_on_ledger
    from trustctl.record import settled
    from trustctl.render import change_cell
    from trustctl.weekly import Update, hand_edits, summary, title
    from trustctl.weekly import pr_body as body_of

    refuse_overwrites([policy, pr_body, summary_json], logs, rules)
    old = load_policy(policy) if policy.exists() else None
    edited = hand_edits(old) if old is not None else []
    if edited:
        raise PolicyError("\n".join(f"{policy}: {line}" for line in edited))
    loaded = rules_with(rules)
    ledger_path = default_ledger(policy)
    source = DecisionLogs(logs, "fail")
    book = open_ledger(
        old,
        policy if old is not None else None,
        ledger_path,
        confirm=by_rerunning(source, loaded, old),
    )
    done = run_on_ledger(source, loaded, book, old, instant(as_of))
    result = settled(done, done.ledger.head)
    piped = next((path for path in logs if isinstance(path, StdinLog)), None)
    given = tuple(STDIN if path is piped else str(path) for path in logs)
    run = Update(old, result.document, given, str(policy), _text(rules))
    demoted = sorted({str(c.key[0]) for c in run.changes if c.kind == "demoted"})
    window = loaded.rules.window_span
    explained = tuple(item for name in demoted for item in explain(result, name, window))
    fmt = None if piped is None else piped.input_format
    run = replace(run, explanations=explained, stdin_format=fmt)
    writes: list[tuple[Path, str]] = []
    if run.changed:
        write_pair(result.document, policy, book, done.ledger, ledger_path)
    if pr_body is not None:
        writes.append((pr_body, body_of(run)))
    if summary_json is not None:
        writes.append((summary_json, json.dumps(summary(run), indent=2, ensure_ascii=False) + "\n"))
    for path, text in writes:
        write_atomically(path, text)
    if not run.changed:
        say(f"{policy}: no level changes ({len(result.verdicts)} groups); nothing rewritten")
        return
    say(f"{policy}: rewritten: {title(run).removeprefix('trustctl: ')}")
    console = out()
    for change in run.changes:
        line = f"  {change.label}: {change.old or '–'} → {change.new or '–'} ({change.kind})"
        console.print(change_cell(line, change.kind), soft_wrap=True)
    for proposal in run.proposals:
        line = f"  {proposal.label}: {proposal.level} ⇡ {proposal.proposed} ({proposal.kind})"
        console.print(change_cell(line, "proposed"), soft_wrap=True)
    raise typer.Exit(EXIT_DRIFT)


def _text(path: Path | None) -> str | None:
    return None if path is None else str(path)
