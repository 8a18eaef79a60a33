"""Golden EOD scenarios, worked by hand (sources named in each test)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

import accrual as ac

D = Decimal
# 2,500.00 at 0.05%/day, equal principal over 5 months from 2024-01-01: the first installment,
# due 2024-02-01 after 31 days, is 500.00 principal + 2500 × 0.0005 × 31 = 38.75 interest.
LOAN = pl.DataFrame(
    {
        "loan_id": [7],
        "principal": [D("2500.00")],
        "daily_rate": [0.0005],
        "term": [5],
        "disbursed_on": [dt.date(2024, 1, 1)],
        "method": ["equal_principal"],
    }
)
DUE = dt.date(2024, 2, 1)


def pay(on: dt.date, amount: str, payment_id: int = 1) -> pl.DataFrame:
    return pl.DataFrame({"payment_id": [payment_id], "loan_id": [7], "paid_on": [on], "amount": [D(amount)]})


def totals(postings: pl.DataFrame) -> dict[str, Decimal]:
    rows = postings.group_by("kind").agg(pl.col("amount").sum()).iter_rows()
    return {str(kind): amount for kind, amount in rows}


def test_spec_worked_penalty_case():
    """SPEC.md section 4: 500.00 + 38.75 paid 10 days late, penalty 1.5 × 0.05%/day, grace 0:
    penalty 500 × 0.00075 × 10 = 3.75; compound 38.75 × 0.00075 × 10 = 0.29; together 4.04."""
    late = DUE + dt.timedelta(days=10)
    with_compound = totals(ac.accrue(LOAN, late, pay(late, "543.79")).postings)
    assert with_compound["penalty"] == D("3.75") and with_compound["compound"] == D("0.29")
    assert with_compound["pay_penalty"] == D("4.04")
    without = totals(ac.accrue(LOAN, late, pay(late, "543.79"), compound=False).postings)
    assert without["penalty"] == D("3.75") and "compound" not in without
    # 10 days of 0.375 post 3.75, not 3.80: cumulative rounding
    daily = ac.accrue(LOAN, late - dt.timedelta(days=1), compound=False).postings.filter(
        pl.col("kind") == "penalty"
    )["amount"]
    assert daily.len() == 10 and daily.sum() == D("3.75")


def test_emergency_preset_late_payer():
    """应急呗 policy (SPEC.md section 2): the same installment paid 10 days late.
    Days 0–2 (grace): contract interest 500 × 0.0005 × 3 = 0.75, due at once.
    Days 3–9: penalty 500 × 0.00075 × 7 = 2.625 → 2.63.
    End of day 3 (late_fee_after_days 4): late fee 5% × 538.75 = 26.9375 → 26.94.
    Days 7–9 (compound after 7): (38.75 + 0.75) × 0.00075 × 3 = 0.088875 → 0.09."""
    late = DUE + dt.timedelta(days=10)
    result = ac.accrue(LOAN, late - dt.timedelta(days=1), **ac.presets["emergency"])
    got = totals(result.postings)
    assert got["penalty"] == D("2.63")
    assert got["late_fee"] == D("26.94")
    assert got["compound"] == D("0.09")
    assert got["bill_interest"] == D("38.75") + D("0.75")  # grace-day interest is billed as it accrues
    book = result.book.row(0, named=True)
    assert book["penalty_due"] == D("2.63") + D("26.94") + D("0.09")
    assert book["interest_due"] == D("38.75") + D("0.75")
    assert book["dpd"] == 9 and book["bucket"] == "M1"


def test_on_time_reproduces_schedule():
    """SPEC.md section 3: 1000 at 0.05%/day, equal principal, 3 periods of 30/31/30 days."""
    loans = pl.DataFrame(
        {"loan_id": [1], "principal": [D("1000")], "daily_rate": [0.0005], "term": [3],
         "disbursed_on": [dt.date(2024, 4, 1)], "method": ["equal_principal"]}
    )  # fmt: skip
    plan = ac.schedule(loans)
    payments = plan.select(pl.col("period").alias("payment_id"), "loan_id", pl.col("due_on").alias("paid_on"),
                           pl.col("payment").alias("amount"))  # fmt: skip
    book, postings = ac.accrue(loans, dt.date(2024, 7, 31), payments)
    bills = postings.filter(pl.col("kind") == "bill_interest")["amount"].to_list()
    assert bills == [D("15.00"), D("10.33"), D("5.00")]
    assert postings.filter(pl.col("kind") == "bill_principal")["amount"].to_list() == [
        D("333.33"),
        D("333.33"),
        D("333.34"),
    ]
    row = book.row(0, named=True)
    assert row["status"] == "closed" and row["dpd"] == 0 and row["credit"] == 0
    assert row["principal_repaid"] == D("1000.00")


def test_refuses_to_accrue_a_day_twice():
    book = ac.accrue(LOAN, dt.date(2024, 1, 10)).book
    with pytest.raises(ac.ValidationError, match="already accrued through"):
        ac.accrue(book, dt.date(2024, 1, 10))
    with pytest.raises(ac.ValidationError, match="already accrued through"):
        ac.accrue(book, dt.date(2024, 1, 5))
    ac.accrue(book, dt.date(2024, 1, 11))  # the next day is fine


def test_overpayment_is_kept_as_credit_and_closed_stays_closed():
    """Paying off on day 10 (2024-01-10): interest to the day 2500 × 0.0005 × 9 = 11.25 (the
    disbursement day counts, the repayment day does not); the rest of 3000 is credit."""
    on = dt.date(2024, 1, 10)
    result = ac.accrue(LOAN, dt.date(2024, 3, 1), pay(on, "3000.00"))
    got = totals(result.postings)
    assert got["pay_interest"] == D("11.25")
    assert got["prepay_principal"] == D("2500.00")
    assert got["credit"] == D("3000.00") - D("2500.00") - D("11.25")
    row = result.book.row(0, named=True)
    assert row["status"] == "closed" and row["credit"] == D("488.75")
    more = ac.accrue(result.book, dt.date(2024, 3, 2), pay(dt.date(2024, 3, 2), "10.00", 2))
    row = more.book.row(0, named=True)
    assert row["status"] == "closed" and row["credit"] == D("498.75")
    assert totals(more.postings) == {"credit": D("10.00")}


def test_partial_prepayment_reduce_term_and_reduce_installment():
    """Equal installment 12,000 at 12%/year over 12 months on the monthly basis: prepaying 6,000
    on a due date keeps the installment (reduce_term) or re-amortises it over the 11 left."""
    loans = pl.DataFrame(
        {"loan_id": [7], "principal": [D("12000")], "annual_rate": [0.12], "term": [12],
         "disbursed_on": [dt.date(2024, 1, 15)], "interest_basis": ["monthly"]}
    )  # fmt: skip
    plan = ac.schedule(loans)
    first = plan.row(0, named=True)
    assert first["payment"] == D("1066.19")  # annuity of 12,000 at 1%/month over 12
    extra = first["payment"] + D("6000")
    pays = pay(first["due_on"], str(extra))
    term = ac.accrue(loans, dt.date(2024, 2, 16), pays).book.row(0, named=True)
    assert term["installment"] == D("1066.19")
    balance = first["balance"] - D("6000")
    assert term["principal_outstanding"] == balance
    # 11 months at 1% on the new balance (the annuity formula, rounded)
    m = D("0.01")
    expected = (balance * m * (1 + m) ** 11 / ((1 + m) ** 11 - 1)).quantize(D("0.01"))
    installment = ac.accrue(loans, dt.date(2024, 2, 16), pays, prepay="reduce_installment").book
    assert installment["installment"].item() == expected
