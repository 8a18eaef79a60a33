"""The true cost of credit: three nominal rates side by side (三率并行) and the IRR-annualised rate.

Regulation asks lenders to disclose the annualised cost computed by IRR over every cash flow the
borrower sees: the disbursement net of upfront fees, then each installment with its fees. The IRR
is found per period and annualised by the periods in a year (months: × 12; a day-term loan:
per day × 365); `effective_annual` compounds it instead. An irregular first period (a
`first_due_on`) still counts as one period, as the per-period convention does.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, overload

import numpy as np
import polars as pl

from accrual.conventions import DayCount
from accrual.kernels.irr import fill_cost, fill_cost_in_place
from accrual.schema import Checks, stage_loans
from accrual.threads import over_chunks

DEFAULT_CAP = 0.24  # the all-in annual cost courts protect for licensed lenders (SPEC.md section 2)
COST_COLUMNS = ("daily_rate", "monthly_rate", "annual_rate", "irr_annual", "effective_annual", "over_cap")


class Rates(NamedTuple):
    """One rate in its three customary forms (fractions: 0.0005 = 0.05% a day)."""

    daily: float
    monthly: float
    annual: float


def rates(
    annual_rate: float | None = None, *, daily_rate: float | None = None, day_count: Any = DayCount.ACT_360
) -> Rates:
    """Daily, monthly and annual forms of one contract rate: daily = annual / year days, monthly = annual / 12.

    >>> import accrual as ac
    >>> ac.rates(daily_rate=0.0005)
    Rates(daily=0.0005, monthly=0.015, annual=0.18)
    """
    if (annual_rate is None) == (daily_rate is None):
        raise ValueError("give exactly one of annual_rate and daily_rate")
    year_days = DayCount.parse(day_count).year_days
    annual = annual_rate if annual_rate is not None else daily_rate * year_days  # type: ignore[operator]
    return Rates(daily=annual / year_days, monthly=annual / 12, annual=annual)


@overload
def apr(
    loans: Any, *, cap: float = ..., lpr: float | None = ..., errors: Literal["raise"] = ..., **defaults: Any
) -> pl.DataFrame: ...
@overload
def apr(
    loans: Any, *, cap: float = ..., lpr: float | None = ..., errors: Literal["reject"], **defaults: Any
) -> tuple[pl.DataFrame, pl.DataFrame]: ...


def apr(
    loans: Any, *, cap: float = DEFAULT_CAP, lpr: float | None = None, errors: str = "raise", **defaults: Any
) -> Any:
    """The cost of each loan: nominal daily, monthly and annual rates, and the IRR-annualised rate.

    Returns `loan_id, daily_rate, monthly_rate, annual_rate, irr_annual, effective_annual,
    over_cap` (rates as float fractions). `irr_annual` is the IRR per period of the borrower's
    cash flows (net disbursement, then every installment with its fees) times the periods in a
    year; `effective_annual` compounds it. `over_cap` flags `irr_annual > cap` (24% by default);
    `lpr=` sets the cap for private lending to 4 × the one-year LPR instead. Loan parameters are
    columns or keywords, as for `schedule`; `errors="reject"` returns `(apr, rejects)`.

    >>> import datetime as dt, polars as pl, accrual as ac
    >>> loans = pl.DataFrame({"loan_id": [1], "principal": [12000], "annual_rate": [0.0], "term": [12],
    ...                       "disbursed_on": [dt.date(2024, 1, 15)], "installment_fee_rate": [0.006]})
    >>> cost = ac.apr(loans, method="equal_principal")  # 1,000 + a 72.00 fee a month
    >>> cost.select(pl.col("irr_annual", "effective_annual").round(4)).row(0)
    (0.1303, 0.1384)
    """
    if lpr is not None:
        if cap != DEFAULT_CAP:
            raise ValueError("give cap= or lpr= (cap = 4 × lpr), not both")
        cap = 4 * lpr
    if not np.isfinite(cap) or cap < 0:
        raise ValueError(f"cap must be a rate >= 0, not {cap!r}")
    staged = stage_loans(loans, defaults, errors)
    # every loan checked and costed in one pass over its columns' buffers, where they can be read
    # in place and every loan is good; else checked first (naming what broke), then costed
    outputs = _outputs(staged.frame.height)
    if staged.checked_in_place(fill_cost_in_place, (), (float(cap), *outputs)):
        table = _table(staged.frame["loan_id"], outputs)
        return (table, Checks(staged.frame).table()) if errors == "reject" else table
    arrays = staged.arrays()
    outputs = _outputs(len(arrays))
    over_chunks(
        fill_cost, len(arrays), arrays.principal, arrays.annual_num, arrays.term, arrays.term_unit,
        arrays.disbursed_on, arrays.first_due_on, arrays.method, arrays.day_count, arrays.interest_basis,
        arrays.installment_multiple, arrays.rounding, arrays.installment_fee_num,
        arrays.interest_free_days, arrays.upfront_fee_num, float(cap), *outputs,
    )  # fmt: skip
    table = _table(arrays.loan_id, outputs)
    return (table, arrays.rejects) if errors == "reject" else table


def _outputs(n: int) -> list[np.ndarray]:
    """The cost kernels' outputs for n loans, in COST_COLUMNS order: five rates, then over_cap."""
    return [*(np.empty(n, dtype=np.float64) for _ in COST_COLUMNS[:-1]), np.empty(n, dtype=np.bool_)]


def _table(loan_id: pl.Series, outputs: list[np.ndarray]) -> pl.DataFrame:
    return pl.DataFrame({"loan_id": loan_id, **dict(zip(COST_COLUMNS, outputs, strict=True))})
