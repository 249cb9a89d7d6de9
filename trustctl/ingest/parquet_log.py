"""Parquet logs: the schema columns read, with those a hive-style directory gives."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from trustctl.arrays import from_numpy, strings
from trustctl.errors import InputError, first_line
from trustctl.ingest import log_source
from trustctl.ingest.log_source import Source, Unit, check_required, hashed_apart, typed_problem
from trustctl.schema import COLUMNS, PER_ROW_COLUMNS

__all__ = ["hive_values", "parquet_source"]


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def hive_values(path: Path) -> dict[str, str]:
    """Schema columns a hive-style directory above a file gives (``service=api/``).

    A partitioned Parquet dataset keeps such a column in the directory names only.
    Values are unescaped as Hive and Arrow write them; the default partition is empty.
    """
    from urllib.parse import unquote

    found: dict[str, str] = {}
    for part in path.parent.parts:
        name, equals, value = part.partition("=")
        if equals and name in COLUMNS:
            found[name] = "" if value == _HIVE_NULL else unquote(value)
    return found


def parquet_source(path: Path) -> Source:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"]) from None
    twice = [c for c in COLUMNS if schema.names.count(c) > 1]
    if twice:
        raise InputError([f"{path}:row 0: column '{c}' appears twice" for c in twice])
    # Only the schema's columns are read (projection); partition directories add theirs.
    present = [c for c in COLUMNS if c in schema.names]
    given = {k: v for k, v in hive_values(path).items() if k not in schema.names}
    check_required(path, [*present, *given], "row 0")
    # Text of few distinct values comes with Parquet's own dictionaries: nothing to hash.
    encoded = [c for c in present if c not in PER_ROW_COLUMNS and _is_text(schema.field(c).type)]

    def with_partition(batch: pa.RecordBatch) -> pa.RecordBatch:
        if not given:
            return batch
        columns = dict(zip(batch.schema.names, batch.columns, strict=True))
        for name, value in given.items():
            columns[name] = pa.DictionaryArray.from_arrays(
                from_numpy(np.zeros(batch.num_rows, dtype=np.int32)), strings([value])
            )
        names = [c for c in COLUMNS if c in columns]
        return pa.RecordBatch.from_arrays([columns[c] for c in names], names=names)

    def unreadable(exc: Exception) -> InputError:
        return InputError([f"{path}: not a readable Parquet file: {first_line(exc)}"])

    def row_group(index: int) -> Callable[[], Iterator[pa.RecordBatch]]:
        """One row group, decoded batch by batch on the worker thread that compacts them."""

        def decoded() -> Iterator[pa.RecordBatch]:
            try:
                with pq.ParquetFile(path, read_dictionary=encoded) as file:
                    for batch in file.iter_batches(
                        batch_size=log_source.BATCH_ROWS,
                        row_groups=[index],
                        columns=present,
                        use_threads=False,
                    ):
                        yield with_partition(batch)
            except (pa.ArrowException, OSError) as exc:
                raise unreadable(exc) from None

        return decoded

    def batches() -> Iterator[Unit]:
        try:
            with pq.ParquetFile(path) as file:
                groups = file.metadata.num_row_groups
        except (pa.ArrowException, OSError) as exc:
            raise unreadable(exc) from None
        for index in range(groups):
            yield row_group(index)

    return Source(batches(), hashed_apart(path), typed_problem(path))
