"""pytest-benchmark: the EOD batch (one day, a 30-day catch-up) at 10k and 1M loans, with the
simplified NumPy and polars day steps beside it. Floors and peak memory: `bench/peers.py`.

`make test` runs each once with --benchmark-disable, as a smoke test.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from bench.peers import EOD_DAY, fresh_bytes, numpy_day_inputs
from bench.registry import COMPARISONS

accrue = COMPARISONS["accrue"]["accrual"]
PEERS = COMPARISONS["accrue"]["peers"]


def test_one_day(benchmark, serviced):
    book, payments = serviced
    day = payments.filter(pl.col("paid_on") == EOD_DAY)
    benchmark.pedantic(accrue, args=(book, EOD_DAY, day), rounds=5, warmup_rounds=1)


def test_thirty_day_catch_up(benchmark, serviced):
    book, payments = serviced
    month = EOD_DAY + dt.timedelta(days=29)
    benchmark.pedantic(
        accrue, args=(book, month, payments.filter(pl.col("paid_on") <= month)), rounds=3, warmup_rounds=1
    )


def test_one_day_summary_postings(benchmark, serviced):
    book, payments = serviced
    day = payments.filter(pl.col("paid_on") == EOD_DAY)
    benchmark.pedantic(lambda: accrue(book, EOD_DAY, day, postings="summary"), rounds=5, warmup_rounds=1)


def test_numpy_peer(benchmark, serviced):
    arrays, paid, today = numpy_day_inputs(*serviced)
    benchmark.pedantic(PEERS["numpy"], args=(arrays, paid, today), rounds=5, warmup_rounds=1)


def test_polars_peer(benchmark, serviced):
    benchmark.pedantic(PEERS["polars"], args=serviced, rounds=5, warmup_rounds=1)


def test_numpy_peer_does_comparable_work(serviced):
    """On loans accruing by the day (ACT/360, nothing overdue, no free days), the peer's daily
    interest is within a fen of ours: ours is cumulative-rounded, the peer's rounded per day."""
    book, payments = serviced
    arrays, paid, today = numpy_day_inputs(book, payments)
    peer = PEERS["numpy"](arrays, paid, today)
    ours = accrue(book, EOD_DAY).postings.filter(pl.col("kind") == "interest")
    position = book.select("loan_id").with_row_index("position")
    plain = book.with_row_index("position").filter(
        (pl.col("day_count") == "ACT/360") & (pl.col("interest_basis") == "daily") & (pl.col("dpd") == 0) & (pl.col("principal_due") == 0)
        & (pl.col("next_due_on") != EOD_DAY) & (pl.col("accruing_since") >= pl.col("disbursed_on") + pl.duration(days=pl.col("interest_free_days")))
    )["position"].to_numpy()  # fmt: skip
    mine = ours.join(position, on="loan_id")
    ours_fen = np.zeros(book.height)
    ours_fen[mine["position"].to_numpy()] = np.rint(mine["amount"].cast(pl.Float64).to_numpy() * 100)
    peer_fen = np.zeros(book.height)
    peer_fen[peer["post_loan"]] = peer[
        "post_amount"
    ]  # interest rows come first; penalty rows only for overdue loans
    assert plain.size > 0
    assert np.abs(ours_fen[plain] - peer_fen[plain]).max() <= 1


def test_fresh_bytes_counts_pages_a_call_touches():
    size = 64 * 1024 * 1024  # above glibc's mmap threshold: fresh pages, faulted in on first write
    touched = fresh_bytes(lambda: np.ones(size, dtype=np.uint8).sum())
    if touched is None:
        pytest.skip("no /proc/vmstat here")
    assert touched >= 0.9 * size
