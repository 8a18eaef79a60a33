"""SPEC.md invariant 1 over generated portfolios: principal sums to the loan, balances never go
negative and end at 0, and each row adds up."""

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import accrual as ac
from tests.loans import DAY_COUNTS, METHODS, ROUNDINGS

loan_rows = st.fixed_dictionaries(
    {
        "principal": st.integers(1, 10**10).map(lambda fen: fen / 100),
        "annual_rate": st.integers(0, 3599).map(lambda bp: bp / 10000),
        "term": st.integers(1, 60),
        "term_unit": st.sampled_from(["month", "month", "month", "day"]),
        "disbursed_on": st.dates(dt.date(2000, 1, 1), dt.date(2060, 12, 31)),
        "method": st.sampled_from(METHODS),
        "day_count": st.sampled_from(DAY_COUNTS),
        "interest_basis": st.sampled_from(["daily", "monthly"]),
        "rounding": st.sampled_from(ROUNDINGS),
        "installment_multiple": st.sampled_from([0.0, 0.0, 1.0, 10.0, 100.0]),
        "installment_fee_rate": st.sampled_from([0.0, 0.0, 0.006, 0.02]),
        "interest_free_days": st.sampled_from([0, 0, 7, 30, 400]),
    }
)


@given(st.lists(loan_rows, min_size=1, max_size=40))
def test_schedule_invariants(rows):
    loans = pl.DataFrame([{"loan_id": i, **r} for i, r in enumerate(rows)])
    out = ac.schedule(loans)
    per_loan = (
        out.group_by("loan_id")
        .agg(
            pl.col("principal").sum(),
            pl.col("balance").last(),
            pl.col("balance").min().alias("lowest"),
            pl.len().alias("rows"),
        )
        .sort("loan_id")
    )
    # the strategy's floats are whole fen / 100, so the exact amount is known independently
    assert per_loan["principal"].to_list() == [Decimal(round(r["principal"] * 100)) / 100 for r in rows]
    assert (per_loan["balance"] == 0).all()
    assert (per_loan["lowest"] >= 0).all()
    assert (out["payment"] == out["principal"] + out["interest"] + out["fee"]).all()
    # balance falls by exactly each row's principal
    prev = out.with_columns(pl.col("balance").shift(1).over("loan_id").alias("before"))
    inner = prev.filter(pl.col("before").is_not_null())
    assert (inner["before"] - inner["principal"] == inner["balance"]).all()
    assert out.filter(pl.col("interest") < 0).is_empty()
    # due dates strictly increase within a loan
    assert (out.with_columns(pl.col("due_on").diff().over("loan_id").alias("gap"))["gap"].drop_nulls()
            .dt.total_days() > 0).all()  # fmt: skip
