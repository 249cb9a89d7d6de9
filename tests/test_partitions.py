"""Hive-style partitioned Parquet: a dataset split into directories gives the policy of one file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import yaml
from clirun import policy_yaml
from conftest import SAMPLE_CSV

from trustctl.ingest.parquet_log import hive_values


def _sample() -> pa.Table:
    columns = pacsv.read_csv(SAMPLE_CSV).schema.names
    options = pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()))
    table = pacsv.read_csv(SAMPLE_CSV, convert_options=options)
    # A partition key of the kind warehouses use: the month, not a schema column.
    return table.append_column("month", pc.utf8_slice_codeunits(table["timestamp"], 0, 7))


def _policy(*args: str | Path) -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load(policy_yaml(*args))
    return document


def test_a_hive_partitioned_dataset_gives_the_policy_of_one_file(tmp_path: Path) -> None:
    table = _sample()
    ds.write_dataset(
        table,
        tmp_path / "dataset",
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([("action_class", pa.string()), ("month", pa.string())]), flavor="hive"
        ),
    )
    files = sorted((tmp_path / "dataset").rglob("*.parquet"))
    assert len(files) > 20
    # The partition column lives in the directory names only.
    assert "action_class" not in ds.dataset(files[0]).schema.names
    one = tmp_path / "one.parquet"
    ds.write_dataset(table.drop_columns(["month"]), tmp_path / "flat", format="parquet")
    (tmp_path / "flat" / "part-0.parquet").rename(one)
    partitioned, whole = _policy(tmp_path / "dataset"), _policy(one)
    assert partitioned["actions"] == whole["actions"]
    meta_p, meta_w = partitioned["metadata"], whole["metadata"]
    assert isinstance(meta_p, dict) and isinstance(meta_w, dict)
    assert meta_p["ingest"] == meta_w["ingest"]
    assert len(meta_p["inputs"]) == len(files)


def test_hive_values_are_unescaped_and_the_default_partition_is_empty() -> None:
    path = Path("logs/service=api%2Fv2/action_class=__HIVE_DEFAULT_PARTITION__/date=x/p.parquet")
    assert hive_values(path) == {"service": "api/v2", "action_class": ""}
