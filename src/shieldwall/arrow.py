"""Numeric columns to Parquet without pandas.

``pyarrow.array`` (and ``pyarrow.table`` of a dict) asks whether its input is a pandas Series
before anything else, and that question imports pandas: a quarter of a second in a command
that otherwise never needs it (a campaign's nights.parquet, written while nothing else runs).
Numeric NumPy columns are handed to Arrow as buffers instead: the same types and values, the
same file as ``pyarrow.table(columns)`` writes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

NUMERIC_KINDS = "iufM"  # integers, floats, datetimes: one fixed-width buffer each, no nulls


def numeric_table(columns: dict[str, np.ndarray]) -> "pa.Table":
    """An Arrow table of 1-d numeric NumPy columns (any other kind is a ValueError)."""
    import pyarrow as pa

    arrays = []
    for name, values in columns.items():
        a = np.ascontiguousarray(values)
        if a.ndim != 1 or a.dtype.kind not in NUMERIC_KINDS:
            raise ValueError(f"column {name!r}: expected a 1-d numeric array, got {a.dtype} of shape {a.shape}")
        arrays.append(pa.Array.from_buffers(pa.from_numpy_dtype(a.dtype), len(a), [None, pa.py_buffer(a)]))
    return pa.Table.from_arrays(arrays, names=list(columns))


def write_numeric_parquet(columns: dict[str, np.ndarray], path: str | Path) -> None:
    """``numeric_table(columns)`` as a Parquet file."""
    import pyarrow.parquet as pq

    pq.write_table(numeric_table(columns), path)
