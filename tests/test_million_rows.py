"""A log of a million rows counts to the same evidence by every path, pinned to the digest
the code before issue 14 gave (``segments.from_decisions`` of ``load_decisions``' frame)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from trustctl import segments, stream
from trustctl.ingest import count_decisions, load_decisions
from trustctl.sample import write_sample

#: The benchmark's 1M log (``trustctl sample --decisions 869565 --seed 7``): about 1M rows.
DECISIONS = 869_565
#: Its evidence before the compact path: 5399 segments (computed with the code of 1d3fbbc,
#: ``segments.from_decisions(load_decisions([log]).frame)``, hashed as ``_digest`` does).
SEGMENTS = 5399
DIGEST = "aacd10745db15df524274e65b9b568fc7067f7bae934f9cd1cb5e0f1199c0321"


def _digest(found: pd.DataFrame) -> tuple[int, str]:
    table = segments.to_arrow(found)
    text = json.dumps(table.to_pylist(), default=str, sort_keys=True)
    return len(table), hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.slow
def test_a_million_rows_count_to_the_same_evidence_every_way(tmp_path: Path) -> None:
    log = write_sample(tmp_path, DECISIONS, seed=7)
    assert _digest(count_decisions([log]).segments) == (SEGMENTS, DIGEST)
    assert _digest(segments.from_decisions(load_decisions([log]).frame)) == (SEGMENTS, DIGEST)
    assert _digest(stream.stream_segments([log], slices=3).segments) == (SEGMENTS, DIGEST)
