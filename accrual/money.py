"""Money at the table boundary: Decimal(18, 2) columns ↔ int64 fen arrays, and rates ↔ scaled ints.

An Arrow Decimal128 value is a little-endian 128-bit integer of the unscaled amount, so an int64
fen array becomes a Decimal(18, 2) column by writing each value with its sign word beside it —
no Python loop, and the kernels write that layout directly (`new_money`).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from accrual.buffers import buffers
from accrual.kernels.validate import MAX_FEN, fen_from_decimal, fen_from_float, scaled_rates

MONEY = pa.decimal128(18, 2)
MONEY_DTYPE = pl.Decimal(18, 2)


def new_money(rows: int) -> np.ndarray:
    """An uninitialised (rows, 2) int64 buffer in Decimal128 layout, for a kernel to fill."""
    return np.empty((rows, 2), dtype=np.int64)


def money_array(buffer: np.ndarray) -> pa.Array:
    """Zero-copy Decimal(18, 2) Arrow array over a filled (rows, 2) int64 buffer."""
    return pa.Array.from_buffers(MONEY, buffer.shape[0], [None, pa.py_buffer(buffer)])


def fen_to_money(fen: np.ndarray) -> pa.Array:
    """Decimal(18, 2) Arrow array from int64 fen."""
    buffer = new_money(fen.shape[0])
    buffer[:, 0] = fen
    buffer[:, 1] = fen >> 63
    return money_array(buffer)


def readonly(values: np.ndarray) -> np.ndarray:
    """A read-only view: kernels see one array type whether or not the input was copied (Numba
    compiles read-only and writable arrays separately)."""
    view = values.view()
    view.flags.writeable = False
    return view


def to_fen(
    series: pl.Series, out: np.ndarray | None = None, minimum: int = -MAX_FEN
) -> tuple[np.ndarray, np.ndarray]:
    """(fen, bad) of a money column: Decimal of any scale, float, or integer yuan; the fen
    into `out` (int64, one per value) when given.

    Floats are first rounded to a millionth of a fen, so 1.005 (stored as 1.00499999…) is the
    tie it was written as; then half-up. Decimals of more than two places round half-up (in
    128 bits, so a Decimal(38, 18) amount is fine). Nulls become 0 (the caller checks them
    separately). `bad` flags values beyond ±MAX_FEN (10^14 yuan), or below `minimum` fen
    (0: amounts that must not be negative), checked in the same pass; they become 0 too.
    """
    dtype = series.dtype
    n = series.len()
    fen = np.empty(n, dtype=np.int64) if out is None else out
    bad = np.empty(n, dtype=np.bool_)
    if dtype.is_integer():
        yuan = series.fill_null(0).to_numpy().astype(np.int64)
        np.greater(np.abs(yuan), MAX_FEN // 100, out=bad)
        bad |= yuan < -(-minimum // 100)  # below `minimum` fen: yuan × 100 < minimum
        np.multiply(np.where(bad, 0, yuan), 100, out=fen)
    elif isinstance(dtype, pl.Decimal):
        # chunk by chunk: the Series' own `to_arrow` would copy a many-chunk column (as read
        # from Parquet row groups) into one
        arrow = series.to_frame().to_arrow().column(0)
        scale = dtype.scale or 0
        if scale > 2:  # round to the fen in Arrow's 128 bits: Decimal(38, 18) amounts overflow 64 unscaled
            arrow = pc.round(arrow, ndigits=2, round_mode="half_towards_infinity")  # half away from zero
            scale = 2
        if not (pa.types.is_decimal128(arrow.type) and arrow.type.scale == scale):
            arrow = arrow.cast(pa.decimal128(38, scale))  # decimal256 and friends: same values, 128 bits
        chunks = buffers(arrow, "int64", width=2)
        for k, (words, offset) in enumerate(zip(chunks.values, chunks.offsets, strict=True)):
            rows = slice(chunks.starts[k], chunks.starts[k + 1])
            fen_from_decimal(words, offset, 10 ** (2 - scale), minimum, fen[rows], bad[rows])
    elif dtype.is_float():
        values = series.fill_null(0) if series.null_count() else series
        fen_from_float(readonly(values.to_numpy().astype(np.float64, copy=False)), minimum, fen, bad)
    else:
        raise TypeError(f"money column {series.name!r} must be Decimal, float or integer, not {dtype}")
    return fen, bad


def to_rate(series: pl.Series) -> np.ndarray:
    """A rate column (fraction: 0.0005 = 0.05%) as int64 scaled by RATE_SCALE; null → 0,
    NaN → -1 (rejected). Read chunk by chunk where it lies (polars' `fill_null` and `to_numpy`
    copied a many-chunk column twice: 3.5 against 1.0 ms a 1M column)."""
    if series.dtype != pl.Float64:
        series = series.cast(pl.Float64)
    scaled = np.empty(series.len(), dtype=np.int64)
    chunks = buffers(series, "float64")
    for k, (values, bits, offset) in enumerate(
        zip(chunks.values, chunks.validity, chunks.offsets, strict=True)
    ):
        scaled_rates(values, bits, offset, scaled[chunks.starts[k] : chunks.starts[k + 1]])
    return scaled
