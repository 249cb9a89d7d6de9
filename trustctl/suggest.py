""" "Did you mean": the closest known names to a mistyped one (difflib)."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel

__all__ = ["close_to", "did_you_mean", "model_keys"]


def close_to(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """Up to ``limit`` of ``choices`` closest to ``word``, closest first."""
    return difflib.get_close_matches(word, sorted(set(choices)), n=limit, cutoff=0.6)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'?"`` (or ``'x' or 'y'``), or ``""`` when nothing is close."""
    found = close_to(word, choices)
    if not found:
        return ""
    return "did you mean " + " or ".join(repr(name) for name in found) + "?"


def model_keys(model: type[BaseModel], path: Sequence[str | int]) -> list[str]:
    """The keys allowed at ``path`` inside ``model`` (list indexes and dict keys skipped)."""
    here: type[BaseModel] | None = model
    for part in path:
        if here is None:
            return []
        field = here.model_fields.get(str(part))
        if field is None:  # an index into a list or a key of a mapping: the same model
            continue
        here = _model_in(field.annotation)
    if here is None:
        return []
    return [field.alias or name for name, field in here.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (``X``, ``X | None``, ``list[X]``, ``dict[str, X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
