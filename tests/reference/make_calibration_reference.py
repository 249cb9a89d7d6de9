"""Regenerate ``tests/reference/calibration_reference.json`` independently of trustctl.

Rerun from the repository root with::

    python tests/reference/make_calibration_reference.py

The script never imports ``trustctl``: it reads ``sample_data/decisions.csv`` with the
``csv`` module, merges each decision's rows (a field is the one non-empty value its rows
give), keeps the decisions a human judged (approved, rejected, modified, overridden) that
carry ``ai_confidence``, and per action class computes, with exact decimals for the bins
and cuts and ``math.fsum`` for the sums:

* the Brier score ``mean((p - y)^2)``, ``y = 1`` for approved;
* ten bins ``[i/10, (i+1)/10)`` (the last closed), each with its count, mean confidence
  and approval rate; ECE ``= sum(n_b / N * |mean p_b - rate_b|)``;
* for each cut 0.50, 0.55, ..., 0.95: reviewed and approved at ``p >= cut`` and the
  one-sided 95% Clopper-Pearson lower bound from
  ``statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.1, method="beta")``.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from statsmodels.stats.proportion import proportion_confint

ROOT = Path(__file__).resolve().parents[2]
JUDGED = {"approved", "rejected", "modified", "overridden"}


def merged_decisions() -> list[dict[str, str]]:
    by_id: dict[str, dict[str, str]] = {}
    with (ROOT / "sample_data" / "decisions.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            merged = by_id.setdefault(row["decision_id"], {})
            for name, value in row.items():
                if value != "":
                    merged[name] = value
    return list(by_id.values())


def calibration(pairs: list[tuple[Decimal, int]]) -> dict[str, object]:
    total = len(pairs)
    brier = math.fsum((float(p) - y) ** 2 for p, y in pairs) / total
    bins = []
    ece = []
    for b in range(10):
        inside = [(p, y) for p, y in pairs if min(int(p * 10), 9) == b]
        if inside:
            mean_p = math.fsum(float(p) for p, _ in inside) / len(inside)
            rate = sum(y for _, y in inside) / len(inside)
            ece.append(len(inside) / total * abs(mean_p - rate))
            bins.append({"count": len(inside), "mean_confidence": mean_p, "approval_rate": rate})
        else:
            bins.append({"count": 0, "mean_confidence": None, "approval_rate": None})
    cuts = []
    for step in range(50, 100, 5):
        cut = Decimal(step) / 100
        above = [y for p, y in pairs if p >= cut]
        n, k = len(above), sum(above)
        lower = float(proportion_confint(k, n, alpha=0.1, method="beta")[0]) if n else 0.0
        cuts.append({"cut": float(cut), "reviewed": n, "approved": k, "lower": lower})
    return {
        "decisions": total,
        "brier": brier,
        "ece": math.fsum(ece),
        "bins": bins,
        "cuts": cuts,
    }


def main() -> None:
    pairs: dict[str, list[tuple[Decimal, int]]] = defaultdict(list)
    for decision in merged_decisions():
        if decision.get("human_decision") in JUDGED and "ai_confidence" in decision:
            approved = int(decision["human_decision"] == "approved")
            pairs[decision["action_class"]].append((Decimal(decision["ai_confidence"]), approved))
    result = {name: calibration(found) for name, found in sorted(pairs.items())}
    out = Path(__file__).with_name("calibration_reference.json")
    out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
