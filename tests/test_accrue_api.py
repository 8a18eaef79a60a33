"""`accrue` as a user meets it: input kinds, output shape and types, reruns of overflowing chunks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import polars as pl

import accrual as ac
import accrual.eod
from tests.servicing import scenario


def test_output_columns_and_types():
    loans = ac.generate(50, seed=4)
    book, postings = ac.accrue(loans.to_arrow(), "2026-07-15")  # pyarrow in, ISO date
    assert postings.columns == ["loan_id", "posted_on", "kind", "amount"]
    assert postings.schema["amount"] == pl.Decimal(18, 2) and postings.schema["kind"] == pl.Enum(
        ac.eod.ledger.KINDS
    )
    for column in ("principal_outstanding", "principal_due", "interest_accrued", "interest_due", "fee_due",
                   "penalty_due", "credit"):  # fmt: skip
        assert book.schema[column] == pl.Decimal(18, 2), column
    assert book.schema["status"] == pl.Enum(["active", "closed", "written_off"])
    assert book.schema["bucket"] == pl.Enum(["M0", "M1", "M2", "M3", "M3+"])
    assert book.columns[: loans.width] == loans.columns  # the loans' own columns come first, untouched
    assert (book["accrued_through"] == dt.date(2026, 7, 15)).all()


def test_loans_not_yet_disbursed_pass_through():
    loans = pl.DataFrame(
        {"loan_id": ["a", "b"], "principal": [Decimal("100")] * 2, "daily_rate": [0.0005] * 2, "term": [1, 1],
         "disbursed_on": [dt.date(2024, 1, 1), dt.date(2024, 3, 1)]}
    )  # fmt: skip
    book, postings = ac.accrue(loans, dt.date(2024, 1, 31))
    assert book["accrued_through"].to_list() == [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    assert set(postings["loan_id"]) == {"a"}  # string ids survive the kernel
    later = ac.accrue(book, dt.date(2024, 3, 5)).book
    assert later["accrued_through"].to_list() == [dt.date(2024, 3, 5)] * 2


def test_posted_loan_ids_keep_their_type_and_value():
    # integer ids are written by the kernel itself; ids beyond int64 (UInt64) go by row position
    loans = ac.generate(20, seed=3)
    expected = ac.accrue(loans, "2026-07-15").postings
    for dtype, offset in ((pl.Int32, -7), (pl.UInt64, 2**63 + 5), (pl.Int64, 10**15)):
        shifted = loans.with_columns((pl.col("loan_id").cast(pl.Int128) + offset).cast(dtype))
        postings = ac.accrue(shifted, "2026-07-15").postings
        assert postings.schema["loan_id"] == dtype
        assert postings["loan_id"].cast(pl.Int128).to_list() == [i + offset for i in expected["loan_id"]]


def test_chunks_that_overflow_their_estimate_run_again(monkeypatch):
    loans, pays, extensions, as_of = scenario(60, seed=11)
    expected = ac.accrue(loans, as_of, pays, extensions)
    monkeypatch.setattr(
        accrual.eod, "_regions", lambda per_chunk: np.zeros(per_chunk.shape[0] + 1, dtype=np.int64)
    )
    again = ac.accrue(loans, as_of, pays, extensions)
    assert again.book.equals(expected.book) and again.postings.equals(expected.postings)
    summary = ac.accrue(loans, as_of, pays, extensions, postings="summary").postings
    assert summary["amount"].sum() == expected.postings["amount"].sum()
