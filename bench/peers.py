"""Peers: what a user would otherwise write, and the ratio table against them and the floor.

Run `python -m bench.peers` (or `make peers`). Every figure is taken in the same run on the same
machine, as the best of a few repetitions; ratios are what we report, never bare seconds.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
import numpy_financial as npf
import polars as pl

import accrual
from accrual.schema import prepare_loans

ANNUITY_TERMS = ("loan_id", "principal", "annual_rate", "term")


def annuity_book(n: int, seed: int = 1) -> pl.DataFrame:
    """A generated book with every loan as a monthly-basis equal-installment loan: the one method
    every peer implements, so all of them do the same work."""
    book = accrual.generate(n, seed)
    annual = pl.coalesce(pl.col("annual_rate"), pl.col("daily_rate") * 360)
    return book.with_columns(
        annual_rate=annual, daily_rate=None, method=pl.lit("equal_installment"), term_unit=pl.lit("month"),
        interest_basis=pl.lit("monthly"), installment_multiple=None, installment_fee_rate=0.0,
        interest_free_days=0,
    ).with_columns(term=pl.when(pl.col("term") > 36).then(36).otherwise(pl.col("term")))  # fmt: skip


def numpy_schedule(loans: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NumPy-vectorised equal-installment schedules with per-period fen rounding: loans in
    parallel lanes, one vector step per period; no table, no dates (SPEC.md section 9's peer)."""
    principal = np.round(loans["principal"].cast(pl.Float64).to_numpy() * 100)
    rate = loans["annual_rate"].to_numpy() / 12
    term = loans["term"].to_numpy()
    payment = np.round(-npf.pmt(rate, term, principal))
    periods = int(term.max())
    interest = np.zeros((periods, principal.shape[0]))
    paid = np.zeros_like(interest)
    balance = principal.copy()
    for k in range(periods):
        live = k < term
        last = k == term - 1
        interest[k] = np.where(live, np.floor(balance * rate + 0.5), 0.0)
        paid[k] = np.where(last, balance, np.where(live, np.minimum(payment - interest[k], balance), 0.0))
        balance -= paid[k]
    return interest, paid, balance


def amortization_schedule(loans: pl.DataFrame) -> list[tuple]:
    """The `amortization` package, loan by loan (floats rounded with round(x, 2), as it does)."""
    from amortization.schedule import amortization_schedule as rows

    out = []
    for principal, rate, term in loans.select("principal", "annual_rate", "term").iter_rows():
        out.extend(rows(float(principal), rate, term))
    return out


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def floor_seconds(loans: pl.DataFrame, repeat: int) -> tuple[float, int]:
    """Seconds to allocate and write a schedule-sized table fresh, and its bytes."""
    from bench.floor import schedule_floor, schedule_offsets

    arrays = prepare_loans(loans, {})
    offsets = schedule_offsets(arrays)
    ids = arrays.loan_id.to_numpy()
    nbytes = schedule_floor(offsets, ids, arrays.principal, arrays.disbursed_on)  # compile
    return best(lambda: schedule_floor(offsets, ids, arrays.principal, arrays.disbursed_on), repeat), nbytes


def compile_seconds() -> tuple[float, float]:
    """First call of `schedule` in a fresh process: with an empty Numba cache, then with it warm."""
    code = (
        "import time, datetime as dt, polars as pl; t = time.perf_counter(); import accrual;"
        "accrual.schedule(pl.DataFrame({'loan_id': [1], 'principal': [1.0], 'annual_rate': [0.1],"
        "'term': [2], 'disbursed_on': [dt.date(2024, 1, 1)]})); print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout)  # fmt: skip
        return run(), run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--loans", type=int, default=1_000_000)
    parser.add_argument("--amortization-loans", type=int, default=20_000,
                        help="the per-loan peer runs on this many loans, scaled up linearly")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    generated = accrual.generate(args.loans, seed=1)
    loans = annuity_book(args.loans)
    accrual.schedule(loans.head(10))
    rows = accrual.schedule(loans).height
    rows_generated = accrual.schedule(generated).height
    floor, nbytes = floor_seconds(loans, args.repeat)
    floor_generated, nbytes_generated = floor_seconds(generated, args.repeat)
    ours = best(lambda: accrual.schedule(loans), args.repeat)
    ours_generated = best(lambda: accrual.schedule(generated), args.repeat)
    numpy_peer = best(lambda: numpy_schedule(loans), args.repeat)
    sample = loans.head(args.amortization_loans)
    amort = best(lambda: amortization_schedule(sample), 1) * args.loans / sample.height
    cold, cached = compile_seconds()

    print(f"schedules, {args.loans:,} loans; {os.cpu_count()} cores; best of {args.repeat}")
    print("| work | rows | accrual (s) | peer (s) | ratio |")
    print("|---|---|---|---|---|")
    print(
        f"| generated book vs floor ({nbytes_generated / 1e9:.2f} GB) | {rows_generated:,} | "
        f"{ours_generated:.3f} | floor {floor_generated:.3f} | {ours_generated / floor_generated:.2f}× the floor |"
    )
    print(
        f"| annuity book vs floor ({nbytes / 1e9:.2f} GB) | {rows:,} | {ours:.3f} | floor {floor:.3f} | "
        f"{ours / floor:.2f}× the floor |"
    )
    print(
        f"| annuity book vs NumPy + numpy_financial.pmt | {rows:,} | {ours:.3f} | {numpy_peer:.3f} | "
        f"{numpy_peer / ours:.1f}× faster |"
    )
    print(
        f"| annuity book vs `amortization` per loan (scaled from {sample.height:,}) | {rows:,} | {ours:.3f} | "
        f"{amort:.1f} | {amort / ours:.0f}× faster |"
    )
    print(f"| first call, empty Numba cache | | {cold:.2f} | | |")
    print(f"| first call, warm cache (new process) | | {cached:.2f} | | |")  # fmt: skip


if __name__ == "__main__":
    main()
