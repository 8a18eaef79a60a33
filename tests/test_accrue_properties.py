"""SPEC.md invariants 2–6 for `accrue`, over generated portfolios and payment behaviours."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from types import SimpleNamespace

import numba
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

import accrual as ac
from accrual import eod, io
from accrual.threads import behind
from tests.servicing import SERVICING_CHOICES, huge_page_advice, scenario
from tests.test_properties import loan_rows

PAY_KINDS = [
    "pay_penalty",
    "pay_fee",
    "pay_interest",
    "pay_principal",
    "prepay_principal",
    "prepay_fee",
    "credit",
]
CHARGES = ["interest", "interest_suspended", "penalty", "compound", "late_fee", "bill_fee", "prepay_fee"]
servicing = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in SERVICING_CHOICES.items()})
portfolio = st.lists(st.tuples(loan_rows, servicing), min_size=1, max_size=12)


def frame(rows: list) -> pl.DataFrame:
    loans = pl.DataFrame(
        [{"loan_id": i, **loan, **terms} for i, (loan, terms) in enumerate(rows)], infer_schema_length=None
    )
    # keep terms short so a run covers whole lives quickly
    return loans.with_columns(
        pl.col("term").clip(1, 18),
        pl.col("penalty_rate", "late_fee_rate", "prepay_fee_rate").cast(pl.Float64),
    )


def kind_sum(postings: pl.DataFrame, kinds: list[str]) -> Decimal:
    return postings.filter(pl.col("kind").cast(pl.String).is_in(kinds))["amount"].sum()


@settings(deadline=None)
@given(portfolio)
def test_paying_on_time_reproduces_the_schedule(rows):
    """Invariant 2: same billed amounts, DPD always 0, no penalty, balance 0 at maturity."""
    loans = frame(rows).drop("prepay_fee_rate", "prepay_keeps_fees")  # an on-time payer never prepays
    plan = ac.schedule(loans.drop(*(k for k in SERVICING_CHOICES if k in loans.columns)))
    payments = plan.select(
        pl.int_range(pl.len()).alias("payment_id"),
        "loan_id",
        pl.col("due_on").alias("paid_on"),
        pl.col("payment").alias("amount"),
    ).filter(pl.col("amount") > 0)
    as_of = plan["due_on"].max()
    book, postings = ac.accrue(loans, as_of, payments)
    billed = postings.filter(pl.col("kind").cast(pl.String).str.starts_with("bill_")).pivot(
        "kind", index=["loan_id", "posted_on"], values="amount"
    )
    expected = plan.select("loan_id", pl.col("due_on").alias("posted_on"), "principal", "interest", "fee")
    joined = expected.join(billed, on=["loan_id", "posted_on"], how="left")
    for part in ("principal", "interest", "fee"):
        column = f"bill_{part}"
        got = (
            joined[column].fill_null(Decimal(0))
            if column in joined.columns
            else pl.repeat(Decimal(0), joined.height, eager=True)
        )
        assert (got == joined[part]).all(), part
    assert kind_sum(postings, ["penalty", "compound", "late_fee", "interest_suspended"]) == 0
    assert (book["dpd"] == 0).all() and (book["status"] == "closed").all()
    assert (book["principal_outstanding"] == 0).all() and (book["credit"] == 0).all()


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 150))
def test_one_run_equals_two_runs(seed, split):
    """Invariant 3: accruing to c in one run equals accruing to b, then to c."""
    loans, pays, extensions, as_of = scenario(12, seed, horizon=150)
    b = loans["disbursed_on"].min() + dt.timedelta(days=split)
    one = ac.accrue(loans, as_of, pays, extensions)
    first = ac.accrue(loans, b, pays.filter(pl.col("paid_on") <= b), extensions)
    second = ac.accrue(first.book, as_of, pays.filter(pl.col("paid_on") > b))
    assert second.book.equals(one.book)
    assert (
        pl.concat([first.postings, second.postings])
        .sort("loan_id", "posted_on", "kind")
        .equals(one.postings.sort("loan_id", "posted_on", "kind"))
    )


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10**6))
def test_every_fen_is_allocated(seed):
    """Invariant 4: payments = what they paid + credit; principal = outstanding + due + repaid + written off."""
    loans, pays, extensions, as_of = scenario(15, seed)
    book, postings = ac.accrue(loans, as_of, pays, extensions)
    paid = pays.group_by("loan_id").agg(pl.col("amount").sum().alias("paid"))
    allocated = (
        postings.filter(pl.col("kind").cast(pl.String).is_in(PAY_KINDS))
        .group_by("loan_id").agg(pl.col("amount").sum().alias("allocated"))
    )  # fmt: skip
    both = paid.join(allocated, on="loan_id", how="full", coalesce=True).fill_null(0)
    assert (both["paid"] == both["allocated"]).all()
    assert (
        book["principal"] == book["principal_outstanding"] + book["principal_due"]
        + book["principal_repaid"] + book["principal_written_off"]
    ).all()  # fmt: skip
    # the ledger's flows match the book's totals
    assert kind_sum(postings, ["pay_principal", "prepay_principal"]) == book["principal_repaid"].sum()
    assert kind_sum(postings, ["write_off"]) == book["principal_written_off"].sum()
    assert kind_sum(postings, ["credit"]) == book["credit"].sum()


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10**6), st.integers(1, 5))
def test_independent_of_batches_and_threads(seed, parts):
    """Invariant 5: the same book whole, in `parts` batches, or on one thread."""
    loans, pays, extensions, as_of = scenario(20, seed)
    whole = ac.accrue(loans, as_of, pays, extensions)
    size = -(-loans.height // parts)
    pieces = []
    for k in range(parts):
        part = loans.slice(k * size, size)
        ids = part["loan_id"]
        pieces.append(ac.accrue(part, as_of, pays.filter(pl.col("loan_id").is_in(ids)),
                                extensions.filter(pl.col("loan_id").is_in(ids))))  # fmt: skip
    assert pl.concat([p.book for p in pieces]).equals(whole.book)
    assert pl.concat([p.postings for p in pieces]).equals(whole.postings)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        single = ac.accrue(loans, as_of, pays, extensions)
    finally:
        numba.set_num_threads(threads)
    assert single.book.equals(whole.book) and single.postings.equals(whole.postings)
    summary = ac.accrue(loans, as_of, pays, extensions, postings="summary").postings
    by_day = (
        whole.postings.group_by("posted_on", "kind").agg(pl.col("amount").sum()).filter(pl.col("amount") != 0)
    )
    assert summary.sort("posted_on", "kind").equals(by_day.sort("posted_on", "kind").select(summary.columns))
    # and `accrue`'s own slicing of a big book, at a size that makes `parts` slices
    calls, trims = [], []
    one_call, libc = eod._servicing, io._libc
    saved = eod.SLICE_LOANS
    advice = huge_page_advice()
    eod._servicing = lambda *a: calls.append(huge_page_advice()) or one_call(*a)  # each slice serviced
    io._libc = lambda: SimpleNamespace(malloc_trim=lambda pad: trims.append(pad))
    eod.SLICE_LOANS = size
    try:
        sliced = ac.accrue(loans, as_of, pays, extensions)
        sliced_summary = ac.accrue(loans, as_of, pays, extensions, postings="summary").postings
    finally:
        eod._servicing, io._libc, eod.SLICE_LOANS = one_call, libc, saved
    slices = -(-loans.height // size) if loans.height > size else 1
    assert len(calls) == 2 * slices  # no fall-back to one call: each slice serviced once, twice over
    # slices of a bigger book take 4 KiB pages (see `accrual.io.small_pages`); NumPy's advice is back after
    assert calls == [advice and loans.height <= size] * len(calls) and huge_page_advice() == advice
    # each slice (or a book of one slice's size) leaves its freed heap pages to the next: no trims
    assert not trims
    assert sliced.book.equals(whole.book) and sliced.postings.equals(whole.postings)
    assert sliced_summary.equals(summary)


def test_a_sliced_books_kernel_thread_keeps_the_callers_thread_count():
    """Numba's thread count is per thread: the helper thread running a slice's kernel takes the caller's."""
    threads = numba.get_num_threads()
    with ThreadPoolExecutor(1) as pool:
        numba.set_num_threads(1)
        try:
            assert behind(pool, numba.get_num_threads).result() == 1
        finally:
            numba.set_num_threads(threads)
        assert behind(pool, numba.get_num_threads).result() == threads


@settings(deadline=None, max_examples=25)
@given(st.integers(0, 10**6), st.integers(1, 40))
def test_paying_later_never_costs_less(seed, delay):
    """Invariant 6: the same installment payments made `delay` days later never cost less in charges.

    Payments made ahead of a due date prepay principal (SPEC.md section 4, step 2), so moving a
    *prepayment* across a due date redirects its money; the invariant is about paying what is
    due, so prepayments are left out here. It holds for the default allocation (oldest
    installment first); `by_kind` can let a late payment reach a newer installment's fee before
    that installment's late-fee day, shrinking its late fee, so it is left out too.
    """
    loans, pays, extensions, as_of = scenario(10, seed, extra_payments=False)
    pays = pays.filter(pl.col("behaviour") != "prepaying")
    # The default penalty (1.5 × contract) is never below the contract rate; write-off stops all
    # accrual by design (SPEC.md section 4, step 6), so it is off here.
    loans = loans.with_columns(
        penalty_rate=None, write_off_after_days=None, allocation=pl.lit("oldest_first")
    )
    later = pays.with_columns(pl.col("paid_on") + dt.timedelta(days=delay)).filter(pl.col("paid_on") <= as_of)
    kept = pays.filter(pl.col("payment_id").is_in(later["payment_id"].implode()))
    on_time = ac.accrue(loans, as_of, kept, extensions).postings
    delayed = ac.accrue(loans, as_of, later, extensions).postings

    def cost(postings: pl.DataFrame) -> pl.DataFrame:
        return (
            postings.filter(pl.col("kind").cast(pl.String).is_in(CHARGES))
            .group_by("loan_id")
            .agg(pl.col("amount").sum())
        )

    both = (
        cost(on_time)
        .join(cost(delayed), on="loan_id", how="full", coalesce=True, suffix="_later")
        .fill_null(0)
    )
    worse = both.filter(pl.col("amount_later") < pl.col("amount"))
    assert worse.is_empty(), worse
