"""Repayment schedules for whole portfolios: `schedule(loans, **defaults)`."""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.kernels.amortize import BULLET, DAY, fill_schedule
from accrual.money import money_array, new_money
from accrual.schema import SCHEDULE_COLUMNS, LoanArrays, prepare_loans


@overload
def schedule(loans: Any, *, errors: Literal["raise"] = ..., **defaults: Any) -> pl.DataFrame: ...
@overload
def schedule(
    loans: Any, *, errors: Literal["reject"], **defaults: Any
) -> tuple[pl.DataFrame, pl.DataFrame]: ...


def schedule(loans: Any, *, errors: str = "raise", **defaults: Any) -> Any:
    """Every installment of every loan, exact to the fen.

    Parameters are columns of `loans` or keywords for the whole call (see `accrual.schema`):
    `method` (等额本息 equal_installment, 等额本金 equal_principal, 先息后本 interest_first,
    到期还本付息 bullet), `interest_basis`, `day_count`, `rounding`, fees, `first_due_on`, …

    Returns one row per installment (`loan_id, period, due_on, payment, principal, interest,
    fee, balance`, money as Decimal(18, 2)); with `errors="reject"`, the pair
    `(schedule, rejects)` where every input loan is in exactly one of the two.

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1], "principal": [1000.0], "daily_rate": [0.0005],
    ...                       "term": [3], "disbursed_on": [dt.date(2024, 4, 1)]})
    >>> ac.schedule(loans, method="equal_principal")["interest"].to_list()
    [Decimal('15.00'), Decimal('10.33'), Decimal('5.00')]
    """
    arrays = prepare_loans(loans, defaults, errors)
    table = _build(arrays)
    return (table, arrays.rejects) if errors == "reject" else table


def schedule_offsets(arrays: LoanArrays) -> np.ndarray:
    """Row offsets of each loan's installments (Arrow list-offset style)."""
    # one row for a bullet or a day-term loan, else `term` (the kernel's loop runs the same periods)
    counts = np.where((arrays.method == BULLET) | (arrays.term_unit == DAY), 1, arrays.term)
    offsets = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _build(arrays: LoanArrays) -> pl.DataFrame:
    offsets = schedule_offsets(arrays)
    rows = int(offsets[-1])
    integer_ids = arrays.loan_id.dtype.is_integer()
    ids = arrays.loan_id.cast(pl.Int64).to_numpy() if integer_ids else np.arange(len(arrays))
    out_id = np.empty(rows, dtype=np.int64)
    out_period = np.empty(rows, dtype=np.int32)
    out_due = np.empty(rows, dtype=np.int32)
    money = {name: new_money(rows) for name in SCHEDULE_COLUMNS[3:]}
    fill_schedule(
        offsets, np.ascontiguousarray(ids, dtype=np.int64), arrays.principal, arrays.annual_num,
        arrays.term, arrays.term_unit, arrays.disbursed_on, arrays.first_due_on, arrays.method,
        arrays.day_count, arrays.interest_basis, arrays.installment_multiple, arrays.rounding,
        arrays.installment_fee_num, arrays.interest_free_days,
        out_id, out_period, out_due, *money.values(),
    )  # fmt: skip
    if integer_ids:
        loan_id = pa.array(out_id).cast(arrays.loan_id.to_arrow().type)
    else:  # any other id type: the kernel wrote row positions, gather the ids
        loan_id = arrays.loan_id.to_arrow().take(pa.array(out_id))
    columns = {
        "loan_id": loan_id,
        "period": pa.array(out_period),
        "due_on": pa.Array.from_buffers(pa.date32(), rows, [None, pa.py_buffer(out_due)]),
        **{name: money_array(buffer) for name, buffer in money.items()},
    }
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame
