"""A synthetic book shaped like SPEC.md section 2: `generate(n, seed)`.

Six products of a WeChat-style consumer-credit platform, drawn independently per loan:

| product | share | method | term | price | fees |
|---|---|---|---|---|---|
| `emergency` (应急呗) | 8% | bullet | 7/14/30 days | daily rate by tier | upfront fee by tier; 30 interest-free days on some small loans |
| `weilidai` (微粒贷) | 35% | equal principal / equal installment | 5, 10, 20 months | daily rate by tier | — |
| `credit_line` (借呗-like) | 17% | equal installment | 3, 6, 12, 24 months | daily rate by tier | upfront fee by tier; 7/14 interest-free days for premium |
| `installment_plan` | 12% | equal installment at 0% | 3, 6, 12, 24, 36 months | 0 | 0.5%–0.8% a month on the original principal |
| `bank_consumer` | 18% | equal installment, monthly basis, ACT/365 | 12, 24, 36 months | 7.2%–18% a year | some installments in whole yuan |
| `small_business` | 10% | interest-first / equal installment | 12, 24, 36 months | 7.2%–18% a year | — |

Tiers (by credit score) set daily rates 0.03–0.05% / 0.05–0.10% / 0.10–0.15%, upfront fees
0% / 2% / 5% and penalty rates 0.05% / 0.10% / 0.15% a day. Segments carry their monthly
delinquency rate (white-collar 2.8%, small business 4.7%, blue-collar 9.3%, other 1.2%) as a
column for stress work. The mix averages about 19 installments a loan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from accrual.money import fen_to_money

PRODUCTS = [
    "emergency",
    "weilidai",
    "credit_line",
    "installment_plan",
    "bank_consumer",
    "small_business",
]
PRODUCT_SHARE = [0.08, 0.35, 0.17, 0.12, 0.18, 0.10]
SEGMENTS = ["white_collar", "small_business", "blue_collar", "other"]
SEGMENT_DELINQUENCY = [0.028, 0.047, 0.093, 0.012]
TIERS = ["premium", "standard", "risk"]
TIER_SHARE = [0.25, 0.55, 0.20]
TIER_DAILY_RATE = [(0.0003, 0.0005), (0.0005, 0.0010), (0.0010, 0.0015)]
TIER_UPFRONT_FEE = [0.0, 0.02, 0.05]
TIER_PENALTY_RATE = [0.0005, 0.0010, 0.0015]
METHODS = ["equal_installment", "equal_principal", "interest_first", "bullet"]
TERM_UNITS = ["month", "day"]
DAY_COUNTS = ["ACT/360", "ACT/365"]
BASES = ["daily", "monthly"]


CHUNK = 1_000_000  # loans drawn per random stream: bounded temporaries, progress per chunk


def generate(
    n: int,
    seed: int = 0,
    *,
    start: dt.date = dt.date(2026, 1, 1),
    end: dt.date = dt.date(2026, 6, 30),
    progress: Callable[[int], object] | None = None,
) -> pl.DataFrame:
    """A reproducible synthetic loans table of `n` loans disbursed between `start` and `end`.

    Loans are drawn in chunks of a million, each from its own random stream keyed by
    (seed, chunk), which bounds the temporaries; `progress(k)` is called after each chunk with
    the number of loans it drew.

    >>> import accrual as ac
    >>> book = ac.generate(1000, seed=7)
    >>> book.height, book["loan_id"].is_unique().all(), book.equals(ac.generate(1000, seed=7))
    (1000, True, True)
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    chunks = []
    for index, first in enumerate(range(0, max(n, 1), CHUNK)):
        size = min(CHUNK, n - first)
        chunks.append(_chunk(size, first + 1, np.random.default_rng([seed, index]), start, end))
        if progress is not None:
            progress(size)
    frame = pl.concat(chunks, rechunk=False) if len(chunks) > 1 else chunks[0]
    return frame


def _chunk(n: int, first_id: int, rng: np.random.Generator, start: dt.date, end: dt.date) -> pl.DataFrame:
    product = rng.choice(len(PRODUCTS), n, p=PRODUCT_SHARE).astype(np.int8)
    tier = rng.choice(len(TIERS), n, p=TIER_SHARE).astype(np.int8)
    segment = np.where(
        product == PRODUCTS.index("small_business"),
        SEGMENTS.index("small_business"),
        rng.choice(len(SEGMENTS), n, p=[0.50, 0.05, 0.25, 0.20]),
    ).astype(np.int8)
    is_ = {name: product == i for i, name in enumerate(PRODUCTS)}

    def pick(choices: list[int], weights: list[float]) -> np.ndarray:
        return rng.choice(choices, n, p=weights)

    term = np.select(
        [is_["emergency"], is_["weilidai"], is_["credit_line"], is_["installment_plan"]],
        [pick([7, 14, 30], [0.3, 0.3, 0.4]), pick([5, 10, 20], [0.1, 0.3, 0.6]),
         pick([3, 6, 12, 24], [0.1, 0.2, 0.4, 0.3]), pick([3, 6, 12, 24, 36], [0.1, 0.2, 0.3, 0.2, 0.2])],
        pick([12, 24, 36], [0.2, 0.3, 0.5]),
    ).astype(np.int32)  # fmt: skip

    # amounts: log-uniform within each product's range, in hundreds of yuan
    ranges = [is_["emergency"], is_["small_business"], is_["bank_consumer"]]
    low = np.select(ranges, [500.0, 50_000.0, 20_000.0], 1_000.0)
    high = np.select(ranges, [5_000.0, 500_000.0, 200_000.0], 50_000.0)
    yuan = np.exp(rng.uniform(np.log(low), np.log(high)))
    principal_fen = (np.round(yuan / 100) * 100 * 100).astype(np.int64)

    rate_low = np.array([r[0] for r in TIER_DAILY_RATE])[tier]
    rate_high = np.array([r[1] for r in TIER_DAILY_RATE])[tier]
    daily = np.round(rng.uniform(rate_low, rate_high), 5)  # quoted to 0.001% a day
    annual = np.round(rng.uniform(0.072, 0.18, n), 4)  # quoted to 0.01% a year
    annual[is_["installment_plan"]] = 0.0  # priced by the monthly fee instead
    platform = ~(is_["bank_consumer"] | is_["small_business"] | is_["installment_plan"])

    method = np.full(n, METHODS.index("equal_installment"), dtype=np.int8)
    method[is_["emergency"]] = METHODS.index("bullet")
    method[is_["weilidai"] & (rng.random(n) < 0.5)] = METHODS.index("equal_principal")
    method[is_["small_business"] & (rng.random(n) < 0.6)] = METHODS.index("interest_first")
    bank = is_["bank_consumer"]

    upfront = np.where(platform, np.array(TIER_UPFRONT_FEE)[tier], 0.0)
    upfront[is_["weilidai"]] = 0.0
    installment_fee = np.where(is_["installment_plan"], np.round(rng.uniform(0.005, 0.008, n), 4), 0.0)
    free_days = np.zeros(n, dtype=np.int32)
    premium_line = is_["credit_line"] & (tier == TIERS.index("premium"))
    free_days[premium_line] = rng.choice([0, 7, 14], int(premium_line.sum()), p=[0.5, 0.25, 0.25])
    small_emergency = is_["emergency"] & (principal_fen <= 100_000) & (rng.random(n) < 0.3)
    free_days[small_emergency] = 30
    multiple_fen = np.where(bank & (rng.random(n) < 0.3), 100, 0).astype(np.int64)

    span = (end - start).days + 1
    disbursed = (start - dt.date(1970, 1, 1)).days + rng.integers(0, span, n, dtype=np.int32)

    def enum(codes: np.ndarray, categories: list[str]) -> pa.Array:
        return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(categories))

    table = pa.table(
        {
            "loan_id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64)),
            "product": enum(product, PRODUCTS),
            "segment": enum(segment, SEGMENTS),
            "tier": enum(tier, TIERS),
            "delinquency_rate": pa.array(np.array(SEGMENT_DELINQUENCY)[segment]),
            "principal": fen_to_money(principal_fen),
            "annual_rate": pa.array(np.where(platform, 0.0, annual), mask=platform),
            "daily_rate": pa.array(np.where(platform, daily, 0.0), mask=~platform),
            "term": pa.array(term),
            "term_unit": enum(is_["emergency"].astype(np.int8), TERM_UNITS),
            "disbursed_on": pa.Array.from_buffers(pa.date32(), n, [None, pa.py_buffer(disbursed)]),
            "method": enum(method, METHODS),
            "day_count": enum(bank.astype(np.int8), DAY_COUNTS),
            "interest_basis": enum(bank.astype(np.int8), BASES),
            "installment_multiple": fen_to_money(multiple_fen),
            "upfront_fee_rate": pa.array(upfront),
            "installment_fee_rate": pa.array(installment_fee),
            "interest_free_days": pa.array(free_days),
            "penalty_rate": pa.array(np.array(TIER_PENALTY_RATE)[tier]),
        }
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    categories = {
        "product": PRODUCTS, "segment": SEGMENTS, "tier": TIERS, "term_unit": TERM_UNITS,
        "method": METHODS, "day_count": DAY_COUNTS, "interest_basis": BASES,
    }  # fmt: skip
    return frame.with_columns(pl.col(name).cast(pl.Enum(cats)) for name, cats in categories.items())


BEHAVIOURS = ["on_time", "late", "partial", "prepaying", "defaulting"]
BEHAVIOUR_SHARE = [0.70, 0.12, 0.06, 0.07, 0.05]


def generate_payments(loans: pl.DataFrame, through: dt.date, seed: int = 0, **defaults: Any) -> pl.DataFrame:
    """Synthetic repayments of `loans` up to `through`, one borrower behaviour per loan.

    `on_time` pays each installment on its due date; `late` pays it 1–20 days late; `partial`
    pays half on the due date and the rest 10 days later; `prepaying` pays on time and once
    prepays a part of the principal on a random day; `defaulting` stops paying after a random
    installment. Columns `payment_id, loan_id, paid_on, amount, behaviour`; built from the
    schedule, vectorised.

    >>> import datetime as dt, accrual as ac
    >>> loans = ac.generate(100, seed=1)
    >>> pays = ac.generate_payments(loans, dt.date(2026, 9, 30), seed=1)
    >>> pays["paid_on"].max() <= dt.date(2026, 9, 30), pays["payment_id"].is_unique().all()
    (True, True)
    """
    from accrual.schedule import schedule  # here, not at import: generate is used by schedule's tests

    rng = np.random.default_rng([seed, 1])
    n = loans.height
    behaviour = rng.choice(len(BEHAVIOURS), n, p=BEHAVIOUR_SHARE)
    per_loan = pl.DataFrame(
        {
            "loan_id": loans["loan_id"],
            "behaviour": pl.Series(behaviour.astype(np.int8)),
            "lag": rng.integers(1, 21, n),
            "stop_after": rng.integers(0, 4, n),
            "prepay_day": rng.integers(1, 120, n),
            "prepay_share": rng.uniform(0.1, 0.6, n).round(2),
        }
    )
    rows = schedule(loans, **defaults).join(per_loan, on="loan_id")
    is_ = {name: pl.col("behaviour") == i for i, name in enumerate(BEHAVIOURS)}
    late_by = pl.when(is_["late"]).then(pl.col("lag")).otherwise(0)
    half = (pl.col("payment") / 2).round(2).cast(pl.Decimal(18, 2))
    paid = rows.filter(~is_["defaulting"] | (pl.col("period") <= pl.col("stop_after")))
    first = paid.select(
        "loan_id",
        "behaviour",
        (pl.col("due_on") + pl.duration(days=late_by)).alias("paid_on"),
        pl.when(is_["partial"]).then(half).otherwise(pl.col("payment")).alias("amount"),
    )
    rest = paid.filter(is_["partial"]).select(
        "loan_id",
        "behaviour",
        (pl.col("due_on") + pl.duration(days=10)).alias("paid_on"),
        (pl.col("payment") - half).alias("amount"),
    )
    prepay = (
        loans.select("loan_id", "disbursed_on", "principal")
        .join(per_loan, on="loan_id")
        .filter(is_["prepaying"])
        .select(
            "loan_id",
            "behaviour",
            (pl.col("disbursed_on") + pl.duration(days=pl.col("prepay_day"))).alias("paid_on"),
            (pl.col("principal").cast(pl.Float64) * pl.col("prepay_share"))
            .round(2)
            .cast(pl.Decimal(18, 2))
            .alias("amount"),
        )
    )
    out = (
        pl.concat([first, rest, prepay])
        .filter(pl.col("paid_on") <= through)
        .sort("paid_on", "loan_id")
        .with_columns(pl.col("behaviour").cast(pl.String).replace_strict(
            {str(i): b for i, b in enumerate(BEHAVIOURS)}, return_dtype=pl.Enum(BEHAVIOURS)))
    )  # fmt: skip
    return out.with_row_index("payment_id", offset=1).with_columns(pl.col("payment_id").cast(pl.Int64))
