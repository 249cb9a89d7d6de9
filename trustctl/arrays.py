"""Arrow arrays to numpy and back, from their buffers: pyarrow's own conversions load pandas.

When pandas is installed, pyarrow imports it (about 0.4 s of CPU) the first time it turns
numpy or Python values into Arrow (``pa.array``, ``pa.scalar``, a Python value given to a
compute function) or Arrow into numpy (``to_numpy``, ``np.asarray``). ``trustctl generate``
needs no pandas, so the conversions on its path are made here instead: fixed-width
columns as views of their data buffers, text through Python lists (only small ones).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["from_numpy", "scalar", "strings", "text_values", "to_numpy"]


def _dtype(kind: pa.DataType) -> np.dtype[np.generic]:
    """The numpy type of a fixed-width Arrow type."""
    if pa.types.is_timestamp(kind):
        return np.dtype(f"datetime64[{kind.unit}]")
    if pa.types.is_integer(kind):
        return np.dtype(f"{'i' if pa.types.is_signed_integer(kind) else 'u'}{kind.bit_width // 8}")
    if pa.types.is_floating(kind):
        return np.dtype(f"f{kind.bit_width // 8}")
    raise TypeError(f"no numpy view of {kind}")


def to_numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A fixed-width array without nulls (integers, floats, timestamps, booleans) in numpy:
    a read-only view of its buffer (booleans and several chunks: a copy)."""
    if isinstance(array, pa.ChunkedArray):
        if array.num_chunks == 1:
            return to_numpy(array.chunk(0))
        if not array.num_chunks:
            return _empty(array.type)
        return np.concatenate([to_numpy(chunk) for chunk in array.chunks])
    if array.null_count:
        raise ValueError(f"{array.null_count} nulls in an array read as numpy")
    if not len(array):
        return _empty(array.type)
    data = array.buffers()[1]
    if pa.types.is_boolean(array.type):
        bits = np.frombuffer(data, np.uint8)
        unpacked = np.unpackbits(bits, count=array.offset + len(array), bitorder="little")
        flags: np.ndarray = unpacked[array.offset :].view(bool)
        return flags
    dtype = _dtype(array.type)
    view: np.ndarray = np.frombuffer(
        data, dtype, count=len(array), offset=array.offset * dtype.itemsize
    )
    return view


def _empty(kind: pa.DataType) -> np.ndarray:
    return np.zeros(0, dtype=bool if pa.types.is_boolean(kind) else _dtype(kind))


def from_numpy(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    """A numpy array of numbers, times or booleans as Arrow (no copy where contiguous),
    null where ``missing``."""
    values = np.ascontiguousarray(values)
    kind = pa.bool_() if values.dtype == bool else pa.from_numpy_dtype(values.dtype)
    data = np.packbits(values, bitorder="little") if values.dtype == bool else values
    validity, nulls = None, 0
    if missing is not None and missing.any():
        validity, nulls = pa.py_buffer(np.packbits(~missing, bitorder="little")), int(missing.sum())
    return pa.Array.from_buffers(
        kind, len(values), [validity, pa.py_buffer(data)], null_count=nulls
    )


def strings(texts: Sequence[str | None] | np.ndarray) -> pa.Array:
    """Text (``None``: null) as an Arrow ``string`` array."""
    encoded = [b"" if text is None else text.encode() for text in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
    missing = np.fromiter((text is None for text in texts), bool, len(encoded))
    validity, nulls = None, int(missing.sum())
    if nulls:
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=nulls)


def scalar(value: str | int, kind: pa.DataType | None = None) -> pa.Scalar:
    """One value as an Arrow scalar (text, or an integer of ``kind``, int64 by default)."""
    if isinstance(value, str):
        return strings([value])[0]
    return from_numpy(np.array([value], dtype=_dtype(kind or pa.int64())))[0]


def text_values(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Text as an object array of ``str`` (null: ``None``)."""
    found = np.empty(len(array), dtype=object)
    found[:] = array.to_pylist()
    return found
