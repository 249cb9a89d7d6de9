"""The ``explain`` command: one action class's verdict, line by line, as text, markdown or JSON."""

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from trustctl._terminal import fails_cleanly, out
from trustctl.cli_options import (
    AsOfOption,
    LedgerOption,
    Logs,
    PreviousOption,
    RulesOption,
    SetOption,
    WhereOption,
    WideOption,
    filters_of,
    instant,
    policy_or_none,
    rules_with,
    stdin_logs,
)

__all__ = ["ExplainFormat", "explain"]


class ExplainFormat(str, Enum):
    """What ``explain`` prints."""

    text = "text"
    markdown = "markdown"
    json = "json"


@fails_cleanly
@stdin_logs
def explain(
    action_class: Annotated[str, typer.Argument(help="The action class, e.g. k8s.rollback.")],
    logs: Logs,
    rules: RulesOption = None,
    previous: PreviousOption = None,
    as_of: AsOfOption = None,
    sets: SetOption = None,
    where: WhereOption = None,
    ledger: LedgerOption = None,
    output_format: Annotated[
        ExplainFormat,
        typer.Option("--format", help="text, markdown (to paste into a review) or json."),
    ] = ExplainFormat.text,
    recent: Annotated[
        int,
        typer.Option("--recent", min=0, help="How many recent disagreements and failures to list."),
    ] = 10,
    wide: WideOption = False,
    confidence: Annotated[
        str | None,
        typer.Option(
            "--confidence",
            help="With confidence_bands: only this band of the class (e.g. '>=0.9', '<0.9', "
            "none). Default: every band.",
        ),
    ] = None,
) -> None:
    """The full reasoning for one action class: evidence, gates, caps, pins, next step, history.

    Disagreements in the window are rolled up by reviewer, rationale, service and agent
    version; each recent one says whether the current evidence counts it. Below 100
    columns the text shows key: value lines instead of tables (--wide: tables).

    Examples:

    \b
      trustctl explain k8s.scale sample_data/
      trustctl explain cert.renew sample_data/ --previous old.yaml
      trustctl explain k8s.rollback sample_data/ --recent 3 --format markdown
      trustctl explain k8s.scale sample_data/ --set 'confidence_bands=[0.9]' --confidence '>=0.9'
    """
    from trustctl import formats
    from trustctl.explain import explain as explain_class
    from trustctl.explain_formats import Explained, Group
    from trustctl.inputs import DecisionLogs
    from trustctl.ledger import group_key
    from trustctl.pair import by_rerunning, ledger_paths, open_ledger
    from trustctl.record import run, settled

    _class_first(action_class, logs)
    loaded = rules_with(rules, sets)
    source = DecisionLogs(logs, where=filters_of(where))
    committed = policy_or_none(previous)
    book = open_ledger(
        committed,
        previous,
        ledger_paths(previous, None, ledger)[0],
        confirm=by_rerunning(source, loaded, committed),
    )
    done = run(source, loaded, book, committed, instant(as_of))
    result = settled(done)
    group_by = loaded.rules.key_fields
    groups = tuple(
        Group(
            item,
            tuple(
                e
                for e in done.ledger.entries
                if group_key(group_by, e.group) == item.verdict.state.key
            ),
        )
        for item in explain_class(
            result, action_class, loaded.rules.window_span, recent, loaded.rules, confidence
        )
    )
    shown = Explained(groups, result.document, wide)
    sys.stdout.write(formats.EXPLAIN[output_format.value](shown, out(wide)))


def _class_first(action_class: str, logs: list[Path]) -> None:
    """Refuse ``explain LOGS CLASS``: the first argument a path, a later one not."""
    from trustctl.errors import TrustctlError

    missing = [path for path in logs if not path.exists()]
    if missing and Path(action_class).exists():
        raise TrustctlError(
            f"{action_class} is a path and {missing[0]} is not: arguments swapped? "
            f"The action class comes first: trustctl explain {missing[0]} {action_class}"
        )
