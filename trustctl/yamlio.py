"""The one place that reads and writes YAML."""

from __future__ import annotations

from typing import Any

import yaml


def load(text: str) -> Any:
    """Parse one YAML document with the safe loader."""
    return yaml.safe_load(text)


def dump(data: Any) -> str:
    """Serialise plain data to block-style YAML, keeping key order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=4096)


YAMLError = yaml.YAMLError
