"""Random loans across every convention, as plain dict rows usable by both engines."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl

METHODS = ["equal_installment", "equal_principal", "interest_first", "bullet"]
BASES = ["daily", "monthly"]
DAY_COUNTS = ["ACT/360", "ACT/365", "30/360"]
ROUNDINGS = ["half_up", "half_even"]


def random_loan(rng: random.Random, loan_id: int) -> dict:
    """One loan with every option drawn at random, biased toward edge cases (tiny amounts, month ends)."""
    day_count = rng.choice(DAY_COUNTS)
    by_day = rng.random() < 0.15
    kind = rng.random()
    if kind < 0.1:
        principal = Decimal(rng.randint(1, 500)) / 100  # fen-sized: rounding ties are frequent
    elif kind < 0.2:
        principal = Decimal(rng.choice([1000, 5000, 12000, 100000, 1000000]))
    else:
        principal = Decimal(rng.randint(50000, 50_000_000)) / 100
    disbursed = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
    if rng.random() < 0.15:  # month ends exercise clipping
        disbursed = disbursed.replace(day=28) + dt.timedelta(days=rng.randint(0, 3))
    row = {
        "loan_id": loan_id,
        "principal": principal,
        "term": rng.randint(7, 30) if by_day else rng.choice([1, 2, 3, 5, 6, 10, 12, 20, 24, 36, 60]),
        "term_unit": "day" if by_day else "month",
        "disbursed_on": disbursed,
        "method": rng.choice(METHODS),
        "day_count": day_count,
        "interest_basis": rng.choice(BASES),
        "rounding": rng.choice(ROUNDINGS),
        "installment_multiple": rng.choice([Decimal(0)] * 6 + [Decimal(1), Decimal(10), Decimal("0.1")]),
        "installment_fee_rate": rng.choice([Decimal(0)] * 3 + [Decimal("0.006"), Decimal("0.0125")]),
        "interest_free_days": rng.choice([0, 0, 0, 7, 14, 30, 45]),
        "first_due_on": None,
    }
    if rng.random() < 0.5:
        row["daily_rate"] = Decimal(rng.randint(0, 150)) / 100000  # 0 – 0.15% a day
        row["annual_rate"] = None
    else:
        row["annual_rate"] = Decimal(rng.randint(0, 3600)) / 10000  # 0 – 36% a year
        row["daily_rate"] = None
    if not by_day and rng.random() < 0.3:
        row["first_due_on"] = disbursed + dt.timedelta(days=rng.randint(1, 60))
    return row


def random_loans(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [random_loan(rng, i) for i in range(n)]


def to_frame(rows: list[dict]) -> pl.DataFrame:
    """The rows as a loans table: money as Decimal, rates as Float64."""
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return frame.with_columns(
        pl.col("principal").cast(pl.Decimal(18, 2)),
        pl.col("installment_multiple").cast(pl.Decimal(18, 2)),
        pl.col("annual_rate", "daily_rate", "installment_fee_rate").cast(pl.Float64),
    )


def as_tuples(frame: pl.DataFrame) -> list[tuple]:
    return list(frame.select("loan_id", "period", "due_on", "payment", "principal", "interest", "fee",
                             "balance").iter_rows())  # fmt: skip


GOLDEN_DECIMALS = ("principal", "installment_multiple", "annual_rate", "daily_rate", "installment_fee_rate",
                   "upfront_fee_rate")  # fmt: skip


def golden_loans(loan: dict) -> pl.DataFrame:
    """A one-loan table from a golden case's `loan` (dates ISO; money and rates as strings, read as
    Decimal so they go in exactly as published)."""
    row: dict = {"loan_id": 1}
    for key, value in loan.items():
        if key in ("disbursed_on", "first_due_on"):
            row[key] = dt.date.fromisoformat(value)
        elif key in GOLDEN_DECIMALS:
            row[key] = Decimal(value)
        else:
            row[key] = value
    return pl.DataFrame([row])
