"""A book read in place (its state by `check_state`, its unpaid records by `unpaid_field`, a
loans table's columns by `check_loans_in_place`, all over the Arrow buffers; `schedule` and
`apr` checking and using each loan in one fused pass) against the polars paths it stands in for:
the same arrays and answers, and the same rejects or errors, whatever the edits and the chunks."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from accrual.kernels import ledger
from accrual.kernels.validate import CHECK_BLOCK
from hypothesis import given
from hypothesis import strategies as st

import accrual as ac
from accrual import eod, schema
from accrual.schema import STATE_MONEY, Checks, book_state

LOANS = ac.generate(60, seed=5)
AS_OF = dt.date(2026, 9, 30)
# a third of the payments left out: late loans holding unpaid records beside paid-up and closed ones
PAYMENTS = ac.generate_payments(LOANS, AS_OF, seed=5).filter(pl.col("payment_id") % 3 != 0)
BOOK = ac.accrue(LOANS, AS_OF, PAYMENTS).book
assert BOOK["unpaid"].list.len().sum() > 100 and BOOK["status"].n_unique() > 1


def disbursed(frame: pl.DataFrame) -> dict[str, np.ndarray]:
    """What `book_state` takes from the loans' own validation."""
    return {"disbursed_on": frame["disbursed_on"].to_physical().to_numpy().astype(np.int32)}


# what an edit can put in a state column (None: null)
EDITS = {
    **{name: [None, Decimal("-0.01"), Decimal("0.00"), Decimal("12.34")] for name in STATE_MONEY},
    "accrued_through": [None, dt.date(2000, 1, 1), dt.date(2026, 9, 1)],
    "next_due_on": [None, dt.date(2026, 10, 15)],
    "period_start": [None, dt.date(2026, 9, 1)],
    "accruing_since": [None, dt.date(2026, 9, 10)],
    "prepaid_on": [None, dt.date(2026, 9, 20)],
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


RECORD_EDITS = [
    None,  # a null record
    {"principal": Decimal("-0.01")},
    {"interest": Decimal("9" * 16 + ".99")},  # Decimal(18, 2) holds it, MAX_FEN (10^14 yuan) does not
    {"fee": Decimal("9" * 14 + ".99")},  # MAX_FEN itself: the largest amount taken
    {"due_on": None},
    {"late_fee_charged": None},
    {"penalty_base": None},
    {"late_fee_charged": True, "fee": Decimal("3.21")},  # fine
]


def records_by_polars(frame: pl.DataFrame, fresh: np.ndarray) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eod, "_records_in_place", lambda *_: None)
        return outcome(lambda: eod._records(frame, fresh))


def outcome(read) -> object:
    try:
        return read()
    except ac.ValidationError as error:
        return str(error)


@given(
    edits=st.lists(
        st.tuples(st.integers(0, BOOK.height - 1), st.integers(0, len(RECORD_EDITS) - 1)), max_size=6
    ),
    cuts=st.lists(st.integers(1, 200), max_size=3),
    offset=st.integers(0, 9),
    fresh_rows=st.lists(st.integers(0, BOOK.height - 1), max_size=2),
)
def test_unpaid_records_in_place_match_polars(edits, cuts, offset, fresh_rows):
    rows = BOOK["unpaid"].to_list()
    for row, pick in edits:
        if rows[row]:
            change = RECORD_EDITS[pick]
            rows[row] = [None if change is None else {**(rows[row][0] or {}), **change}, *rows[row][1:]]
    frame = BOOK.with_columns(chunked(pl.Series("unpaid", rows, dtype=BOOK["unpaid"].dtype), cuts)).slice(
        offset
    )
    fresh = np.zeros(frame.height, dtype=np.bool_)
    fresh[[r % frame.height for r in fresh_rows]] = True  # a fresh loan's records are left out
    want = records_by_polars(frame, fresh)
    got = outcome(lambda: eod._records(frame, fresh))
    if isinstance(want, str):
        assert got == want
    else:
        assert isinstance(got, tuple)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_unpaid_records_are_read_in_place_for_the_engines_own_type():
    fresh = np.zeros(BOOK.height, dtype=np.bool_)
    assert BOOK["unpaid"].dtype == eod.UNPAID
    assert eod._records_in_place(BOOK, BOOK["unpaid"], fresh) is not None
    fresh[np.flatnonzero(BOOK["unpaid"].list.len().to_numpy())[0]] = True  # records it must leave out
    assert eod._records_in_place(BOOK, BOOK["unpaid"], fresh) is None  # the polars path does


def test_unpaid_amounts_beyond_decimal_18_2_or_negative_are_bad():
    """What a Decimal128 buffer can hold but a record must not: −1 fen, 10^16 yuan, 2^64 fen."""
    from accrual.kernels.validate import AMOUNT, MAX_FEN, unpaid_field

    words = np.array([5, 0, -1, -1, MAX_FEN + 1, 0, 5, 1, MAX_FEN, 0], dtype=np.int64)  # (low, high) each
    out, bad = np.empty(5, dtype=np.int64), np.zeros(5, dtype=np.bool_)
    unpaid_field(AMOUNT, words, np.zeros(0, np.uint8), 0, 5, out, bad)
    assert bad.tolist() == [False, True, True, True, False]
    assert out[0] == 5 and out[4] == MAX_FEN


def test_every_field_of_every_record_is_read_in_place_as_polars_reads_it():
    """Records whose every field varies from one to the next (the flags alternate), in chunks."""
    rng = np.random.default_rng(3)
    rows = [
        [{**record, "late_fee_charged": bool(rng.integers(2)), "extension_days": int(rng.integers(4)),
          "penalty_base": int(rng.integers(10**9)), "fee": Decimal(int(rng.integers(10**6))) / 100}
         for record in loan]
        for loan in BOOK["unpaid"].to_list()
    ]  # fmt: skip
    frame = BOOK.with_columns(chunked(pl.Series("unpaid", rows, dtype=BOOK["unpaid"].dtype), [7, 30, 31]))
    fresh = np.zeros(frame.height, dtype=np.bool_)
    want, got = records_by_polars(frame, fresh), eod._records(frame, fresh)
    assert isinstance(want, tuple) and np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert 0 < got[0][ledger.LATE_FEE_CHARGED].sum() < got[0].shape[1]


# What an edit can put in a loan's own columns (None: null; a default fills some)
LOAN_EDITS = {
    "principal": [None, Decimal("-1.00"), Decimal("0.00"), Decimal("9" * 16 + ".99"), Decimal(10**17)],
    "annual_rate": [None, float("nan"), -0.01, 3.65, float("inf"), 0.2],
    "daily_rate": [None, 0.0001, 0.0005],
    "term": [None, 0, 5000, 3],
    "installment_multiple": [None, Decimal("-1.00"), Decimal("1.00")],
    "installment_fee_rate": [None, -0.1, 1.0, 0.01],
    "upfront_fee_rate": [None, 0.5, 1.5],
    "interest_free_days": [None, -3, 5],
}


def null_over(series: pl.Series, row: int) -> pl.Series:
    """The series with row `row` null, its value left in the slot under the validity bit."""
    arrow = series.rechunk().to_arrow()
    assert arrow.offset == 0  # (the bitmap below starts at the first value)
    valid = (
        np.ones(len(arrow), dtype=np.bool_)
        if arrow.null_count == 0
        else arrow.is_valid().to_numpy(zero_copy_only=False)
    )
    valid[row] = False
    bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
    nulled = pa.Array.from_buffers(
        arrow.type, len(arrow), [bitmap, *arrow.buffers()[1:]], offset=arrow.offset
    )
    return pl.Series(series.name, nulled)


def prepared(frame: pl.DataFrame, in_place: bool) -> object:
    with pytest.MonkeyPatch.context() as patch:
        if not in_place:
            patch.setattr(schema, "_loans_in_place", lambda *_: None)
        else:  # the path under test must be the one taken
            taken = schema._loans_in_place
            patch.setattr(schema, "_loans_in_place", lambda *a: taken(*a) or pytest.fail("not read in place"))
        try:
            loans = schema.prepare_loans(frame, {}, errors="reject")
        except ac.ValidationError as error:
            return str(error)
    return loans


@st.composite
def edited_loans(draw: st.DrawFn) -> pl.DataFrame:
    """LOANS with edits (a bad or a null value, a value hidden under a null), its columns cut into
    chunks, sliced at an offset; principal of Decimal(18, 2) or (38, 2)."""
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(0, LOANS.height - 1), st.sampled_from(sorted(LOAN_EDITS)), st.integers(0, 5)
            ),
            max_size=20,
        )
    )
    cuts = draw(
        st.lists(
            st.lists(st.integers(1, 200), max_size=3), min_size=len(LOAN_EDITS), max_size=len(LOAN_EDITS)
        )
    )
    wide_principal = draw(st.booleans())
    frame = LOANS.with_columns(pl.col("principal").cast(pl.Decimal(38, 2))) if wide_principal else LOANS
    for row, name, pick in edits:
        value = LOAN_EDITS[name][pick % len(LOAN_EDITS[name])]
        if name == "principal" and value == Decimal(10**17) and not wide_principal:
            continue  # (a Decimal(18, 2) column cannot hold it)
        edited = pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype=frame[name].dtype))
        frame = frame.with_columns(edited.otherwise(pl.col(name)).alias(name))
    for k in draw(st.lists(st.integers(0, 19), max_size=6)):  # a null over an edit's value: never read
        if k < len(edits):
            row, name, _ = edits[k]
            frame = frame.with_columns(null_over(frame[name], row))
    frame = frame.with_columns(
        chunked(frame[name], c) for name, c in zip(sorted(LOAN_EDITS), cuts, strict=True)
    )
    return frame.slice(draw(st.integers(0, 9)))


@given(edited_loans())
def test_loans_in_place_match_column_by_column(frame):
    want, got = prepared(frame, in_place=False), prepared(frame, in_place=True)
    if isinstance(want, str):
        assert got == want
        return
    assert isinstance(got, schema.LoanArrays)
    assert got.rejects.equals(want.rejects) and np.array_equal(got.kept, want.kept)
    for field in ("principal", "annual_num", "term", "installment_multiple", "installment_fee_num",
                  "upfront_fee_num", "interest_free_days", "disbursed_on", "first_due_on", "method"):  # fmt: skip
        assert np.array_equal(getattr(got, field), getattr(want, field)), field


def both_ways(verb: Callable[..., Any], frame: pl.DataFrame, fused: bool) -> tuple[Any, Any, bool]:
    """(`verb` with errors="reject", with errors="raise" (an error as its text), whether the fused
    check-and-use pass gave the answer) with the fused pass, or with the columns converted one
    by one, checked, then used."""
    taken: list[bool | None] = []
    with pytest.MonkeyPatch.context() as patch:
        if fused:
            run = schema.StagedLoans.checked_in_place
            patch.setattr(
                schema.StagedLoans, "checked_in_place", lambda *a: taken.append(run(*a)) or taken[-1]
            )
        else:
            patch.setattr(schema.StagedLoans, "checked_in_place", lambda *_: None)
            patch.setattr(schema, "_loans_in_place", lambda *_: None)
        answers = []
        for errors in ("reject", "raise"):
            try:
                answers.append(verb(frame, errors=errors))
            except ac.ValidationError as error:
                answers.append(str(error))
    return answers[0], answers[1], any(taken)


def same(got: Any, want: Any) -> bool:
    if isinstance(want, tuple):
        return isinstance(got, tuple) and all(same(g, w) for g, w in zip(got, want, strict=True))
    return got == want if isinstance(want, str) else isinstance(got, pl.DataFrame) and got.equals(want)


@pytest.mark.parametrize("verb", [ac.schedule, ac.apr])
@given(frame=edited_loans())
def test_fused_passes_match_column_by_column(verb, frame):
    """The fused check-and-use passes over the Arrow buffers (`schedule`, `apr`) = converting,
    checking, then using: the same answer, and where a loan breaks a rule the same rejects and
    error (the fused pass then gives way to the checked path)."""
    (want, want_raised, _), (got, got_raised, fused) = (
        both_ways(verb, frame, False),
        both_ways(verb, frame, True),
    )
    assert same(got, want) and same(got_raised, want_raised)
    assert fused == (isinstance(want, tuple) and want[1].height == 0)  # taken exactly when every loan is good


@pytest.mark.parametrize("verb", [ac.schedule, ac.apr])
def test_fused_passes_over_many_blocks_and_chunks(verb):
    """Loans in several of the fused passes' blocks (`CHECK_BLOCK`) in each piece of work (a
    piece is at most 1/16 of the book on two threads), within chunks cut at odd rows: the same
    answers as converting, checking and using."""
    loans = ac.generate(40 * CHECK_BLOCK, seed=8)
    cuts = [1500, 2100, 30_000]
    loans = loans.with_columns(chunked(loans[name], cuts) for name in sorted(LOAN_EDITS)).slice(7)
    (want, _, _), (got, _, fused) = both_ways(verb, loans, False), both_ways(verb, loans, True)
    assert fused and same(got, want)


@pytest.mark.parametrize("verb", [ac.schedule, ac.apr])
@pytest.mark.parametrize(
    "broken",
    [
        pl.when(pl.col("loan_id") == LOANS["loan_id"][3])
        .then(LOANS["loan_id"][2])
        .otherwise(pl.col("loan_id"))
        .alias("loan_id"),
        pl.when(pl.int_range(pl.len()) == 5).then(40).otherwise(1).alias("payday"),  # not a day of a month
    ],
    ids=["duplicate id", "payday"],
)
def test_fused_passes_give_way_to_rules_their_flags_do_not_hold(verb, broken):
    """A duplicated loan id and a bad payday are found outside the fused kernels' rule flags: the
    pass still gives way, and the rejects and error are those of the checked path."""
    frame = LOANS.with_columns(broken)
    (want, want_raised, _), (got, got_raised, fused) = (
        both_ways(verb, frame, False),
        both_ways(verb, frame, True),
    )
    assert isinstance(want, tuple) and want[1].height > 0 and isinstance(want_raised, str)
    assert not fused and same(got, want) and same(got_raised, want_raised)


def test_an_integer_multiple_keyword_is_read_in_place_as_whole_yuan():
    """`installment_multiple=1` (a keyword, or the default 0) is made a Decimal(18, 2) column, so
    the loans take the fused pass; the schedule is the one a float column of 1.0 gives."""
    loans = LOANS.drop("installment_multiple")
    by_column, _, _ = both_ways(ac.schedule, loans.with_columns(installment_multiple=pl.lit(1.0)), False)
    whole_yuan = lambda frame, errors: ac.schedule(frame, errors=errors, installment_multiple=1)  # noqa: E731
    fused, _, taken = both_ways(whole_yuan, loans, True)
    assert taken and same(fused, by_column)
    assert not ac.schedule(loans).equals(by_column[0])  # (the multiple changed some installments)


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in LOAN_EDITS.items() for value in values if value is not None],
)
def test_a_null_is_never_read_as_the_value_under_it(name, value):
    """Every edit's value hidden under a null, in each loan column: both paths see only the null."""
    frame = LOANS.with_columns(pl.col("principal").cast(pl.Decimal(38, 2)))
    edited = pl.when(pl.int_range(pl.len()) == 3).then(pl.lit(value, dtype=frame[name].dtype))
    frame = frame.with_columns(edited.otherwise(pl.col(name)).alias(name))
    frame = frame.with_columns(null_over(frame[name], 3))
    want, got = prepared(frame, in_place=False), prepared(frame, in_place=True)
    assert isinstance(want, schema.LoanArrays) and isinstance(got, schema.LoanArrays)
    assert got.rejects.equals(want.rejects)


# convention spellings, inline (≤ 12 bytes) and long, known and not, with nulls
SPELLINGS = [
    "bullet",
    "emi",
    "等额本息",
    "Equal Installment",
    "equal_installment",
    "interest_first",
    "xx",
    None,
]


@given(
    st.lists(st.sampled_from(SPELLINGS), min_size=1, max_size=80),
    st.lists(st.integers(1, 79), max_size=3),  # chunk cuts
    st.integers(0, 5),  # a slice's offset
    st.booleans(),  # each long value's bytes shared by its rows (a Parquet dictionary decoded)
)
def test_text_codes_in_place_match_hashing(values, cuts, offset, shared):
    """`_codes` of a String column read from its views (`distinct_rows`) = the hashed path's codes."""
    column = pl.Series("method", values, dtype=pl.String)
    if shared:
        parquet = io.BytesIO()
        column.to_frame().write_parquet(parquet)
        parquet.seek(0)
        column = pl.read_parquet(parquet)["method"]
    edges = sorted({0, *(c for c in cuts if c < len(values)), len(values)})
    column = pl.concat([column.slice(lo, hi - lo) for lo, hi in itertools.pairwise(edges)], rechunk=False)
    column = column.slice(min(offset, len(values) - 1))
    aliases = ac.conventions.Method.aliases()
    hashed = column.replace_strict(
        {v: schema._lookup(aliases, v) for v in column.drop_nulls().unique()},
        default=-1,
        return_dtype=pl.Int8,
    ).fill_null(-1)
    assert schema._codes(column, ac.conventions.Method).tolist() == hashed.to_list()
    in_place = schema.distinct_rows(column)
    if in_place is not None:  # each row's value, as polars reads it
        rows, found = in_place
        assert [None if r < 0 else found[r] for r in rows] == column.to_list()
        assert len(found) == len(set(found))


def test_text_read_in_place_where_views_repeat_and_hashed_where_not():
    n = 1000
    shared = pl.DataFrame({"row": range(n)}).with_columns(m=pl.lit("equal_installment"))["m"]
    assert (
        schema.distinct_rows(shared) is not None
        and schema.distinct_rows(pl.Series(["emi", None] * n)) is not None
    )
    method = ac.conventions.Method
    assert schema._codes(shared, method).tolist() == [0] * n  # one value on every row: filled
    mixed = shared.head(2).append(pl.Series("m", [None, "xx"]))
    assert schema._codes(mixed, method).tolist() == [0, 0, -1, -1]
    assert schema._codes(pl.Series(["xx"] * 3), method).tolist() == [-1] * 3
    own_bytes = pl.Series(["equal_installment"] * n)  # a long value's bytes stored once per row
    assert schema.distinct_rows(own_bytes) is None  # more views than MAX_DISTINCT: hashed
    assert (schema._codes(own_bytes, ac.conventions.Method) == 0).all()
