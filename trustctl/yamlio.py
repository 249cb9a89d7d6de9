"""The one place that reads and writes YAML."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

__all__ = ["YAMLError", "dump", "load"]

# libyaml's parser when it is installed: about ten times faster on a large policy.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class YAMLError(Exception):
    """Text that is not one valid YAML document: the line where it fails and why, one line."""

    def __init__(self, line: int | None, reason: str) -> None:
        super().__init__(reason if line is None else f"line {line}: {reason}")
        self.line = line
        self.reason = reason

    def where(self, source: object) -> str:
        """``FILE:LINE`` (``FILE`` when no line is known)."""
        return f"{source}" if self.line is None else f"{source}:{self.line}"


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader that refuses a key given twice, and values Python cannot hold."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:  # merged keys may be overridden: that is their purpose
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # an unhashable key: the base class says so
                break
            if repeated:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:  # 2026-02-30, a 5000-digit integer
            text = str(node.value)
            shown = text if len(text) <= 40 else f"{text[:20]}…"
            reason = f"{shown!r} cannot be read: {str(exc).split(';')[0]}"
            raise yaml.constructor.ConstructorError(None, None, reason, node.start_mark) from None


def load(text: str | bytes) -> Any:
    """Parse one YAML document (bytes: UTF-8) with the safe loader; raise ``YAMLError``.

    A mapping that gives a key twice is refused (which value was meant is unknown), as
    JSON Lines logs refuse it.
    """
    if isinstance(text, bytes):
        text = _decoded(text)
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YAMLError(None if mark is None else mark.line + 1, reason) from None
    except yaml.YAMLError as exc:
        raise YAMLError(None, " ".join(str(exc).split())) from None
    except RecursionError:
        raise YAMLError(None, "nested too deeply") from None


def _decoded(data: bytes) -> str:
    """UTF-8 text (a byte order mark dropped); ``YAMLError`` names the first bad line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        reason = f"not UTF-8 text: byte {column} of the line is {data[exc.start]:#04x}"
        raise YAMLError(line, reason) from None


def dump(data: Any) -> str:
    """Serialise plain data to block-style YAML, keeping key order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=4096)
