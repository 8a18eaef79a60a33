"""The book state read in place (`check_state` over the Arrow buffers) against the column-by-column
path it stands in for: the same arrays and the same rejects, whatever the edits and the chunks."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import accrual as ac
from accrual import schema
from accrual.schema import STATE_MONEY, Checks, book_state

LOANS = ac.generate(60, seed=5)
BOOK = ac.accrue(LOANS, dt.date(2025, 3, 1), ac.generate_payments(LOANS, dt.date(2025, 3, 1), seed=5)).book


def disbursed(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """What `book_state` takes from the loans' own validation."""
    return {"disbursed_on": frame["disbursed_on"].to_physical().to_numpy().astype(np.int32)}


# what an edit can put in a state column (None: null)
EDITS = {
    **{name: [None, Decimal("-0.01"), Decimal("0.00"), Decimal("12.34")] for name in STATE_MONEY},
    "accrued_through": [None, dt.date(2000, 1, 1), dt.date(2025, 2, 1)],
    "next_due_on": [None, dt.date(2025, 3, 15)],
    "period_start": [None, dt.date(2025, 2, 1)],
    "accruing_since": [None, dt.date(2025, 2, 10)],
    "prepaid_on": [None, dt.date(2025, 2, 20)],
    "installments_left": [None, -1, 0, 7],
    "period_weight": [None, -360, 0, 31],
    "settled_balance_days": [None, -5, 0, 10**12],
    "status": [None, "active", "closed", "written_off"],
}


def column_by_column(frame: pl.DataFrame) -> tuple[dict, Checks]:
    checks = Checks(frame)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_state_in_place", lambda *_: None)
        return book_state(frame, disbursed(frame), checks), checks


def in_place(frame: pl.DataFrame) -> tuple[dict, Checks]:
    checks = Checks(frame)
    assert schema._state_in_place(frame, disbursed(frame), Checks(frame)) is not None  # the path under test
    return book_state(frame, disbursed(frame), checks), checks


def assert_same(frame: pl.DataFrame) -> None:
    (want, want_checks), (got, got_checks) = column_by_column(frame), in_place(frame)
    assert got.keys() == want.keys()
    # a fresh loan's state is never read, nor a rejected loan's (their slots may hold anything)
    read = ~want["fresh"] & ~want_checks.rejected()
    for name, values in want.items():
        assert got[name].dtype == values.dtype, name
        assert np.array_equal(got[name][read], values[read]), name
    assert np.array_equal(got["fresh"], want["fresh"])
    assert got_checks.message() == want_checks.message()
    assert got_checks.table().equals(want_checks.table())


def chunked(series: pl.Series, cuts: list[int]) -> pl.Series:
    """The series as Arrow chunks cut at `cuts` (each column its own)."""
    bounds = [0, *sorted({c % series.len() for c in cuts} - {0}), series.len()]
    return pl.concat([series.slice(a, b - a) for a, b in itertools.pairwise(bounds)], rechunk=False)


@given(
    edits=st.lists(
        st.tuples(st.integers(0, BOOK.height - 1), st.sampled_from(sorted(EDITS)), st.integers(0, 3)),
        max_size=25,
    ),
    cuts=st.lists(st.lists(st.integers(1, 200), max_size=3), min_size=len(EDITS), max_size=len(EDITS)),
    offset=st.integers(0, 9),
)
def test_in_place_matches_column_by_column(edits, cuts, offset):
    frame = BOOK
    for row, name, pick in edits:
        value = EDITS[name][pick % len(EDITS[name])]
        edited = pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype=frame[name].dtype))
        frame = frame.with_columns(edited.otherwise(pl.col(name)).alias(name))
    frame = frame.with_columns(chunked(frame[name], c) for name, c in zip(sorted(EDITS), cuts, strict=True))
    assert_same(frame.slice(offset))  # a slice: Arrow offsets into every chunk


def test_status_categories_in_any_order_or_unknown():
    categories = ["lost", "written_off", "active", "closed"]
    frame = BOOK.with_columns(pl.col("status").cast(pl.String).cast(pl.Enum(categories)))
    frame = frame.with_columns(pl.when(pl.col("loan_id") == 3).then(pl.lit("lost")).otherwise("status")
                               .cast(pl.Enum(categories)).alias("status"))  # fmt: skip
    assert_same(frame)
    assert "unknown status" in in_place(frame)[1].message()


def test_other_types_take_the_column_by_column_path():
    for changed in (
        BOOK.with_columns(pl.col("credit").cast(pl.Float64)),
        BOOK.with_columns(pl.col("installments_left").cast(pl.Int64)),
        BOOK.with_columns(pl.col("status").cast(pl.String)),
        BOOK.with_columns(pl.col("interest_settled").cast(pl.Decimal(20, 4))),
    ):
        assert schema._state_in_place(changed, disbursed(changed), Checks(changed)) is None
        state = book_state(changed, disbursed(changed), Checks(changed))  # still read, by the other path
        assert np.array_equal(state["status"], book_state(BOOK, disbursed(BOOK), Checks(BOOK))["status"])
