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

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.kernels.text import distinct_views
from accrual.threads import chunk_bounds, in_parallel

T = TypeVar("T")
MAX_DISTINCT = 64  # more distinct texts than this in a chunk: not a convention column; hashed
_NO_NULLS = np.zeros(0, dtype=np.uint8)
_NO_NULLS.flags.writeable = False  # as Arrow's buffers are: one array type for the kernels


def validity(array: pa.Array) -> np.ndarray:
    """An Arrow array's validity bitmap as read-only bytes (bit `offset + i` for value i); empty
    when it has no nulls."""
    bitmap = array.buffers()[0]
    return _NO_NULLS if bitmap is None or array.null_count == 0 else np.frombuffer(bitmap, np.uint8)


class Buffers(NamedTuple):
    """One column's chunks: first row of each (then the column's length), each chunk's values
    buffer from its first element (an Arrow offset counts into it), validity bitmap (empty when
    the chunk has no nulls) and offset."""

    starts: np.ndarray
    values: list[np.ndarray]
    validity: list[np.ndarray]
    offsets: list[int]


def buffers(column: pl.Series | pa.ChunkedArray, dtype: str, width: int = 1) -> Buffers:
    """The chunks of `column` (of a fixed-width type: `width` `dtype` words a value), zero-copy
    and read-only."""
    arrow = column.to_frame().to_arrow().column(0) if isinstance(column, pl.Series) else column
    starts, values, bitmaps, offsets = [0], [], [], []
    for chunk in arrow.chunks:
        data = chunk.buffers()[1]
        assert data is not None, "a fixed-width Arrow chunk always has a values buffer"
        values.append(np.frombuffer(data, dtype=dtype, count=width * (chunk.offset + len(chunk))))
        bitmaps.append(validity(chunk))
        offsets.append(chunk.offset)
        starts.append(starts[-1] + len(chunk))
    return Buffers(np.array(starts, dtype=np.int64), values, bitmaps, offsets)


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


def over_pieces(kernel: Callable[..., T], columns: Sequence[Buffers], n: int) -> list[T]:
    """kernel(lo, hi, values, validity, starts) for every piece of n rows of `columns`, cut where
    their chunks are and into a few per thread, on all cores (`accrual.threads`)."""
    work = list(pieces(columns, chunk_bounds(n)))
    return in_parallel(lambda p: kernel(*work[p]), len(work))


def distinct_rows(column: pl.Series) -> tuple[np.ndarray, list[str]] | None:
    """(index of each row's value among `values`, -1 where null; `values`) of a String column,
    from its Arrow string views read in place (`accrual.kernels.text`); None (hash it instead)
    when a chunk has more than `MAX_DISTINCT` distinct views: more values than a convention
    has, or long values each with bytes of their own (a view per row).

    >>> import polars as pl
    >>> index, values = distinct_rows(pl.Series(["bullet", None, "bullet", "emi"]))
    >>> index.tolist(), values
    ([0, -1, 0, 1], ['bullet', 'emi'])
    """
    newest = pl.CompatLevel.newest()
    index = np.empty(column.len(), dtype=np.int16)
    known: dict[str, int] = {}  # each distinct value, numbered in order of first appearance
    row = 0
    for piece in column.get_chunks():
        chunk = piece.to_arrow(compat_level=newest)  # zero-copy: polars' own string views
        if not pa.types.is_string_view(chunk.type):
            return None
        views = chunk.buffers()[1]
        rows = index[row : row + len(chunk)]
        row += len(chunk)
        if views is None:  # an empty chunk
            continue
        reps = np.empty(MAX_DISTINCT, dtype=np.int64)
        count = distinct_views(np.frombuffer(views, np.uint64), validity(chunk), chunk.offset, rows, reps)
        if count < 0:
            return None
        numbers = [known.setdefault(chunk[int(r)].as_py(), len(known)) for r in reps[:count]]
        if numbers != list(range(count)):  # this chunk's numbering → the column's
            rows[:] = np.array([*numbers, -1], np.int16)[rows]  # (-1, null, picks the last)
    return index, list(known)
