"""Money and rates at the table boundary (`accrual.money`, kernels in `accrual.kernels.validate`),
against exact Decimal arithmetic on whole columns of random values."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from accrual.money import to_fen, to_rate

FEN = Decimal("0.01")
MAX_FEN = 10**16 - 1  # the largest amount accepted: 10^14 yuan less a fen (see kernels/validate.py)

# Floats written with up to three decimals, below 10 million yuan: their ties (1.005) must round
# half-up as written, although the float itself is a hair below or above.
thousandths = st.lists(st.integers(-(10**10), 10**10), min_size=1, max_size=200)


@given(thousandths)
def test_float_money_rounds_half_up_as_written(values):
    floats = [k / 1000 for k in values]
    fen, overflow = to_fen(pl.Series(floats, dtype=pl.Float64))
    want = [int((Decimal(k) / 1000).quantize(FEN, rounding=ROUND_HALF_UP) * 100) for k in values]
    assert fen.tolist() == want and not overflow.any()


@given(
    st.lists(st.integers(-(10**30), 10**30), min_size=1, max_size=200),
    st.sampled_from([0, 1, 2, 3, 5, 18]),  # 18: as Spark and many databases store money
)
def test_decimal_money_of_any_scale(units, scale):
    exact = [Decimal(u).scaleb(-scale) for u in units]
    fen, overflow = to_fen(pl.Series(exact, dtype=pl.Decimal(38, scale)))
    with localcontext(prec=60):  # 38 digits need more than the default 28
        rounded = [int(x.quantize(FEN, rounding=ROUND_HALF_UP) * 100) for x in exact]
    too_big = [abs(r) > MAX_FEN for r in rounded]
    assert overflow.tolist() == too_big  # flagged, so validation rejects them
    assert fen.tolist() == [0 if big else r for r, big in zip(rounded, too_big, strict=True)]


def test_decimal_money_at_scale_18_is_not_an_overflow():
    column = pl.Series([Decimal("100000.005"), Decimal("-1.005")], dtype=pl.Decimal(38, 18))
    fen, overflow = to_fen(column)
    assert fen.tolist() == [10_000_001, -101] and not overflow.any()


def test_decimal_money_from_a_sliced_column():
    column = pl.Series([Decimal("1.005"), Decimal("2.004"), Decimal("-3.005")], dtype=pl.Decimal(18, 3))
    fen, _ = to_fen(column.slice(1))  # an offset into the Arrow buffer
    assert fen.tolist() == [200, -301]


@given(
    st.lists(st.lists(st.integers(-(10**20), 10**20), max_size=20), min_size=1, max_size=6),
    st.sampled_from([0, 2, 3]),
    st.integers(0, 5),
)
def test_decimal_money_from_many_chunks(chunks, scale, skip):
    """A column of several chunks (as read from Parquet row groups), sliced into a chunk: each
    chunk lands at its own rows, with its own offset."""
    parts = [pl.Series([Decimal(u).scaleb(-scale) for u in c], dtype=pl.Decimal(38, scale)) for c in chunks]
    column = pl.concat(parts, rechunk=False).slice(skip)
    fen, overflow = to_fen(column)
    with localcontext(prec=60):
        want = [int(x.quantize(FEN, rounding=ROUND_HALF_UP) * 100) for x in column.to_list()]
    assert fen.tolist() == [0 if abs(w) > MAX_FEN else w for w in want]
    assert overflow.tolist() == [abs(w) > MAX_FEN for w in want]


def test_bad_floats_overflow_to_zero():
    fen, overflow = to_fen(pl.Series([float("nan"), float("inf"), -1e15, 1e13, None]))
    assert overflow.tolist() == [True, True, True, False, False]
    assert fen.tolist() == [0, 0, 0, 10**15, 0]


@given(st.lists(st.integers(-(10**8), 10**8), min_size=1, max_size=200))
def test_rates_scale_exactly(hundred_millionths):
    scaled = to_rate(pl.Series([k / 10**8 for k in hundred_millionths]))
    assert scaled.tolist() == [k * 10**4 for k in hundred_millionths]  # RATE_SCALE = 10**12


def test_unusable_rates_become_minus_one():
    scaled = to_rate(pl.Series([float("nan"), float("inf"), 1e300, None], dtype=pl.Float64))
    assert np.array_equal(scaled, [-1, -1, -1, 0])  # nulls are the caller's to check


@given(
    st.lists(st.integers(-(10**17), 10**17), min_size=1, max_size=100),
    st.sampled_from(["decimal", "float", "integer"]),
    st.sampled_from([0, 1, -500, -MAX_FEN]),
)
def test_a_minimum_flags_what_is_below_it_in_the_same_pass(fen_values, kind, minimum):
    """`minimum`: an amount below it is flagged like one that does not fit, and becomes 0."""
    if kind == "decimal":
        column = pl.Series([Decimal(v).scaleb(-2) for v in fen_values], dtype=pl.Decimal(38, 2))
        want = fen_values
    elif kind == "float":
        values = [v % 10**13 - 5 * 10**12 for v in fen_values]  # below 2^53 fen: exact as floats
        column = pl.Series([v / 100 for v in values], dtype=pl.Float64)
        want = values
    else:
        column = pl.Series([v // 100 for v in fen_values], dtype=pl.Int64)  # whole yuan
        want = [v // 100 * 100 for v in fen_values]
    fen, bad = to_fen(column, minimum=minimum)
    flagged = [abs(w) > MAX_FEN or w < minimum for w in want]
    assert bad.tolist() == flagged
    assert fen.tolist() == [0 if f else w for w, f in zip(want, flagged, strict=True)]
