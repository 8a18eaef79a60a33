"""Repayment schedules for whole portfolios: `schedule(loans, **defaults)`."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, overload

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.conventions import Prepay, Status, normalise
from accrual.kernels.amortize import BULLET, DAY, fill_remaining, fill_schedule
from accrual.kernels.dates import NO_DATE
from accrual.kernels.validate import MAX_TERM_MONTHS, fill_schedule_in_place
from accrual.money import money_array, to_fen
from accrual.schema import (
    SCHEDULE_COLUMNS,
    Checks,
    LoanArrays,
    StagedLoans,
    _parameter,
    as_polars,
    book_state,
    every_loan,
    prepare_loans,
    servicing_terms,
    stage_loans,
)
from accrual.threads import over_chunks


@overload
def schedule(loans: Any, *, errors: Literal["raise"] = ..., **defaults: Any) -> pl.DataFrame: ...
@overload
def schedule(
    loans: Any, *, errors: Literal["reject"], **defaults: Any
) -> tuple[pl.DataFrame, pl.DataFrame]: ...


def schedule(loans: Any, *, errors: str = "raise", **defaults: Any) -> Any:
    """Every installment of every loan, exact to the fen; for a serviced book, what remains.

    Parameters are columns of `loans` or keywords for the whole call (see `accrual.schema`):
    `method` (等额本息 equal_installment, 等额本金 equal_principal, 先息后本 interest_first,
    到期还本付息 bullet), `interest_basis`, `day_count`, `rounding`, fees, `first_due_on`, …

    Given a book that `accrue` returned, each loan's *remaining* schedule: the installments not
    yet billed, from its current state (after prepayments, with the strategy applied), exactly
    what EOD will bill if the borrower pays on time. `period` keeps counting the loan's
    installments; a loan prepaid under `reduce_term` ends early. What is billed and unpaid stays
    in the book's `*_due` columns and is not repeated; closed and written-off loans have no rows.

    Returns one row per installment (`loan_id, period, due_on, payment, principal, interest,
    fee, balance`, money as Decimal(18, 2)); with `errors="reject"`, the pair
    `(schedule, rejects)` where every input loan is in exactly one of the two.

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1], "principal": [1000.0], "daily_rate": [0.0005],
    ...                       "term": [3], "disbursed_on": [dt.date(2024, 4, 1)]})
    >>> ac.schedule(loans, method="equal_principal")["interest"].to_list()
    [Decimal('15.00'), Decimal('10.33'), Decimal('5.00')]
    >>> book = ac.accrue(loans, dt.date(2024, 4, 30), method="equal_principal").book
    >>> ac.schedule(book, method="equal_principal")["period"].to_list()  # the first is still to bill
    [1, 2, 3]
    """
    frame = as_polars(loans)
    sweeping = "monthly_surplus" in defaults or "monthly_surplus" in frame.columns
    if sweeping:
        frame, defaults = _smart_is_reduce_term(frame, defaults)
    if _is_book(frame) or sweeping:
        arrays = prepare_loans(frame, defaults, errors, servicing=_servicing)
        table = _remaining(arrays, sweeping)
    else:
        staged = stage_loans(frame, defaults, errors)
        clean = _build_in_place(staged)
        if clean is not None:
            return (clean, Checks(frame).table()) if errors == "reject" else clean  # no rejects
        arrays = staged.arrays()
        table = _build(arrays)
    return (table, arrays.rejects) if errors == "reject" else table


SWEEP_COLUMNS = ("prepaid", "prepay_fee")  # a projection's extra columns: principal prepaid, its fee


def _is_book(frame: pl.DataFrame) -> bool:
    """A book carries servicing state: some loan has been accrued."""
    return "accrued_through" in frame.columns and frame["accrued_through"].null_count() < frame.height


def _smart_is_reduce_term(
    frame: pl.DataFrame, defaults: dict[str, Any]
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """`prepay="smart"` in a projection: the surplus comes every month beside the installment, so
    keeping the installment (reduce_term) is affordable, and it saves the most interest."""
    if isinstance(defaults.get("prepay"), str) and normalise(defaults["prepay"]) == "smart":
        defaults = {**defaults, "prepay": Prepay.REDUCE_TERM}
    if "prepay" in frame.columns and frame["prepay"].dtype in (pl.String, pl.Categorical):
        text = frame["prepay"].cast(pl.String)
        frame = frame.with_columns(
            prepay=pl.when(text.str.to_lowercase() == "smart").then(pl.lit("reduce_term")).otherwise(text)
        )
    return frame, defaults


def _servicing(
    frame: pl.DataFrame, defaults: dict[str, Any], loan: dict[str, np.ndarray], checks: Checks
) -> dict[str, np.ndarray]:
    terms = servicing_terms(frame, defaults, loan, checks)
    out = {
        name: every_loan(terms[name], frame.height)
        for name in ("keeps_fees", "prepay_fee_num", "prepay", "penalty_num")
    }
    surplus = _parameter(frame, "monthly_surplus", defaults)
    if surplus is None:
        out["surplus"] = np.zeros(frame.height, dtype=np.int64)
    else:
        fen, bad = to_fen(surplus, minimum=0)  # bad ones become 0
        checks.add(bad, "monthly_surplus", "must be an amount >= 0", surplus)
        out["surplus"] = fen
    return {**out, **book_state(frame, loan, checks)}


def schedule_offsets(arrays: LoanArrays) -> np.ndarray:
    """Row offsets of each loan's installments (Arrow list-offset style)."""
    return _offsets(_counts(arrays.method, arrays.term_unit, arrays.term))


def _counts(method: np.ndarray, term_unit: np.ndarray, term: np.ndarray) -> np.ndarray:
    # one row for a bullet or a day-term loan, else `term` (the kernel's loop runs the same periods)
    return np.where((method == BULLET) | (term_unit == DAY), 1, term)


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _loan_arguments(arrays: LoanArrays) -> tuple[Any, ...]:
    """The loan columns every schedule kernel takes, after the offsets and ids."""
    return (
        arrays.principal, arrays.annual_num, arrays.term, arrays.term_unit, arrays.disbursed_on,
        arrays.first_due_on, arrays.method, arrays.day_count, arrays.interest_basis,
        arrays.installment_multiple, arrays.rounding, arrays.installment_fee_num, arrays.interest_free_days,
    )  # fmt: skip


def _build(arrays: LoanArrays) -> pl.DataFrame:
    offsets = schedule_offsets(arrays)
    ids, outputs = _outputs(arrays.loan_id, int(offsets[-1]))
    over_chunks(fill_schedule, len(arrays), offsets, ids, *_loan_arguments(arrays), *outputs)
    return _table(arrays.loan_id, outputs)


def _build_in_place(staged: StagedLoans) -> pl.DataFrame | None:
    """The schedules of loans whose columns can be read in place, each loan checked and filled in
    one pass (`fill_schedule_in_place`); None when they cannot, or when any loan breaks a rule
    (`StagedLoans.arrays` then checks them the usual way and says what broke)."""
    term, loan_id = staged.term, staged.frame["loan_id"]
    if staged.in_place is None or term.null_count() or loan_id.null_count():
        return None
    # rows reserved before any check: a term out of range breaks a rule, and its loan writes none
    codes = staged.codes
    offsets = _offsets(
        _counts(codes["method"], codes["term_unit"], np.clip(term.to_numpy(), 0, MAX_TERM_MONTHS))
    )
    ids, outputs = _outputs(loan_id, int(offsets[-1]))
    clean = staged.checked_in_place(fill_schedule_in_place, (offsets, ids), tuple(outputs))
    return _table(loan_id, outputs) if clean else None


def _remaining(arrays: LoanArrays, sweeping: bool) -> pl.DataFrame:
    if arrays.servicing["fresh"].all() and not sweeping:
        return _build(arrays)
    offsets, counts, written, outputs = _fill_remaining(arrays, sweeping)
    table = _table(arrays.loan_id, outputs)
    if written.sum() < offsets[-1]:  # prepaid loans that end early leave unused rows: drop them
        table = table.filter(pl.Series(_used(offsets, counts, written)))
    return table


def _fill_remaining(
    arrays: LoanArrays, sweeping: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """(offsets, rows reserved, rows written, outputs) of every loan's remaining installments."""
    state = arrays.servicing
    fresh = state["fresh"]
    n = len(arrays)

    def get(name: str, dtype: Any) -> np.ndarray:
        return np.ascontiguousarray(state.get(name, np.zeros(n)), dtype=dtype)

    next_due = get("next_due_on", np.int32)
    billing = (get("status", np.int64) == Status.ACTIVE) & (next_due != NO_DATE)
    counts = np.where(
        fresh,
        _counts(arrays.method, arrays.term_unit, arrays.term),
        np.where(billing, get("installments_left", np.int64), 0),
    )
    offsets = _offsets(counts)
    ids, outputs = _outputs(arrays.loan_id, int(offsets[-1]), sweeping)
    written = np.empty(n, dtype=np.int64)
    over_chunks(
        fill_remaining, n, offsets, ids, *_loan_arguments(arrays), state["keeps_fees"], fresh,
        get("principal_outstanding", np.int64), get("installment", np.int64), next_due, get("installments_left", np.int64),
        get("period_start", np.int32), get("accruing_since", np.int32), get("period_weight", np.int64),
        get("prepaid_on", np.int32), get("settled_balance_days", np.int64), get("interest_settled", np.int64),
        state["surplus"], state["prepay_fee_num"], state["prepay"], *outputs, written,
    )  # fmt: skip
    return offsets, counts, written, outputs


def _used(offsets: np.ndarray, counts: np.ndarray, written: np.ndarray) -> np.ndarray:
    """Mask of the reserved rows a kernel actually wrote."""
    position = np.arange(int(offsets[-1])) - np.repeat(offsets[:-1], counts)
    return position < np.repeat(written, counts)


class Installments(NamedTuple):
    """Remaining installments as kernel arrays: per-loan `offsets` into `due` (days), and
    `principal`, `interest`, `fee` (fen)."""

    loans: LoanArrays
    offsets: np.ndarray
    due: np.ndarray
    principal: np.ndarray
    interest: np.ndarray
    fee: np.ndarray


def installments(loans: Any, defaults: dict[str, Any], servicing: Any = None) -> Installments:
    """The remaining installments of a loans table or book as arrays (no table): what
    `schedule` returns, for engines built on it (stress). `servicing(frame, defaults, loan,
    checks)` may add arrays to `loans.servicing`."""

    def both(frame: pl.DataFrame, fills: dict[str, Any], loan: dict[str, np.ndarray], checks: Checks) -> dict:
        extra = servicing(frame, fills, loan, checks) if servicing is not None else {}
        return {**_servicing(frame, fills, loan, checks), **extra}

    arrays = prepare_loans(as_polars(loans), defaults, "raise", servicing=both)
    offsets, counts, written, outputs = _fill_remaining(arrays, False)
    due = outputs[2].astype(np.int64)
    money = outputs[3]
    principal, interest, fee = money[1, :, 0], money[2, :, 0], money[3, :, 0]
    if written.sum() < offsets[-1]:
        used = _used(offsets, counts, written)
        due, principal, interest, fee = due[used], principal[used], interest[used], fee[used]
        offsets = _offsets(written)
    return Installments(arrays, offsets, due, principal, interest, fee)


def _outputs(loan_id: pl.Series, rows: int, sweeping: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """The kernel's int64 loan ids (row positions when ids are not integers) and output buffers."""
    integer_ids = loan_id.dtype.is_integer()
    ids = loan_id.cast(pl.Int64).to_numpy() if integer_ids else np.arange(loan_id.len())
    out: list[np.ndarray] = [np.empty(rows, np.int64), np.empty(rows, np.int32), np.empty(rows, np.int32)]
    columns = len(SCHEDULE_COLUMNS) - 3 + (len(SWEEP_COLUMNS) if sweeping else 0)
    out.append(np.empty((columns, rows, 2), dtype=np.int64))  # Decimal128 money
    return np.ascontiguousarray(ids, dtype=np.int64), out


def _table(ids: pl.Series, outputs: list[np.ndarray]) -> pl.DataFrame:
    out_id, out_period, out_due, money = outputs
    rows = out_id.shape[0]
    if ids.dtype.is_integer():
        # the type from no rows: a many-chunk column's own `to_arrow` copies it into one
        loan_id = pa.array(out_id).cast(ids.head(0).to_arrow().type)
    else:  # any other id type: the kernel wrote row positions, gather the ids
        loan_id = ids.to_arrow().take(pa.array(out_id))
    columns = {
        "loan_id": loan_id,
        "period": pa.array(out_period),
        "due_on": pa.Array.from_buffers(pa.date32(), rows, [None, pa.py_buffer(out_due)]),
        **{
            name: money_array(buffer)
            for name, buffer in zip((*SCHEDULE_COLUMNS[3:], *SWEEP_COLUMNS), money, strict=False)
        },
    }
    frame = pl.from_arrow(pa.table(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame
