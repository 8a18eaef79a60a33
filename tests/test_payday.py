"""Payday alignment: due dates follow payday, the shifted first period accrues by the day."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import polars as pl
import pytest

import accrual as ac


def test_every_due_date_follows_payday():
    loans = ac.generate(3000, seed=6).with_columns(payday=(pl.col("loan_id") % 31 + 1).cast(pl.Int64))
    aligned = ac.align_to_payday(loans, "payday", lag=1)
    plan = ac.schedule(aligned).join(
        aligned.select("loan_id", "payday", "disbursed_on", "term_unit"), on="loan_id"
    )
    monthly = plan.filter(pl.col("term_unit") == "month")
    assert monthly.height > 10_000
    for row in monthly.iter_rows(named=True):
        due = row["due_on"]
        last = calendar.monthrange(due.year, due.month)[1]
        assert due.day == min(row["payday"] + 1, last)
    first = monthly.filter(pl.col("period") == 1)
    gap = (first["due_on"] - first["disbursed_on"]).dt.total_days()
    assert (gap >= 15).all() and (gap < 15 + 31 + 31).all()
    by_day = aligned.filter(pl.col("term_unit") == "day")
    assert by_day["first_due_on"].null_count() == by_day.height
    unchanged = ac.schedule(loans.filter(pl.col("term_unit") == "day"))
    assert ac.schedule(by_day.drop("payday")).equals(unchanged)


def test_the_shifted_first_period_accrues_by_the_day():
    """Monthly basis, 12,000 at 12%: disbursed 2024-01-25, salary on the 10th, so the first
    installment is due 2024-02-11 after 17 days: 12,000 × 0.12 / 360 × 17 = 68.00 (not 120.00)."""
    loans = pl.DataFrame(
        {"loan_id": [1], "principal": [Decimal(12000)], "annual_rate": [0.12], "term": [12],
         "disbursed_on": [dt.date(2024, 1, 25)], "interest_basis": ["monthly"]}
    )  # fmt: skip
    plan = ac.schedule(ac.align_to_payday(loans, 10))
    first, second = plan.row(0, named=True), plan.row(1, named=True)
    assert first["due_on"] == dt.date(2024, 2, 11) and first["interest"] == Decimal("68.00")
    assert second["due_on"] == dt.date(2024, 3, 11)
    assert second["interest"] == (first["balance"] * Decimal("0.01")).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_bad_paydays_are_named():
    loans = pl.DataFrame({"loan_id": [1, 2], "disbursed_on": [dt.date(2024, 1, 1)] * 2, "payday": [5, 40]})
    with pytest.raises(ac.ValidationError, match=r"payday.*\[2\]"):
        ac.align_to_payday(loans, "payday")
    with pytest.raises(ValueError, match="lag"):
        ac.align_to_payday(loans, 5, lag=-1)


def test_payday_is_a_loan_parameter_of_every_verb():
    loans = ac.generate(500, seed=7)
    aligned = ac.align_to_payday(loans, 10)
    assert ac.schedule(loans, payday=10).equals(ac.schedule(aligned))
    assert ac.apr(loans, payday=10).equals(ac.apr(aligned))
    paydays = loans.with_columns(payday=pl.when(pl.col("loan_id") % 2 == 0).then(10).otherwise(None))
    plan = ac.schedule(paydays)
    halves = ac.schedule(
        pl.concat(
            [aligned.filter(pl.col("loan_id") % 2 == 0), loans.filter(pl.col("loan_id") % 2 == 1)],
            how="diagonal_relaxed",
        )
    )
    assert plan.sort("loan_id", "period").equals(halves.sort("loan_id", "period"))  # null payday: not aligned
    given = loans.head(1).with_columns(first_due_on=pl.col("disbursed_on") + dt.timedelta(days=20))
    assert ac.schedule(given, payday=10).equals(ac.schedule(given))  # an explicit first_due_on wins
    book = ac.accrue(loans, dt.date(2026, 7, 31), payday=10).book
    assert book.filter(pl.col("term_unit") == "month")[
        "next_due_on"
    ].drop_nulls().dt.day().unique().to_list() == [11]
    with pytest.raises(ac.ValidationError, match=r"column 'payday'.*\[1, 31\]"):
        ac.schedule(loans, payday=40)
