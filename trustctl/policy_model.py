"""The policy document (``trustctl/v1``, kind ``AutonomyPolicy``) as one typed, frozen model.

``trustctl.policy`` builds it from verdicts, writes it and reads it back; ``--previous``,
``check``, ``diff``, ``validate`` and the renderers use these fields, never string keys.
A file written by trustctl fills every field; one written by hand needs only
``metadata.as_of`` and each action's ``action_class`` and ``level`` (the rest default to
``None``). Unknown keys inside ``metadata`` and actions are ignored, so files written by
later versions stay readable; unknown top-level keys are refused.

Fields are listed in the order they are written. To add one: give it a default (older
files lack it), write it in ``trustctl.policy``'s serializer, and document it here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

from trustctl import times
from trustctl.evidence import GroupKey, PriorState
from trustctl.levels import Change, Level
from trustctl.rules import GroupField

__all__ = [
    "GROUP_FIELDS",
    "Action",
    "ActionEvidence",
    "AgreementEvidence",
    "BoundsSettings",
    "CapEntry",
    "Change",
    "DemotionRecord",
    "IngestCounts",
    "InputFile",
    "LedgerHead",
    "Metadata",
    "NextStep",
    "PinEntry",
    "Policy",
    "ProposalEntry",
    "RulesFile",
    "SuccessEvidence",
    "Summary",
]
GROUP_FIELDS: tuple[str, ...] = (*get_args(GroupField), "confidence")
"""The names ``metadata.group_by`` may list, each a field of ``Action``: the rules'
``group_by``, then ``confidence`` with ``confidence_bands``."""


class _Part(BaseModel):
    """A part of the document: frozen, unknown keys ignored, numbers read as text where
    text is expected (``service: 123``)."""

    model_config = ConfigDict(
        frozen=True, extra="ignore", coerce_numbers_to_str=True, allow_inf_nan=False
    )


Instant = Annotated[dt.datetime, BeforeValidator(times.instant)]
"""An instant as ``times.instant`` reads it: ISO-8601 in the years allowed, aware, UTC."""
MaybeInstant = Annotated[dt.datetime | None, BeforeValidator(times.instant_or_none)]
Start = Annotated[dt.datetime, BeforeValidator(times.utc_instant)]
"""Where evidence is counted from: a window's start may lie a century before ``as_of``."""


class RulesFile(_Part):
    """The rules the policy was computed with."""

    path: str | None = None
    """As given with ``--rules``; ``None`` for the built-in rules."""
    sha256: str | None = None
    """Hash of the rules file's bytes (of the built-in rules' canonical text without one)."""
    overrides: tuple[str, ...] = ()
    """``--set KEY=VALUE`` laid over the file, in order; written only when given."""
    effective_sha256: str | None = None
    """With overrides: the sha256 of the rules in effect, as canonical JSON."""


class BoundsSettings(_Part):
    """The rules' ``bounds`` block, repeated for readers of the policy."""

    method: str
    confidence: float
    prior: tuple[float, float]
    demotion_method: str | None = None
    """``bounds.demotion_method`` when the rules give one; written only then."""


class InputFile(_Part):
    """One decision-log file read (or one source of the evidence files)."""

    path: str
    sha256: str
    rows: int
    decisions: int


class IngestCounts(_Part):
    """What reading the logs counted."""

    rows: int
    decisions: int
    after_as_of: int
    """Decisions left out because they were recorded after ``as_of``."""
    naive_timestamps: int
    """Timestamps without a zone, read as UTC."""
    skipped_decisions: int
    """Decisions left out with ``--on-bad-rows skip``."""
    skipped_rows: int


class Summary(_Part):
    """How many groups there are, by change."""

    groups: int
    promoted: int
    demoted: int
    unchanged: int
    new: int
    proposed: int = 0
    """Promotions waiting for a person's sign-off."""


class LedgerHead(_Part):
    """The last entry of the ledger written with the policy (``trustctl.ledger``)."""

    seq: int
    hash: str


class Metadata(_Part):
    """When, from what and how the policy was computed."""

    as_of: Instant
    """The moment the policy is for (aware, UTC; naive read as UTC)."""
    generator: str | None = None
    """``trustctl <version>``."""
    rules: RulesFile | None = None
    bounds: BoundsSettings | None = None
    group_by: tuple[str, ...] = ("action_class",)
    """What a group is: ``action_class``, then any of ``system_tier``, ``service``,
    ``agent_version``, and last ``confidence`` when the rules split groups into
    ``confidence_bands``."""
    inputs: tuple[InputFile, ...] = ()
    ingest: IngestCounts | None = None
    filters: tuple[str, ...] = ()
    """``--where`` expressions every decision counted met; written only when given."""
    summary: Summary | None = None
    ledger: LedgerHead | None = None
    """The ledger's head when the policy was written with it; ``None`` without a ledger."""


class AgreementEvidence(_Part):
    """Agreement on the promotion evidence: how often humans approved what was proposed."""

    agreed: int
    reviewed: int
    timeouts: int
    """Reviews that timed out: neither agreement nor disagreement."""
    rate: float | None
    """``agreed / reviewed`` to 6 places, ``None`` with no review."""
    mean: float
    """Posterior mean under the rules' prior, to 6 places."""
    lower: float
    """Lower bound, rounded down to 6 places (never above the exact bound)."""
    upper: float
    """Upper bound, rounded up to 6 places."""
    threshold: float | None
    """The agreement threshold of the next promotion (of the level itself at the top)."""
    p_at_least_threshold: float | None
    """``P(agreement >= threshold)`` under the Beta posterior, to 6 places."""
    not_sampled: int = 0
    """Reviews left out: of decisions made at ``auto_notify`` or ``full`` that
    ``review_sampled`` says were not of the audit sample; written only when some are."""


class SuccessEvidence(_Part):
    """Success on the promotion evidence: outcomes of executed actions."""

    succeeded: int
    verified: int
    unverified: int
    """Executed actions with no verified outcome."""
    executed: int
    rate: float | None
    mean: float
    lower: float
    upper: float


class DemotionRecord(_Part):
    """The record the demotion checks judge: at the current level since its last change."""

    counted_from: Start
    counted_from_reason: str
    agreed: int
    reviewed: int
    agreement_upper: float
    """Upper bound of agreement, rounded up to 6 places."""
    succeeded: int
    verified: int
    success_upper: float
    not_sampled: int = 0
    """As ``AgreementEvidence.not_sampled``, for this record; written only when some are."""
    recent: DemotionRecord | None = None
    """With ``demote.recent``: the record's last days, which the checks judge too."""


class ActionEvidence(_Part):
    """The counts and bounds behind an action's level."""

    decisions: int
    counted_from: Start
    """Midnight UTC of the first day the promotion evidence counts."""
    counted_from_reason: str
    """What started the clock: the window's start or an event (``last demotion``, ...)."""
    agreement: AgreementEvidence
    success: SuccessEvidence
    critical_failures: int
    """Critical failures in the window (counted or not)."""
    last_critical_failure: MaybeInstant
    for_demotion: DemotionRecord


class CapEntry(_Part):
    """The highest level the tiers allow."""

    level: Level
    by: str | None
    """What sets it (``cap:risk_tier=2``, ``cap:system_tier=4``); ``None`` below ``full``."""


class PinEntry(_Part):
    """A pin of the rules that matches the group, active or expired."""

    level: Level
    owner: str
    reason: str
    expires: MaybeInstant
    active: bool


class ProposalEntry(_Part):
    """A promotion the evidence earned, waiting for a person's sign-off."""

    level: Level
    since: Instant
    """When it was proposed."""
    reason: str
    expires: MaybeInstant
    """When it lapses unless approved (``approval.expires`` after ``since``)."""


class NextStep(_Part):
    """What the next promotion needs."""

    level: Level | None
    """The next level up, ``None`` when none can be reached (top, cap, pin)."""
    needs: str
    clean_decisions_needed: int | None
    """The fewest further clean decisions that pass the gates, when that is the question."""


class Action(_Part):
    """One group's level and why."""

    action_class: str
    system_tier: Annotated[int, Strict(), Field(ge=1, le=4)] | None = None
    """Group key parts beyond ``action_class`` (``None`` when not in ``group_by`` or not
    given); written only when ``metadata.group_by`` names them, in its order."""
    service: str | None = None
    agent_version: str | None = None
    confidence: str | None = None
    """With ``confidence_bands``: the band of ``ai_confidence`` (``<0.9``, ``>=0.9``, or
    ``none`` for decisions without one) whose decisions this level is for."""
    level: Level
    previous_level: Level | None = None
    """The level before this run (the previous policy's, else the log's)."""
    change: Change | None = None
    limited_by: str | None = None
    """What holds the level down: a cap, ``insufficient_data``, ``cooldown`` or ``pin``."""
    since: MaybeInstant = None
    """When the group reached its level, as far as known."""
    last_promoted: MaybeInstant = None
    last_demoted: MaybeInstant = None
    reason: str | None = None
    """Why, in one line of English."""
    agreement_sampling: Literal["unknown"] | None = None
    """``unknown`` when agreement counts reviews of decisions made at ``auto_notify`` or
    ``full`` that ``review_sampled`` says nothing about (they may be a biased choice);
    written only then."""
    evidence: ActionEvidence | None = None
    cap: CapEntry | None = None
    pin: PinEntry | None = None
    """Present only when a pin matches the group."""
    proposed: ProposalEntry | None = None
    """Present only while a promotion waits for sign-off (``approval.required_for``)."""
    next: NextStep | None = None

    def part(self, name: str) -> str | int | None:
        """The group key part ``name`` (one of ``GROUP_FIELDS``; ``None`` for any other)."""
        if name == "action_class":
            return self.action_class
        if name == "system_tier":
            return self.system_tier
        if name == "service":
            return self.service
        if name == "agent_version":
            return self.agent_version
        if name == "confidence":
            return self.confidence
        return None


class Policy(BaseModel):
    """An autonomy policy: every group's level, with its reasons and evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    apiVersion: Literal["trustctl/v1"]
    kind: Literal["AutonomyPolicy"]
    metadata: Metadata
    actions: tuple[Action, ...]

    @model_validator(mode="after")
    def _one_entry_per_group(self) -> Policy:
        seen: dict[GroupKey, int] = {}
        for index, action in enumerate(self.actions):
            first = seen.setdefault(self.key_of(action), index)
            if first != index:
                raise ValueError(
                    f"actions.{index}: the group of actions.{first} ({action.action_class}) "
                    "appears twice; a group has one level"
                )
        return self

    def key_of(self, action: Action) -> GroupKey:
        """The group key of an entry under this policy's ``group_by`` (tiers as int, 0 and
        ``""`` for parts not given)."""
        parts: list[str | int] = []
        for name in self.metadata.group_by:
            value = action.part(name)
            if name == "system_tier":
                parts.append(int(value) if value is not None else 0)
            else:
                parts.append("" if value is None else str(value))
        return tuple(parts)

    def by_key(self) -> dict[GroupKey, Action]:
        """Entries keyed by group."""
        return {self.key_of(a): a for a in self.actions}

    def prior_states(self) -> dict[GroupKey, PriorState]:
        """What ``generate --previous`` needs from each entry."""
        return {
            key: PriorState(
                level=a.level,
                since=a.since,
                last_promoted=a.last_promoted,
                last_demoted=a.last_demoted,
                cap=None if a.cap is None or a.cap.by is None else (a.cap.level, a.cap.by),
            )
            for key, a in self.by_key().items()
        }
