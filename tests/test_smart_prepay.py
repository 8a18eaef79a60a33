"""Smart prepay: constraints (buffer, minimum, outstanding, positive saving, none when the fee
outweighs it), the strategy choice, exact savings realised by EOD, validation."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import polars as pl
import pytest

import accrual as ac
from tests.servicing import lifetime_interest, scenario

D = Decimal
DAY = dt.date(2024, 1, 20)
LOANS = pl.DataFrame(
    {"loan_id": [1, 2, 3], "principal": [D(12000)] * 3, "annual_rate": [0.18] * 3, "term": [12] * 3,
     "disbursed_on": [dt.date(2024, 1, 10)] * 3}
)  # fmt: skip
BOOK = ac.accrue(LOANS, DAY - dt.timedelta(days=1)).book


def _wallets(*balances) -> pl.DataFrame:
    return pl.DataFrame({"loan_id": list(range(1, len(balances) + 1)), "balance": [D(b) for b in balances]})


def test_the_wallet_above_the_buffer_settles_interest_then_prepays():
    got = ac.smart_prepay(BOOK, _wallets(5000), DAY, buffer=1000).row(0, named=True)
    settled = D(12000) * D("0.18") / 360 * 10  # 10 days to the day: 60.00
    assert got["payment"] == D(4000) and got["amount"] == D(4000) - settled
    assert got["fee"] == 0 and got["net_saving"] == got["interest_saved"] > 0


def test_constraints_buffer_minimum_outstanding():
    wallets = _wallets(1000, 1500, 1_000_000)
    got = ac.smart_prepay(BOOK, wallets, DAY, buffer=1000, min_amount=500)
    by_loan = {r["loan_id"]: r for r in got.iter_rows(named=True)}
    assert 1 not in by_loan  # nothing above the buffer
    assert 2 not in by_loan  # 500 − 60.00 interest leaves 440.00 < min_amount
    assert by_loan[3]["amount"] == D(12000)  # never more than the principal outstanding
    assert by_loan[3]["payment"] == D("12060.00")
    for row in got.iter_rows(named=True):
        wallet = wallets.filter(pl.col("loan_id") == row["loan_id"])["balance"].item()
        assert wallet - row["payment"] >= 1000 and row["amount"] >= 500


def test_none_when_the_fee_outweighs_the_saving():
    # two months left at 18%/year save about 0.5% of the prepaid principal: a 3% fee is too much
    late = ac.accrue(LOANS, dt.date(2024, 11, 15), _on_time(LOANS, dt.date(2024, 11, 15))).book
    cheap = ac.smart_prepay(late, _wallets(5000, 5000, 5000), dt.date(2024, 11, 16), prepay_fee_rate=0.001)
    dear = ac.smart_prepay(late, _wallets(5000, 5000, 5000), dt.date(2024, 11, 16), prepay_fee_rate=0.03)
    assert cheap.height == 3 and (cheap["net_saving"] > 0).all()
    assert dear.height == 0
    # the fee comes out of the payment: amount + fee + interest settled = payment
    row = ac.smart_prepay(BOOK, _wallets(5000), DAY, buffer=1000, prepay_fee_rate=0.005).row(0, named=True)
    assert row["fee"] == (row["amount"] * D("0.005")).quantize(D("0.01"), ROUND_HALF_UP)
    assert row["amount"] + row["fee"] + D("60.00") == row["payment"] == D(4000)


def test_strategy_follows_what_the_wallet_keeps():
    # after paying, 1,000 stays: enough for the next installment (~1,100)? no → reduce_installment
    low = ac.smart_prepay(BOOK, _wallets(5000), DAY, buffer=1000).row(0, named=True)
    high = ac.smart_prepay(BOOK, _wallets(5000), DAY, buffer=2000).row(0, named=True)
    assert str(low["strategy"]) == "reduce_installment"
    assert str(high["strategy"]) == "reduce_term"
    assert (
        str(ac.smart_prepay(BOOK, _wallets(5000), DAY, buffer=1000, cover=0)["strategy"][0]) == "reduce_term"
    )


def _on_time(loans: pl.DataFrame, through: dt.date) -> pl.DataFrame:
    plan = ac.schedule(loans)
    return (
        plan.filter(pl.col("due_on") <= through)
        .select("loan_id", pl.col("due_on").alias("paid_on"), pl.col("payment").alias("amount"))
        .with_row_index("payment_id")
        .with_columns(pl.col("payment_id").cast(pl.Int64))
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_paying_the_recommendation_saves_exactly_what_it_says(seed):
    """Random serviced loans (any method, fees, strategies, prepayment fees): paying each
    recommendation through EOD on `as_of` changes the loan's remaining interest by exactly
    `interest_saved`, and leaves `principal_outstanding` lower by exactly `amount`."""
    loans, pays, _, as_of = scenario(300, seed, horizon=120)
    loans = loans.with_columns(grace_days=pl.lit(0), write_off_after_days=pl.lit(None, dtype=pl.Int64))
    book = ac.accrue(loans, as_of, pays).book
    day = as_of + dt.timedelta(days=1)
    rng = np.random.default_rng(seed)
    wallets = pl.DataFrame(
        {"loan_id": book["loan_id"], "balance": rng.integers(0, 2_000_000, book.height) / 100}
    )
    recs = ac.smart_prepay(book, wallets, day, buffer=200, min_amount=50)
    assert recs.height > 25
    assert (recs["net_saving"] > 0).all() and (recs["amount"] >= 50).all()
    with_balance = recs.join(wallets, on="loan_id")
    assert (with_balance["balance"].cast(pl.Decimal(18, 2)) - with_balance["payment"] >= 200).all()
    chosen = book.filter(pl.col("loan_id").is_in(recs["loan_id"].implode()))
    base = ac.accrue(chosen, day)
    paid = ac.accrue(
        chosen,
        day,
        recs.select("loan_id", pl.lit(day).alias("paid_on"), pl.col("payment").alias("amount"),
                    pl.col("strategy").cast(pl.String).alias("prepay")).with_row_index("payment_id"),
    )  # fmt: skip
    saved = (
        lifetime_interest(base.book, base.postings)
        .join(lifetime_interest(paid.book, paid.postings), on="loan_id", suffix="_paid")
        .join(recs, on="loan_id")
        .join(base.book.select("loan_id", "principal_outstanding"), on="loan_id")
        .join(paid.book.select("loan_id", pl.col("principal_outstanding").alias("left")), on="loan_id")
    )
    assert (saved["interest"] - saved["interest_paid"] == saved["interest_saved"]).all()
    assert (saved["principal_outstanding"] - saved["left"] == saved["amount"]).all()


def test_ineligible_loans_get_nothing():
    overdue = ac.accrue(LOANS, dt.date(2024, 3, 1)).book  # two installments billed and unpaid
    assert ac.smart_prepay(overdue, _wallets(9000, 9000, 9000), dt.date(2024, 3, 2)).height == 0
    due_today = ac.smart_prepay(BOOK, _wallets(9000), dt.date(2024, 2, 10))  # bills before it applies
    assert due_today.height == 0
    assert ac.smart_prepay(LOANS, _wallets(9000), DAY).height == 1  # fresh loans are eligible


def test_validation():
    with pytest.raises(ac.ValidationError, match="already accrued"):
        ac.smart_prepay(BOOK, _wallets(9000), DAY - dt.timedelta(days=1))
    with pytest.raises(ac.ValidationError, match=r"wallets.*|unknown loan"):
        ac.smart_prepay(BOOK, pl.DataFrame({"loan_id": [99], "balance": [1.0]}), DAY)
    with pytest.raises(ac.ValidationError, match="duplicate"):
        ac.smart_prepay(BOOK, pl.DataFrame({"loan_id": [1, 1], "balance": [1.0, 2.0]}), DAY)
    with pytest.raises(ac.ValidationError, match="balance"):
        ac.smart_prepay(BOOK, pl.DataFrame({"loan_id": [1], "balance": [-1.0]}), DAY)
    with pytest.raises(ValueError, match="buffer"):
        ac.smart_prepay(BOOK, _wallets(9000), DAY, buffer=-5)
    got, rejects = ac.smart_prepay(
        BOOK, pl.DataFrame({"loan_id": [1, 99], "balance": [9000.0, 1.0]}), DAY, errors="reject"
    )
    assert got["loan_id"].to_list() == [1] and rejects["loan_id"].to_list() == [99]


def test_a_loans_table_counts_as_paid_on_schedule_before_as_of():
    """Recommendations on fresh loans months after disbursement equal those on the book EOD
    leaves when every installment before as_of was paid on its due date."""
    loans = ac.generate(400, seed=9)
    day = dt.date(2026, 9, 15)
    wallets = pl.DataFrame({"loan_id": loans["loan_id"], "balance": [3000.0] * loans.height})
    fresh = ac.smart_prepay(loans, wallets, day, buffer=100)
    book = ac.accrue(loans, day - dt.timedelta(days=1), _on_time(loans, day - dt.timedelta(days=1))).book
    serviced = ac.smart_prepay(book, wallets, day, buffer=100)
    assert fresh.height > 100
    assert fresh.equals(serviced)
