"""Random servicing scenarios (terms, payments, extensions) shared by the EOD tests, and a
runner that feeds the same scenario to `accrual.accrue` and to the reference."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl

import accrual as ac
from accrual import io
from tests import reference
from tests.loans import random_loans, to_frame

SERVICING_CHOICES = {
    "grace_days": [0, 0, 3],
    "compound": [True, True, False],
    "compound_after_days": [0, 0, 7],
    "late_fee_rate": [0.0, 0.0, 0.05],
    "late_fee_after_days": [1, 4],
    "penalty_rate": [None, None, 0.0005, 0.0015],
    "non_accrual_after_days": [90, 30],
    "write_off_after_days": [None, None, 60],
    "allocation": ["oldest_first", "by_kind"],
    "prepay": ["reduce_term", "reduce_installment"],
    "prepay_fee_rate": [0.0, 0.0, 0.005],
    "prepay_keeps_fees": [False, False, True],
}
START = dt.date(2023, 1, 1)


def huge_page_advice() -> bool:
    """Whether NumPy now asks for transparent huge pages on large arrays (read by setting it back)."""
    switch = io.huge_page_switch()
    assert switch is not None, "this NumPy has no huge-page switch"
    state = switch(True)
    switch(state)
    return bool(state)


def scenario(
    n: int, seed: int, horizon: int = 200, extra_payments: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dt.date]:
    """(loans with servicing columns, payments, extensions, as_of) for n random loans.

    Payments follow `generate_payments` behaviours; `extra_payments` adds odd amounts on odd days.
    """
    rng = random.Random(seed)
    rows = random_loans(n, seed)
    for row in rows:
        for name, choices in SERVICING_CHOICES.items():
            row[name] = rng.choice(choices)
    loans = to_frame(rows).with_columns(
        pl.col("penalty_rate", "late_fee_rate", "prepay_fee_rate").cast(pl.Float64)
    )
    as_of = max(r["disbursed_on"] for r in rows) + dt.timedelta(days=horizon)
    pays = ac.generate_payments(loans, as_of, seed=seed).select("loan_id", "paid_on", "amount", "behaviour")
    extra = []  # odd amounts on odd days: partial settlements, credits, prepayments
    for row in rows:
        for _ in range(rng.choice([0, 0, 1, 3])):
            day = row["disbursed_on"] + dt.timedelta(days=rng.randint(0, horizon))
            if day <= as_of:
                amount = Decimal(rng.choice([rng.randint(1, 500), rng.randint(1, 10**7)])) / 100
                extra.append({"loan_id": row["loan_id"], "paid_on": day, "amount": amount})
    if extra and extra_payments:
        pays = pl.concat([pays, pl.DataFrame(extra, schema=pays.drop("behaviour").schema)], how="diagonal")
    pays = pays.with_row_index("payment_id").with_columns(pl.col("payment_id").cast(pl.Int64))
    sched = ac.schedule(loans.drop(*SERVICING_CHOICES))
    firsts = (
        sched.filter(pl.col("period") <= 2).sample(fraction=0.1, seed=seed).unique("loan_id", keep="first")
    )
    extensions = firsts.select("loan_id", "due_on", pl.lit(rng.randint(1, 3)).alias("days"))
    return loans, pays, extensions, as_of


def reference_run(loans: pl.DataFrame, pays: pl.DataFrame, extensions: pl.DataFrame, as_of: dt.date) -> dict:
    """loan_id → reference.Serviced."""
    out = {}
    by_loan: dict = {}
    for p in pays.sort("paid_on", "payment_id").iter_rows(named=True):
        by_loan.setdefault(p["loan_id"], []).append((p["paid_on"], Decimal(p["amount"]), p.get("prepay")))
    ext: dict = {}
    for e in extensions.iter_rows(named=True):
        ext.setdefault(e["loan_id"], {})[e["due_on"]] = e["days"]
    rows = loans.to_dicts()
    for row, loan in zip(rows, reference.loans_from_rows(rows), strict=True):
        terms = reference.Servicing(
            **{
                k: (Decimal(str(row[k])) if isinstance(row[k], float) else row[k])
                for k in SERVICING_CHOICES
                if k in row
            }
        )
        out[row["loan_id"]] = reference.service(
            loan, terms, as_of, by_loan.get(row["loan_id"], []), ext.get(row["loan_id"])
        )
    return out


def lifetime_interest(book: pl.DataFrame, postings: pl.DataFrame) -> pl.DataFrame:
    """`loan_id, interest`: contract interest over each loan's life as the run leaves it — what it
    accrued (settled, billed or not yet billed) plus its remaining schedule's, less the current
    segment, which both count."""
    run = (
        postings.filter(pl.col("kind") == "interest")
        .group_by("loan_id")
        .agg(pl.col("amount").sum().alias("run"))
    )
    ahead = ac.schedule(book).group_by("loan_id").agg(pl.col("interest").sum().alias("ahead"))
    return (
        book.select("loan_id", "interest_accrued")
        .join(run, on="loan_id", how="left")
        .join(ahead, on="loan_id", how="left")
        .with_columns(pl.col("run", "ahead").fill_null(Decimal(0)))
        .select("loan_id", (pl.col("run") - pl.col("interest_accrued") + pl.col("ahead")).alias("interest"))
        .sort("loan_id")
    )
