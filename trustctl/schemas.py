"""JSON Schemas of trustctl's files, generated from the models that read them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa

__all__ = ["NAMES", "SCHEMA_URL", "schema", "schema_text"]

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"

_WHAT = {
    "rules": "A trustctl rules file (kind TrustRules), as --rules reads it.",
    "policy": "A trustctl policy file (kind AutonomyPolicy), YAML or JSON.",
    "ledger": "One line of a trustctl ledger (JSON Lines): one level-change event.",
    "evidence": "One row of a trustctl evidence file (Parquet), as `trustctl aggregate` writes.",
}
NAMES: tuple[str, ...] = tuple(_WHAT)
"""The schemas there are, in the order ``trustctl schema`` lists them."""


def _rules() -> dict[str, Any]:
    from trustctl.rules import TrustRules

    return TrustRules.model_json_schema()


def _policy() -> dict[str, Any]:
    from trustctl.policy_model import Policy

    return Policy.model_json_schema()


def _ledger() -> dict[str, Any]:
    from trustctl.ledger import Entry

    return Entry.model_json_schema()


def _evidence() -> dict[str, Any]:
    from trustctl.segments import BANDED_SCHEMA, SCHEMA

    # ``confidence`` (a band's name) only in files split into confidence bands.
    return {
        "type": "object",
        "properties": {field.name: _column(field) for field in BANDED_SCHEMA},
        "required": [field.name for field in SCHEMA if not field.nullable],
        "additionalProperties": False,
    }


def _column(field: pa.Field) -> dict[str, Any]:
    """A Parquet column's values as JSON: integers, text, dates and instants as text."""
    kind: dict[str, Any]
    if pa.types.is_integer(field.type):
        kind = {"type": "integer"}
    elif pa.types.is_date(field.type):
        kind = {"type": "string", "format": "date"}
    elif pa.types.is_timestamp(field.type):
        kind = {"type": "string", "format": "date-time"}
    else:
        kind = {"type": "string"}
    if field.nullable:
        kind["type"] = [kind["type"], "null"]
    return kind


_BUILDERS: dict[str, Callable[[], dict[str, Any]]] = {
    "rules": _rules,
    "policy": _policy,
    "ledger": _ledger,
    "evidence": _evidence,
}


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) called ``name`` (one of ``NAMES``)."""
    body = _BUILDERS[name]()
    body.pop("description", None)
    return {
        "$schema": SCHEMA_URL,
        "title": body.pop("title", name),
        "description": _WHAT[name],
        **body,
    }


def schema_text(name: str) -> str:
    """``schema(name)`` as the text committed under ``schemas/``: indented JSON, a newline."""
    return json.dumps(schema(name), indent=2, ensure_ascii=False) + "\n"
