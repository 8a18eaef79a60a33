"""Polars columns as the Arrow buffers under them, for kernels that read a table in place.

A column is a list of Arrow chunks (one per Parquet row group, per concatenated batch, …), and
columns of one table need not be chunked alike. `pieces` cuts a table's rows where any of its
columns starts a chunk (and where the caller wants its own cuts, e.g. one per thread), so that
within a piece every column is one buffer: a kernel then reads value `start + i` of each.

>>> import polars as pl
>>> a = pl.concat([pl.Series("a", [1, 2]), pl.Series("a", [3, None, 5])], rechunk=False)
>>> [(lo, hi, starts.tolist()) for lo, hi, _, _, starts in pieces([buffers(a, "int64")], [0, 4, 5])]
[(0, 2, [0]), (2, 4, [0]), (4, 5, [2])]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import polars as pl

_NO_NULLS = np.zeros(0, dtype=np.uint8)
_NO_NULLS.flags.writeable = False  # as Arrow's buffers are: one array type for the kernels


class Buffers(NamedTuple):
    """One column's chunks: first row of each (then the column's length), each chunk's values
    buffer from its first element (an Arrow offset counts into it), validity bitmap (empty when
    the chunk has no nulls) and offset."""

    starts: np.ndarray
    values: list[np.ndarray]
    validity: list[np.ndarray]
    offsets: list[int]


def buffers(column: pl.Series, dtype: str, width: int = 1) -> Buffers:
    """The chunks of `column` (of a fixed-width type: `width` `dtype` words a value), zero-copy
    and read-only."""
    arrow = column.to_frame().to_arrow().column(0)
    starts, values, validity, offsets = [0], [], [], []
    for chunk in arrow.chunks:
        bitmap, data = chunk.buffers()[:2]
        assert data is not None, f"column {column.name!r} has a chunk without values"
        values.append(np.frombuffer(data, dtype=dtype, count=width * (chunk.offset + len(chunk))))
        validity.append(
            _NO_NULLS if chunk.null_count == 0 or bitmap is None else np.frombuffer(bitmap, np.uint8)
        )
        offsets.append(chunk.offset)
        starts.append(starts[-1] + len(chunk))
    return Buffers(np.array(starts, dtype=np.int64), values, validity, offsets)


def pieces(
    columns: Sequence[Buffers], cuts: Sequence[int] | np.ndarray
) -> Iterator[tuple[int, int, tuple[np.ndarray, ...], tuple[np.ndarray, ...], np.ndarray]]:
    """(lo, hi, values, validity, starts) for each piece of rows lo:hi: every column's values and
    validity buffer there, and the value of row lo in each (`cuts` holds 0 and the row count)."""
    bounds = np.unique(np.concatenate([np.asarray(cuts, dtype=np.int64), *(c.starts for c in columns)]))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        values, validity, starts = [], [], np.empty(len(columns), dtype=np.int64)
        for k, column in enumerate(columns):
            j = int(np.searchsorted(column.starts, lo, side="right")) - 1
            values.append(column.values[j])
            validity.append(column.validity[j])
            starts[k] = column.offsets[j] + lo - int(column.starts[j])
        yield lo, hi, tuple(values), tuple(validity), starts
