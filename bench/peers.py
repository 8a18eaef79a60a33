"""Peers: what a user would otherwise write, and the ratio table against them and the floor.

Run `python -m bench.peers` (or `make peers`). Every figure is taken in the same run on the same
machine, as the best of a few repetitions; ratios are what we report, never bare seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import numpy_financial as npf
import polars as pl

import accrual
from accrual.io import small_pages
from accrual.schema import prepare_loans
from bench.floor import SCHEDULE_ROW_BYTES, eod_floor, schedule_floor, schedule_offsets, table_buffers

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


IrrInputs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def irr_inputs(loans: pl.DataFrame) -> IrrInputs:
    """What the pyxirr peer starts from: every installment's payment (float yuan, from our
    schedule), each loan's row offsets, net disbursement (principal less the upfront fee, half-up),
    periods before its first payment (`term` for one-payment loans) and periods per year. Building
    these is not timed."""
    table = accrual.schedule(loans)
    payments = table["payment"].cast(pl.Float64).to_numpy()
    counts = table.group_by("loan_id", maintain_order=True).len()["len"].to_numpy()
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    principal = loans["principal"].cast(pl.Float64).to_numpy()
    upfront = loans["upfront_fee_rate"].cast(pl.Float64).fill_null(0.0).to_numpy()
    net = principal - np.floor(principal * upfront * 100 + 0.5) / 100
    by_day = (loans["term_unit"].cast(pl.String) == "day").to_numpy()
    once = by_day | (loans["method"].cast(pl.String) == "bullet").to_numpy()
    first = np.where(once, loans["term"].to_numpy(), 1)
    return payments, offsets, net, first, np.where(by_day, 365, 12)


def pyxirr_per_loan(inputs: IrrInputs) -> np.ndarray:
    """The IRR-annualised rate the way a user writes it: a loop over loans, each building its
    cash-flow list (−net, then one amount a period) and calling `pyxirr.irr`. Day-term loans
    and bullets pay once, after `term` periods of nothing."""
    import pyxirr

    payments, offsets, net, first, per_year = inputs
    out = np.empty(net.shape[0])
    for i in range(net.shape[0]):
        idle = [0.0] * (first[i] - 1)
        out[i] = pyxirr.irr([-net[i], *idle, *payments[offsets[i] : offsets[i + 1]]]) * per_year[i]
    return out


EOD_START = dt.date(2026, 6, 30)  # the generated book's last disbursement day
EOD_DAY = EOD_START + dt.timedelta(days=1)


def eod_book(n: int, seed: int = 1, base: int = 1_000_000) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(book serviced through EOD_START with synthetic borrowers, the payments of EOD_DAY and the
    30 days after it).

    Up to `base` loans are generated and serviced from disbursement (summary postings); a larger
    book repeats that one with fresh loan ids (copy k adds k × 10^9), which keeps the mix and
    avoids building 10M loans' history (their payment schedules alone would not fit in memory).
    """
    size = min(n, base)
    loans = accrual.generate(size, seed)
    payments = accrual.generate_payments(loans, EOD_DAY + dt.timedelta(days=30), seed=seed)
    book = accrual.accrue(
        loans, EOD_START, payments.filter(pl.col("paid_on") <= EOD_START), postings="summary"
    ).book
    later = payments.filter(pl.col("paid_on") > EOD_START)
    if n <= base:
        return book, later
    copies = range(-(-n // base))
    shift = [10**9 * k for k in copies]
    books = [book.with_columns(pl.col("loan_id") + k) for k in shift]
    pays = [later.with_columns(pl.col("loan_id") + k, pl.col("payment_id") + k) for k in shift]
    return pl.concat(books).head(n), pl.concat(pays).filter(
        pl.col("loan_id") <= pl.concat(books).head(n)["loan_id"].max()
    )


def numpy_day_step(book: dict[str, np.ndarray], paid: np.ndarray, today: int) -> dict[str, np.ndarray]:
    """A simplified EOD day in vectorised NumPy (SPEC.md section 9's peer): bill what falls due,
    apply the day's payments (penalty → interest → principal), accrue interest by the day, age,
    charge penalty on overdue principal; postings for interest and penalty. Float money rounded
    to the fen each step; no schedules, no fees, no compound, no per-installment ageing."""
    outstanding, accrued = book["outstanding"], book["accrued"]
    due_today = book["next_due_on"] == today
    bill_principal = np.where(
        due_today, np.minimum(np.maximum(book["installment"] - accrued, 0), outstanding), 0
    )
    bill_interest = np.where(due_today, accrued, 0)
    principal_due = book["principal_due"] + bill_principal
    interest_due = book["interest_due"] + bill_interest
    outstanding = outstanding - bill_principal
    accrued = np.where(due_today, 0, accrued)
    pay_penalty = np.minimum(paid, book["penalty_due"])
    rest = paid - pay_penalty
    pay_interest = np.minimum(rest, interest_due)
    rest -= pay_interest
    pay_principal = np.minimum(rest, principal_due)
    principal_due = principal_due - pay_principal
    interest_due = interest_due - pay_interest
    interest = np.floor(outstanding * book["daily_rate"] + 0.5)
    penalty = np.floor(principal_due * book["penalty_rate"] + 0.5)
    overdue = principal_due + interest_due > 0
    loans = np.arange(outstanding.shape[0])
    post_loan = np.concatenate([loans[interest > 0], loans[penalty > 0]])
    post_amount = np.concatenate([interest[interest > 0], penalty[penalty > 0]])
    return {
        "outstanding": outstanding, "accrued": accrued + interest, "principal_due": principal_due,
        "interest_due": interest_due, "penalty_due": book["penalty_due"] - pay_penalty + penalty,
        "dpd": np.where(overdue, book["dpd"] + 1, 0), "post_loan": post_loan, "post_amount": post_amount,
    }  # fmt: skip


def numpy_day_inputs(
    book: pl.DataFrame, payments: pl.DataFrame
) -> tuple[dict[str, np.ndarray], np.ndarray, int]:
    """The peer's inputs: book columns as float fen arrays, the day's payments summed per loan."""

    def fen(name: str) -> np.ndarray:
        return book[name].cast(pl.Float64).to_numpy() * 100

    daily = pl.coalesce(pl.col("daily_rate"), pl.col("annual_rate") / 360)
    rates = book.select(
        daily.alias("daily"), pl.coalesce(pl.col("penalty_rate"), daily * 1.5).alias("penalty")
    )
    position = book.select("loan_id").with_row_index("position")
    day = payments.filter(pl.col("paid_on") == EOD_DAY).join(position, on="loan_id")
    paid = np.bincount(day["position"].to_numpy(), weights=day["amount"].cast(pl.Float64).to_numpy() * 100,
                       minlength=book.height)  # fmt: skip
    arrays = {
        "outstanding": fen("principal_outstanding"), "accrued": fen("interest_accrued"),
        "installment": fen("installment"), "principal_due": fen("principal_due"), "interest_due": fen("interest_due"),
        "penalty_due": fen("penalty_due"), "dpd": book["dpd"].to_numpy(),
        "next_due_on": book["next_due_on"].to_physical().fill_null(-1).to_numpy(),
        "daily_rate": rates["daily"].to_numpy(), "penalty_rate": rates["penalty"].to_numpy(),
    }  # fmt: skip
    return arrays, paid, (EOD_DAY - dt.date(1970, 1, 1)).days


def polars_day_step(book: pl.DataFrame, payments: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The same simplified day step as `numpy_day_step`, as polars expressions over the book."""
    today = pl.lit(EOD_DAY)
    paid = (
        payments.filter(pl.col("paid_on") == EOD_DAY)
        .group_by("loan_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    daily = pl.coalesce(pl.col("daily_rate"), pl.col("annual_rate") / 360)
    step = (
        book.join(paid, on="loan_id", how="left")
        .with_columns(pl.col("paid").fill_null(0), (pl.col("next_due_on") == today).fill_null(False).alias("due_today"))
        .with_columns(
            bill=pl.when("due_today").then(pl.min_horizontal(pl.max_horizontal(pl.col("installment") - pl.col("interest_accrued"), 0),
                                                               pl.col("principal_outstanding"))).otherwise(0),
            bill_interest=pl.when("due_today").then(pl.col("interest_accrued")).otherwise(0),
        )
        .with_columns(
            principal_outstanding=pl.col("principal_outstanding") - pl.col("bill"),
            principal_due=pl.col("principal_due") + pl.col("bill"),
            interest_due=pl.col("interest_due") + pl.col("bill_interest"),
            pay_penalty=pl.min_horizontal("paid", "penalty_due"),
        )
        .with_columns(pay_interest=pl.min_horizontal(pl.col("paid") - pl.col("pay_penalty"), "interest_due"))
        .with_columns(pay_principal=pl.min_horizontal(pl.col("paid") - pl.col("pay_penalty") - pl.col("pay_interest"), "principal_due"))
        .with_columns(
            principal_due=pl.col("principal_due") - pl.col("pay_principal"),
            interest_due=pl.col("interest_due") - pl.col("pay_interest"),
            interest=(pl.col("principal_outstanding").cast(pl.Float64) * daily).round(2),
        )
        .with_columns(
            penalty=(pl.col("principal_due").cast(pl.Float64) * pl.coalesce(pl.col("penalty_rate"), daily * 1.5)).round(2),
            dpd=pl.when(pl.col("principal_due") + pl.col("interest_due") > 0).then(pl.col("dpd") + 1).otherwise(0),
        )
    )  # fmt: skip
    postings = (
        step.select("loan_id", "interest", "penalty")
        .unpivot(index="loan_id", variable_name="kind", value_name="amount")
        .filter(pl.col("amount") > 0)
        .with_columns(posted_on=today)
    )
    return step.drop(
        "paid", "due_today", "bill", "bill_interest", "pay_penalty", "pay_interest", "pay_principal"
    ), postings


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def interleaved(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best seconds of each call, taken in rounds (each call once a round, in turn).

    This VM's memory speed drifts by up to 2× within minutes, and a floor timed a minute away
    from what it is compared with carries that drift into the ratio; taken in turn, both see
    the same conditions.
    """
    times = {name: float("inf") for name in calls}
    for _ in range(repeat):
        for name, fn in calls.items():
            times[name] = min(times[name], best(fn, 1))
    return times


def schedule_floor_call(loans: pl.DataFrame) -> Callable[[], object]:
    """A call allocating and writing a schedule-sized table fresh."""
    arrays = prepare_loans(loans, {})
    offsets = schedule_offsets(arrays)
    ids = arrays.loan_id.to_numpy()
    schedule_floor(offsets, ids, arrays.principal, arrays.disbursed_on)  # compile
    return lambda: schedule_floor(offsets, ids, arrays.principal, arrays.disbursed_on)


def schedule_floor_times(loans: pl.DataFrame, repeat: int) -> dict[str, float]:
    """Best seconds of `accrual.schedule(loans)` ("ours") and of its floor, timed in turn."""
    return interleaved({"floor": schedule_floor_call(loans), "ours": lambda: accrual.schedule(loans)}, repeat)


def schedule_floor_ratios(n: int, repeat: int) -> dict[str, float]:
    """Our schedule's time over its floor's, for the generated and the annuity book (this process)."""
    books = {"generated": accrual.generate(n, seed=1), "annuity": annuity_book(n)}
    for loans in books.values():
        accrual.schedule(loans.head(10))  # compile (or load) each book's kernels before timing
    times = {name: schedule_floor_times(loans, repeat) for name, loans in books.items()}
    return {name: t["ours"] / t["floor"] for name, t in times.items()}


def floor_ratios_in_processes(n: int, repeat: int, processes: int) -> dict[str, list[float]]:
    """`schedule_floor_ratios` in `processes` fresh processes, one after another.

    One run's ratio moves by ±0.3 with this VM's memory (the same code gave 1.16× and 1.95×
    within the hour); the median over several processes is the reading bench/RESULTS.md takes.
    """
    ratios: dict[str, list[float]] = {}
    command = [sys.executable, "-m", "bench.peers", "--floor-ratios", "-n", str(n), "--repeat", str(repeat)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # where `bench` is a package
    for _ in range(processes):
        out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=root).stdout.split()
        for name, value in zip(out[::2], out[1::2], strict=True):
            ratios.setdefault(name, []).append(float(value))
    return ratios


def compile_seconds(verb: str = "schedule") -> tuple[float, float]:
    """First call of a verb (`schedule`, `accrue`, `apr`, …) in a fresh process: with an empty Numba cache, then
    with the cache that first run filled."""
    call = {
        "schedule": "accrual.schedule(loans)",
        "accrue": "accrual.accrue(loans, dt.date(2024, 3, 1))",
        "apr": "accrual.apr(loans)",
        "smart_prepay": "accrual.smart_prepay(loans, loans.select('loan_id', balance=pl.lit(1.0)), dt.date(2024, 1, 5))",
        "stress": "accrual.stress(loans, months=2, paths=2); accrual.stress(loans, months=2, method='expected')",
    }[verb]
    code = (
        "import time, datetime as dt, polars as pl; t = time.perf_counter(); import accrual;"
        "loans = pl.DataFrame({'loan_id': [1], 'principal': [1.0], 'annual_rate': [0.1],"
        f"'term': [2], 'disbursed_on': [dt.date(2024, 1, 1)]}}); {call}; print(time.perf_counter() - t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, check=True,  # noqa: E731
                                           capture_output=True, text=True).stdout)  # fmt: skip
        return run(), run()


def eod_floor_call(book: pl.DataFrame, out_bytes: int, small: bool = False) -> Callable[[], object]:
    """The floor of an EOD run: read every byte of the book, write the new book and postings fresh
    (`small`: on 4 KiB pages, with NumPy's huge-page advice off as `accrue` has it for big books)."""
    buffers = table_buffers(book.to_arrow())
    eod_floor(buffers, 64)  # compile
    if not small:
        return lambda: eod_floor(buffers, out_bytes)

    def on_small_pages() -> object:
        with small_pages():
            return eod_floor(buffers, out_bytes)

    return on_small_pages


def eod_floors(book: pl.DataFrame, out_bytes: int) -> dict[str, Callable[[], object]]:
    """The floor on huge pages (NumPy's default) and on 4 KiB pages, to be timed in turn with our
    call; the faster is the floor (`cheapest_floor`). On this VM a cold huge page costs ≈ 3× a
    cold 4 KiB one and a recycled one ≈ 4× less, so which is cheaper depends on the hour."""
    return {
        "floor": eod_floor_call(book, out_bytes),
        "floor, 4 KiB pages": eod_floor_call(book, out_bytes, small=True),
    }


def cheapest_floor(times: dict[str, float]) -> tuple[float, str]:
    """(seconds, pages) of the faster of `eod_floors`' two, from `interleaved`'s times."""
    huge, small = times["floor"], times["floor, 4 KiB pages"]
    return (huge, "huge pages") if huge <= small else (small, "4 KiB pages")


def _fault_counts() -> tuple[int, int] | None:
    """(page faults, transparent huge pages faulted in) so far, machine-wide; None off Linux."""
    try:
        with open("/proc/vmstat") as stats:
            counts = dict(line.split() for line in stats)
    except OSError:
        return None
    return int(counts["pgfault"]), int(counts.get("thp_fault_alloc", 0))


def fresh_bytes(call: Callable[[], object]) -> int | None:
    """Bytes of memory newly faulted in (zeroed by the OS) while `call` runs: 4 KiB a page fault,
    2 MiB a huge one. Machine-wide counters, so read it on an otherwise idle machine; None where
    the counters are not available.

    At 10M loans zeroing fresh pages is a large part of both an EOD day and its floor (the
    floor is little else), so this says how much of the gap is memory we need not touch.
    """
    before = _fault_counts()
    call()
    after = _fault_counts()
    if before is None or after is None:
        return None
    faults, huge = after[0] - before[0], after[1] - before[1]
    return (faults - huge) * 4096 + huge * 2 * 1024 * 1024


def peak_memory(book: pl.DataFrame, payments: pl.DataFrame, day: dt.date) -> int:
    """Extra peak RSS of one `accrue(book, day, payments)` call, in a fresh process that first
    reads the book and payments from Parquet (so only the call's own memory is counted)."""
    with tempfile.TemporaryDirectory() as folder:
        book.write_parquet(f"{folder}/book.parquet")
        payments.write_parquet(f"{folder}/payments.parquet")
        code = f"""
import datetime as dt, gc, polars as pl, accrual
book = pl.read_parquet("{folder}/book.parquet")
payments = pl.read_parquet("{folder}/payments.parquet")
accrual.accrue(book.head(10), dt.date.fromisoformat("{day}"))
gc.collect()
def status(key):
    line = [x for x in open("/proc/self/status") if x.startswith(key)][0]
    return int(line.split()[1]) * 1024
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark (VmHWM)
before = status("VmRSS")
result = accrual.accrue(book, dt.date.fromisoformat("{day}"), payments)
print(status("VmHWM") - before)
"""
        out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        return int(out.stdout.split()[-1])


def eod_table(n: int, repeat: int) -> None:
    """The EOD ratios: one day and a 30-day catch-up against the floor, the peers, memory.

    Above 1M loans the catch-up posts a summary (30 days of detail for 10M loans would be
    ~340M rows); the one-day run always posts detail.
    """
    book, payments = eod_book(n)
    day = payments.filter(pl.col("paid_on") == EOD_DAY)
    month = EOD_DAY + dt.timedelta(days=29)
    month_payments = payments.filter(pl.col("paid_on") <= month)
    mode = "detail" if n <= 1_000_000 else "summary"
    accrual.accrue(book.head(10), EOD_DAY)  # compile
    one = accrual.accrue(book, EOD_DAY, day)
    thirty = accrual.accrue(book, month, month_payments, postings=mode)
    one_bytes = one.book.to_arrow().nbytes + one.postings.to_arrow().nbytes
    thirty_bytes = thirty.book.to_arrow().nbytes + thirty.postings.to_arrow().nbytes
    one_rows = one.postings.height
    del one, thirty
    one_floors = eod_floors(book, one_bytes)
    one_day = interleaved({**one_floors, "ours": lambda: accrual.accrue(book, EOD_DAY, day)}, repeat)
    catch_up = interleaved(
        {
            **eod_floors(book, thirty_bytes),
            "ours": lambda: accrual.accrue(book, month, month_payments, postings=mode),
        },
        repeat,
    )
    (floor_one, pages_one), ours_one = cheapest_floor(one_day), one_day["ours"]
    (floor_thirty, pages_thirty), ours_thirty = cheapest_floor(catch_up), catch_up["ours"]
    # the floor again, back to back with itself: it recycles its own freed pages at once, which
    # a call that runs for seconds cannot (see bench/RESULTS.md); the ratio's other reading
    alone = min(best(call, repeat) for call in one_floors.values())
    arrays, paid, today = numpy_day_inputs(book, payments)
    numpy_one = best(lambda: numpy_day_step(arrays, paid, today), repeat)
    polars_one = best(lambda: polars_day_step(book, payments), repeat)
    book_bytes = book.to_arrow().nbytes
    extra = peak_memory(book, day, EOD_DAY)
    fresh_ours = fresh_bytes(lambda: accrual.accrue(book, EOD_DAY, day))
    fresh_floor = fresh_bytes(one_floors["floor"])
    cold, cached = compile_seconds("accrue")
    print(f"\nend of day, {n:,} loans (book {book_bytes / 1e9:.2f} GB in Arrow); best of {repeat}")
    print("| work | postings | accrual (s) | beside it (s) | ratio |")
    print("|---|---|---|---|---|")
    print(
        f"| one day vs floor ({one_bytes / 1e9:.2f} GB out) | {one_rows:,} | {ours_one:.3f} | "
        f"floor {floor_one:.3f} ({pages_one}) | {ours_one / floor_one:.2f}× the floor |"
    )
    print(
        f"| one day vs the floor back to back with itself | | {ours_one:.3f} | floor {alone:.3f} | "
        f"{ours_one / alone:.2f}× that floor |"
    )
    print(
        f"| 30-day catch-up ({mode} postings) vs floor ({thirty_bytes / 1e9:.2f} GB out) | | "
        f"{ours_thirty:.3f} | floor {floor_thirty:.3f} ({pages_thirty}) | {ours_thirty / floor_thirty:.2f}× the floor |"
    )
    print(
        f"| one day vs simplified NumPy day step (no table) | | {ours_one:.3f} | {numpy_one:.3f} | "
        f"{numpy_one / ours_one:.2f}× |"
    )
    print(
        f"| one day vs simplified polars day step | | {ours_one:.3f} | {polars_one:.3f} | {polars_one / ours_one:.2f}× |"
    )
    print(
        f"| extra peak memory, one day | | {extra / 1e9:.2f} GB | book {book_bytes / 1e9:.2f} GB | "
        f"{extra / book_bytes:.2f}× the book |"
    )
    if fresh_ours is not None and fresh_floor:
        print(
            f"| fresh memory faulted in, one day | | {fresh_ours / 1e9:.2f} GB | floor {fresh_floor / 1e9:.2f} GB | "
            f"{fresh_ours / fresh_floor:.2f}× the floor's |"
        )
    print(f"| first `accrue` call, empty Numba cache | | {cold:.2f} | | |")
    print(f"| first `accrue` call, warm cache (new process) | | {cached:.2f} | | |")  # fmt: skip


def demo_wallets(book: pl.DataFrame, seed: int = 7) -> pl.DataFrame:
    """Idle wallet balances of 0–50% of each loan's principal."""
    share = np.random.default_rng(seed).uniform(0, 0.5, book.height)
    return book.select("loan_id", balance=(pl.col("principal").cast(pl.Float64) * share).round(2))


def prepay_table(n: int, repeat: int) -> None:
    """Smart-prepay recommendations over a serviced book: against the floor of reading the book
    and writing the recommendations, with one EOD day over the same book beside it."""
    book, _ = eod_book(n)
    wallets = demo_wallets(book)

    def recommend() -> pl.DataFrame:
        return accrual.smart_prepay(book, wallets, EOD_DAY, buffer=500, min_amount=100)

    recommend()
    out_bytes = recommend().to_arrow().nbytes
    times = interleaved(
        {
            "ours": recommend,
            "floor": eod_floor_call(book, out_bytes),
            "day": lambda: accrual.accrue(book, EOD_DAY),
        },
        repeat,
    )
    ours, floor, one_day = times["ours"], times["floor"], times["day"]
    rows = recommend().height
    print(f"\nsmart prepay, {n:,} serviced loans with wallets; best of {repeat}")
    print("| work | recommendations | accrual (s) | beside it (s) | ratio |")
    print("|---|---|---|---|---|")
    print(f"| `smart_prepay` vs floor (read the book, write the table) | {rows:,} | {ours:.3f} | "
          f"floor {floor:.3f} | {ours / floor:.1f}× the floor |")  # fmt: skip
    print(f"| `smart_prepay` vs one EOD day over the same book | | {ours:.3f} | {one_day:.3f} | "
          f"{ours / one_day:.2f}× an EOD day |")  # fmt: skip
    cold, cached = compile_seconds("smart_prepay")
    print(f"| first call, empty Numba cache / warm cache | | {cold:.2f} / {cached:.2f} | | |")


def stress_table(n: int, peer_loans: int, peer_paths: int, repeat: int) -> None:
    """Stress: 1M loans × 36 months × 100 Monte Carlo paths, one scenario, against the NumPy
    Monte Carlo of the same model (on a sample, scaled by loans and paths); `expected` beside."""
    from accrual.stress import SCENARIOS

    loans = accrual.generate(n, seed=1)
    baseline = SCENARIOS.head(1)
    accrual.stress(loans.head(100), baseline, months=36, paths=2)
    accrual.stress(loans.head(100), months=36, method="expected")
    ours = best(lambda: accrual.stress(loans, baseline, months=36, paths=100), repeat)
    expected = best(lambda: accrual.stress(loans, months=36, method="expected"), repeat)
    scenario = SCENARIOS.row(0, named=True)
    inputs = stress_inputs(loans.head(peer_loans), 36, scenario)
    peer = (
        best(lambda: numpy_stress(inputs, peer_paths, 36, scenario), 1)
        * (n / peer_loans)
        * (100 / peer_paths)
    )
    print(f"\nstress, {n:,} generated loans × 36 months; {os.cpu_count()} cores; best of {repeat}")
    print("| work | accrual (s) | beside it (s) | ratio | target |")
    print("|---|---|---|---|---|")
    print(f"| Monte Carlo, 100 paths, one scenario, vs NumPy Monte Carlo of the same model (scaled from "
          f"{peer_loans:,} loans × {peer_paths} paths) | {ours:.2f} | {peer:.0f} | {peer / ours:.0f}× faster | "
          f"≥ 10×, < 30 s |")  # fmt: skip
    print(f"| `expected`, three scenarios | {expected:.2f} | | | < 10 s |")
    cold, cached = compile_seconds("stress")
    print(f"| first calls (both methods), empty Numba cache / warm cache | {cold:.2f} / {cached:.2f} | | | |")


def apr_table(n: int, peer_loans: int, repeat: int) -> None:
    """`apr` over the generated book against pyxirr called per loan (on a sample, scaled)."""
    import pyxirr

    loans = accrual.generate(n, seed=1)
    accrual.apr(loans.head(10))
    ours = best(lambda: accrual.apr(loans), repeat)
    sample = loans.head(peer_loans)
    inputs = irr_inputs(sample)
    scale = n / sample.height
    loop = best(lambda: pyxirr_per_loan(inputs), 1) * scale
    payments, offsets, net, first, _ = inputs
    flows = [
        [-net[i], *[0.0] * (first[i] - 1), *payments[offsets[i] : offsets[i + 1]]]
        for i in range(net.shape[0])
    ]
    bare = best(lambda: [pyxirr.irr(f) for f in flows], 1) * scale
    cold, cached = compile_seconds("apr")
    print(f"IRR-annualised cost, {n:,} generated loans; {os.cpu_count()} cores; best of {repeat}")
    print("| work | accrual (s) | peer (s) | ratio |")
    print("|---|---|---|---|")
    print(f"| `apr` vs a loop calling `pyxirr.irr` per loan (scaled from {sample.height:,}) | "
          f"{ours:.3f} | {loop:.2f} | {loop / ours:.1f}× faster |")  # fmt: skip
    print(f"| same, the peer's cash-flow lists built beforehand (bare `pyxirr.irr` calls) | "
          f"{ours:.3f} | {bare:.2f} | {bare / ours:.1f}× faster |")  # fmt: skip
    print(f"| first call, empty Numba cache | {cold:.2f} | | |")
    print(f"| first call, warm cache (new process) | {cached:.2f} | | |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--loans", type=int, default=1_000_000)
    parser.add_argument("--amortization-loans", type=int, default=20_000,
                        help="the per-loan peer runs on this many loans, scaled up linearly")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--eod-loans", type=int, default=1_000_000, help="book size for the EOD table (0: skip)"
    )
    parser.add_argument("--pyxirr-loans", type=int, default=200_000,
                        help="the pyxirr peer runs on this many loans, scaled up linearly")  # fmt: skip
    parser.add_argument(
        "--only", choices=["schedule", "eod", "apr", "prepay", "stress"], help="run one table"
    )
    parser.add_argument(
        "--stress-peer-loans", type=int, default=100_000, help="the NumPy stress peer's sample"
    )
    parser.add_argument(
        "--processes", type=int, default=0,
        help="the schedule table also gives each floor ratio's median over this many fresh processes",
    )  # fmt: skip
    parser.add_argument("--floor-ratios", action="store_true", help=argparse.SUPPRESS)  # one such process
    args = parser.parse_args(argv)
    if args.floor_ratios:
        for name, ratio in schedule_floor_ratios(args.loans, args.repeat).items():
            print(name, ratio)
        return
    if args.only in (None, "stress"):
        stress_table(args.loans, args.stress_peer_loans, 2, args.repeat)
    if args.only in (None, "apr"):
        apr_table(args.loans, args.pyxirr_loans, args.repeat)
    if args.only in (None, "prepay"):
        prepay_table(args.loans, args.repeat)
    if args.only in (None, "eod") and args.eod_loans:
        eod_table(args.eod_loans, args.repeat)
    if args.only in ("eod", "apr", "prepay", "stress"):
        return

    generated = accrual.generate(args.loans, seed=1)
    loans = annuity_book(args.loans)
    accrual.schedule(loans.head(10))
    rows = accrual.schedule(loans).height
    rows_generated = accrual.schedule(generated).height
    nbytes = rows * SCHEDULE_ROW_BYTES
    nbytes_generated = rows_generated * SCHEDULE_ROW_BYTES
    # Each floor ratio's two sides alternate, so both see the same memory conditions (the
    # floor timed a minute apart drifted by up to 2× on this VM). Peers run back to back, as a
    # user re-running a cell would.
    annuity = schedule_floor_times(loans, args.repeat)
    mix = schedule_floor_times(generated, args.repeat)
    floor, ours = annuity["floor"], annuity["ours"]
    floor_generated, ours_generated = mix["floor"], mix["ours"]
    numpy_peer = best(lambda: numpy_schedule(loans), args.repeat)
    sample = loans.head(args.amortization_loans)
    amort = best(lambda: amortization_schedule(sample), 1) * args.loans / sample.height
    cold, cached = compile_seconds()
    medians = floor_ratios_in_processes(args.loans, args.repeat, args.processes) if args.processes else {}

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
    for name, ratios in medians.items():
        met = sum(r <= 1.5 for r in ratios)
        print(
            f"| {name} book vs floor, {len(ratios)} fresh processes | | | | median "
            f"{np.median(ratios):.2f}× the floor ({min(ratios):.2f}–{max(ratios):.2f}×, {met} ≤ 1.5×) |"
        )
    print(f"| first call, empty Numba cache | | {cold:.2f} | | |")
    print(f"| first call, warm cache (new process) | | {cached:.2f} | | |")  # fmt: skip


class StressInputs(NamedTuple):
    """Dense per-loan step matrices for the NumPy stress peer (built from our own schedules, not
    timed): rows `principal, interest, fee` (fen), `day` (each step's date), `unpaid` (principal
    not repaid before each row), `steps` per loan, `roll` per loan, `penalty` daily rate."""

    principal: np.ndarray
    interest: np.ndarray
    fee: np.ndarray
    day: np.ndarray
    unpaid: np.ndarray
    steps: np.ndarray
    roll: np.ndarray
    penalty: np.ndarray


def stress_inputs(loans: pl.DataFrame, months: int, scenario: dict) -> StressInputs:
    from accrual.stress import BASE_ROLL, SEGMENTS, _batch, _start

    start = _start(loans)
    batch = _batch(loans, start, {})
    offsets, due, principal, interest, fee, _first, keep_day, segment, penalty_num, penalty_den, _ = (
        batch.arrays
    )
    n = batch.loans
    width = months + 1
    counts = np.diff(offsets)
    column = np.arange(offsets[-1]) - np.repeat(offsets[:-1], counts)
    owner = np.repeat(np.arange(n), counts)
    keep = column < width
    dense = {}
    for name, values in (("principal", principal), ("interest", interest), ("fee", fee), ("day", due)):
        matrix = np.zeros((n, width), dtype=np.int64)
        matrix[owner[keep], column[keep]] = values[keep]
        dense[name] = matrix
    last = np.where(counts > 0, due[np.maximum(offsets[1:] - 1, 0)], 0).astype("datetime64[D]")
    for j in range(width):  # dates after the last row: a month at a time on the loan's day
        later = j >= counts
        month = last.astype("datetime64[M]") + (j - counts + 1)
        length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
        day = month.astype("datetime64[D]") + (np.minimum(keep_day, length) - 1)
        dense["day"][later, j] = day[later].astype(np.int64)
    # principal not repaid before each row, from every row (not only those within the horizon)
    running = np.cumsum(principal)
    before = running - principal - np.repeat(np.concatenate([[0], running])[offsets[:-1]], counts)
    totals = np.bincount(owner, weights=principal, minlength=n).astype(np.int64)
    unpaid = np.zeros((n, width), dtype=np.int64)
    unpaid[owner[keep], column[keep]] = (np.repeat(totals, counts) - before)[keep]
    base = np.array(BASE_ROLL)[segment] if len(SEGMENTS) else 0
    return StressInputs(
        dense["principal"], dense["interest"], dense["fee"], dense["day"], unpaid, counts,
        np.minimum(1.0, base * scenario["pd_multiplier"]), penalty_num / penalty_den,
    )  # fmt: skip


def numpy_stress(inputs: StressInputs, paths: int, months: int, scenario: dict, seed: int = 0,
                 charge_off_after: int = 6) -> np.ndarray:  # fmt: skip
    """The roll-rate Monte Carlo vectorised over loans with NumPy: one pass of array operations
    per path and step. Returns per path and step (balance, collected, charged off)."""
    rng = np.random.default_rng(seed)
    n = inputs.steps.shape[0]
    cure = min(1.0, 0.5 * scenario["cure_multiplier"])
    out = np.zeros((paths, months + 1, 3))
    rows = np.arange(n)
    for path in range(paths):
        state = np.where(inputs.steps > 0, 0, -1)  # 0 current, b delinquent, -1 ended
        since = np.zeros(n, dtype=np.int64)  # first unpaid row
        for m in range(1, months + 1):
            r = m - 1
            u = rng.random(n)
            live = state >= 0
            if not live.any():
                break
            col = np.minimum(r, months)
            has_row = r < inputs.steps
            current = live & (state == 0)
            late = live & (state > 0)
            pays = current & (u >= inputs.roll)
            prepays = pays & (u < inputs.roll + (1 - inputs.roll) * scenario["prepay_rate"])
            collected = np.where(
                pays, inputs.principal[rows, col] + inputs.interest[rows, col] + inputs.fee[rows, col], 0
            )
            collected = collected + np.where(prepays, inputs.unpaid[rows, np.minimum(r + 1, months)], 0)
            ends = prepays | (pays & (r >= inputs.steps - 1))
            cures = late & (u < cure)
            top = np.minimum(r + 1, inputs.steps)
            paid = np.zeros(n)
            for b in range(1, charge_off_after):  # the missed rows r - b, and this step's row
                k = r - b
                take = cures & (state >= b) & (k >= 0) & (k < inputs.steps)
                kk = np.clip(k, 0, months)
                overdue = inputs.day[rows, col] - inputs.day[rows, kk]
                paid += np.where(take, inputs.principal[rows, kk] * (1 + np.round(inputs.penalty * overdue, 2))
                                 + inputs.interest[rows, kk] + inputs.fee[rows, kk], 0)  # fmt: skip
            paid += np.where(cures & has_row, inputs.principal[rows, col] + inputs.interest[rows, col]
                             + inputs.fee[rows, col], 0)  # fmt: skip
            misses = late & ~cures
            charged = misses & (state + 1 >= charge_off_after)
            loss = np.where(charged, inputs.unpaid[rows, np.clip(since, 0, months)], 0)
            since = np.where(pays | (cures & has_row), np.minimum(top, months), since)
            state = np.where(current & ~pays, 1, state)
            state = np.where(misses, state + 1, state)
            state = np.where(cures, np.where(r >= inputs.steps - 1, -1, 0), state)
            state = np.where(ends | charged, -1, state)
            balance = np.where(state >= 0, inputs.unpaid[rows, np.clip(since, 0, months)], 0)
            out[path, m] = balance.sum(), collected.sum() + paid.sum(), loss.sum()
    return out


if __name__ == "__main__":
    main()
