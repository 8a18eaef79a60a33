"""The floor (SPEC.md section 9): the least any engine must do to produce a table of this size.

A trivial parallel Numba kernel that reads the same inputs and allocates and writes the same
number of output bytes, fresh, with no arithmetic worth the name. A job's ratio to the floor,
measured in the same run, says how close to memory speed it is.
"""

from __future__ import annotations

__all__ = ["SCHEDULE_ROW_BYTES", "eod_floor", "schedule_floor", "schedule_offsets", "table_buffers"]

import numpy as np
import pyarrow as pa
from numba import njit, prange

from accrual.money import new_money
from accrual.schedule import schedule_offsets

SCHEDULE_ROW_BYTES = 8 + 4 + 4 + 5 * 16  # int64 loan id, int32 period, date32, five Decimal128


@njit(parallel=True, cache=True, nogil=True)
def _write_rows(offsets, loan_id, principal, disbursed_on, out_id, out_period, out_due, m1, m2, m3, m4, m5):
    for i in prange(offsets.shape[0] - 1):
        p = principal[i]
        d = disbursed_on[i]
        for row in range(offsets[i], offsets[i + 1]):
            out_id[row] = loan_id[i]
            out_period[row] = row - offsets[i] + 1
            out_due[row] = d + 30 * (row - offsets[i] + 1)
            m1[row, 0] = p
            m1[row, 1] = 0
            m2[row, 0] = p
            m2[row, 1] = 0
            m3[row, 0] = p
            m3[row, 1] = 0
            m4[row, 0] = p
            m4[row, 1] = 0
            m5[row, 0] = p
            m5[row, 1] = 0


def schedule_floor(
    offsets: np.ndarray, loan_id: np.ndarray, principal: np.ndarray, disbursed_on: np.ndarray
) -> int:
    """Allocate and fill a schedule-sized table (int64 id, int32 period, date32, 5 × Decimal128)."""
    rows = int(offsets[-1])
    out_id = np.empty(rows, dtype=np.int64)
    out_period = np.empty(rows, dtype=np.int32)
    out_due = np.empty(rows, dtype=np.int32)
    money = [new_money(rows) for _ in range(5)]
    _write_rows(offsets, loan_id, principal, disbursed_on, out_id, out_period, out_due, *money)
    return rows * SCHEDULE_ROW_BYTES


@njit(parallel=True, cache=True, nogil=True)
def _read(words):
    total = 0
    for i in prange(words.shape[0]):
        total += words[i]
    return total


@njit(parallel=True, cache=True, nogil=True)
def _fill(out, value):
    for i in prange(out.shape[0]):
        out[i] = value + i


def table_buffers(table: pa.Table) -> list[np.ndarray]:
    """Every data buffer of an Arrow table, as uint8 NumPy views (what reading it touches)."""
    views = []
    for column in table.columns:
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is not None and buffer.size:
                    views.append(np.frombuffer(buffer, dtype=np.uint8))
    return views


def eod_floor(book: list[np.ndarray], out_bytes: int) -> int:
    """Read every byte of the book and write `out_bytes` (new book + postings) into fresh memory.

    Returns a checksum so nothing is optimised away.
    """
    total = 0
    for view in book:
        words = view[: view.shape[0] // 8 * 8].view(np.int64)
        total ^= int(_read(words)) & 0xFFFF_FFFF  # a checksum that stays a small int
    out = np.empty(out_bytes // 8, dtype=np.int64)
    _fill(out, total)
    return int(out[-1]) if out.shape[0] else total
