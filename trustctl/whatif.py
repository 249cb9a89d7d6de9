"""What-if: the baseline and named scenarios (rules, filters, as_of) from one read of the logs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from trustctl import times
from trustctl.bands import Bands
from trustctl.cuts import reads_at
from trustctl.errors import TrustctlError
from trustctl.evaluate import Evaluation
from trustctl.filters import Filter, parse_filter
from trustctl.ingest import OnBadRows, load_timeline
from trustctl.inputs import DecisionsRead, Known, Logs, Read
from trustctl.ledger import Ledger
from trustctl.overrides import Override, apply_overrides, parse_override
from trustctl.record import run as run_on_ledger
from trustctl.record import settled
from trustctl.rules import LoadedRules, load_rules

__all__ = [
    "Outcome",
    "Scenario",
    "WhatIf",
    "parse_scenario",
    "scenario_rules",
    "sweep_scenarios",
    "whatif",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$")
_ITEM = re.compile(r",\s*(?=[A-Za-z_][A-Za-z0-9_.]*\s*=)")
"""Items split at a comma that starts the next ``KEY=``: ``in a,b,c`` stays whole."""


@dataclass(frozen=True)
class Scenario:
    """What one scenario changes relative to the baseline."""

    name: str
    overrides: tuple[Override, ...] = ()
    where: tuple[Filter, ...] = ()
    """Filters added to the baseline's."""
    as_of: dt.datetime | None = None
    rules_file: Path | None = None
    """``--scenario-rules NAME=FILE``: this file instead of the baseline's rules."""

    def changes(self) -> list[str]:
        """What it changes, as the header names it."""
        found = [] if self.rules_file is None else [f"rules={self.rules_file}"]
        found += [o.text for o in self.overrides]
        found += [f"where {f.text}" for f in self.where]
        if self.as_of is not None:
            found.append(f"as_of={times.stamp(self.as_of)}")
        return found


def _name(text: str, option: str) -> str:
    if not _NAME.match(text):
        raise TrustctlError(
            f"{option} {text!r}: a scenario name is 1-40 letters, digits, '.', '_', '+' or '-'"
        )
    if text == "baseline":
        raise TrustctlError(f"{option} {text!r}: 'baseline' names the run without changes")
    return text


def parse_scenario(text: str) -> Scenario:
    """``'strict: promote.auto_notify.agreement.threshold=0.97, where=service!=payments'``.

    Keys are dotted rules keys, ``where`` (a filter) and ``as_of`` (an instant).
    """
    option = "--scenario"
    name, sep, body = text.partition(":")
    if not sep or not body.strip():
        raise TrustctlError(f"{option} {text!r}: expected 'NAME: KEY=VALUE, KEY=VALUE'")
    overrides: list[Override] = []
    where: list[Filter] = []
    as_of = None
    for item in _ITEM.split(body.strip()):
        key, _, value = item.partition("=")
        if key.strip() == "where":
            where.append(parse_filter(value.strip(), f"{option} {name.strip()}: where"))
        elif key.strip() == "as_of":
            try:
                as_of = times.parse(value.strip())
            except ValueError as exc:
                raise TrustctlError(f"{option} {name.strip()}: as_of: {exc}") from None
        else:
            overrides.append(parse_override(item, f"{option} {name.strip()}:"))
    return Scenario(_name(name.strip(), option), tuple(overrides), tuple(where), as_of)


def scenario_rules(scenarios: Sequence[Scenario], given: Sequence[str]) -> list[Scenario]:
    """The scenarios with each ``--scenario-rules NAME=FILE`` joined to its name (or added)."""
    found = {s.name: s for s in scenarios}
    if len(found) != len(scenarios):
        raise TrustctlError("--scenario: two scenarios have the same name")
    for text in given:
        name, sep, path = text.partition("=")
        if not sep or not path:
            raise TrustctlError(f"--scenario-rules {text!r}: expected NAME=FILE")
        name = _name(name.strip(), "--scenario-rules")
        base = found.get(name, Scenario(name))
        found[name] = Scenario(name, base.overrides, base.where, base.as_of, Path(path))
    return list(found.values())


_UNIT = re.compile(r"^(.*?)([smhdw]?)$")
"""A sweep bound: a number, and for a duration its unit (``30d``)."""


def _number(text: str, what: str) -> tuple[Decimal, str]:
    match = _UNIT.match(text)
    number, unit = match.groups() if match else (text, "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise TrustctlError(f"--sweep: {what} {text!r} is not a number or a duration") from None
    if unit and value != value.to_integral_value():
        raise TrustctlError(f"--sweep: {what} {text!r}: a duration is a whole number of {unit}")
    return value, unit


def sweep_scenarios(text: str, limit: int = 200) -> list[Scenario]:
    """``KEY=FROM:TO:STEP`` as one scenario per value, named by it, FROM and TO included.

    Numbers (``0.90:0.99:0.01``) or durations in one unit (``window=30d:180d:30d``).
    """
    key, sep, span = text.partition("=")
    parts = span.split(":")
    if not sep or len(parts) != 3:
        raise TrustctlError(
            f"--sweep {text!r}: expected KEY=FROM:TO:STEP, e.g. window=30d:180d:30d"
        )
    (start, unit), (stop, to_unit), (step, step_unit) = (
        _number(p.strip(), w) for p, w in zip(parts, ("FROM", "TO", "STEP"), strict=True)
    )
    if len({unit, to_unit, step_unit}) != 1:
        raise TrustctlError(f"--sweep {text!r}: FROM, TO and STEP need the same unit")
    if step <= 0 or stop < start:
        raise TrustctlError(f"--sweep {text!r}: needs FROM <= TO and STEP > 0")
    count = int((stop - start) / step) + 1
    if count > limit:
        raise TrustctlError(f"--sweep {text!r}: {count} values; at most {limit}")
    values = [f"{start + i * step}{unit}" for i in range(count)]
    return [Scenario(v, (parse_override(f"{key.strip()}={v}", "--sweep"),)) for v in values]


@dataclass(frozen=True)
class Outcome:
    """One scenario (or the baseline) evaluated."""

    scenario: Scenario
    rules: LoadedRules
    evaluation: Evaluation


@dataclass(frozen=True)
class WhatIf:
    """The baseline and every scenario, and how groups are named."""

    baseline: Outcome
    scenarios: tuple[Outcome, ...]
    group_by: tuple[str, ...]
    reads: int
    """How many times the logs were read (1 unless a scenario's as_of needed its own read)."""


class _Reads:
    """The logs read once; each (filters, as_of) turned into segments once."""

    def __init__(self, paths: Sequence[Path], on_bad_rows: OnBadRows, as_of: dt.datetime | None):
        self.paths = paths
        self.on_bad_rows = on_bad_rows
        self.as_of = as_of
        self.decisions = load_timeline(paths, on_bad_rows, until=as_of)
        self.count = 1
        self._done: dict[tuple[tuple[str, ...], dt.datetime | None, Bands], Read] = {}

    def read(self, where: tuple[Filter, ...], as_of: dt.datetime | None, bands: Bands) -> Read:
        key = (tuple(f.text for f in where), as_of, bands)
        if key not in self._done:
            if as_of is None or as_of == self.as_of:
                self._done[key] = DecisionsRead(self.decisions, where=where).read(as_of, bands)
            elif self.as_of is None or as_of < self.as_of:  # the rows up to then are read
                self._done[key] = next(reads_at(self.decisions, [as_of], where, bands))
            else:
                self.count += 1
                source = Logs(self.paths, self.on_bad_rows, where=where)
                self._done[key] = source.read(as_of, bands)
        return self._done[key]


def same_groups(name: str, baseline: LoadedRules, scenario: LoadedRules) -> None:
    """Refuse a scenario whose groups are not the baseline's: their cells could not be set
    side by side."""
    was, now = baseline.rules.key_fields, scenario.rules.key_fields
    if was != now or baseline.rules.bands != scenario.rules.bands:
        raise TrustctlError(
            f"--scenario {name}: its groups are not the baseline's (group_by {list(now)}, "
            f"confidence_bands {list(scenario.rules.confidence_bands)}; the baseline's "
            f"{list(was)}, {list(baseline.rules.confidence_bands)}): change group_by or "
            "confidence_bands for every scenario with --set or --rules instead"
        )


def whatif(
    paths: Sequence[Path],
    rules: LoadedRules,
    scenarios: Sequence[Scenario],
    *,
    where: Sequence[Filter] = (),
    as_of: dt.datetime | None = None,
    on_bad_rows: OnBadRows = "fail",
) -> WhatIf:
    """Evaluate the baseline (``rules``, ``where``, ``as_of``) and each scenario on it.

    The logs are read once; scenarios that share filters and ``as_of`` share the evidence
    segments, so each costs one evaluation (days × groups), not a read.
    """
    reads = _Reads(paths, on_bad_rows, as_of)
    base = tuple(where)

    def run(scenario: Scenario, loaded: LoadedRules) -> Outcome:
        moment = scenario.as_of or as_of
        read = reads.read(base + scenario.where, moment, loaded.rules.bands)
        done = run_on_ledger(Known(read), loaded, Ledger(Path("whatif.ledger.jsonl")), None, moment)
        return Outcome(scenario, loaded, settled(done))

    baseline = run(Scenario("baseline"), rules)
    outcomes = []
    for scenario in scenarios:
        start = rules if scenario.rules_file is None else load_rules(scenario.rules_file)
        loaded = apply_overrides(start, scenario.overrides, f"--scenario {scenario.name}:")
        same_groups(scenario.name, rules, loaded)
        outcomes.append(run(scenario, loaded))
    return WhatIf(baseline, tuple(outcomes), rules.rules.key_fields, reads.count)
