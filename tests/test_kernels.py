"""Scalar kernels against Python's own calendar and big integers."""

import calendar
import datetime as dt
from fractions import Fraction

import numpy as np
from accrual.kernels import amortize, dates, daycount, rounding
from hypothesis import given
from hypothesis import strategies as st

from tests.reference import days_30_360, round_money

EPOCH = dt.date(1970, 1, 1)


def test_civil_round_trip_against_datetime():
    for days in range(-719_000, 2_900_000, 41):  # years 1 .. 9909, every weekday and month end
        day = EPOCH + dt.timedelta(days=days)
        assert dates.civil_from_days(days) == (day.year, day.month, day.day)
        assert dates.days_from_civil(day.year, day.month, day.day) == days


def test_civil_dates_over_the_whole_date32_range():
    """Against NumPy's own calendar (datetime64), at both ends of Arrow's date32 and before year 1,
    where `datetime` cannot go (a port of Hinnant's C++ with Python's floor division was a day off
    there)."""
    rng = np.random.default_rng(7)
    days = np.concatenate(
        [
            np.arange(-(2**31) + 1, -(2**31) + 3_000),
            np.arange(2**31 - 3_000, 2**31),
            np.arange(-800_000, -700_000, 7),  # 221 BC .. AD 54, around year 0's leap day
            rng.integers(-(2**31) + 1, 2**31, 20_000),
        ]
    )
    when = days.astype("datetime64[D]")
    months = when.astype("datetime64[M]")
    want = zip(
        (when.astype("datetime64[Y]").astype(np.int64) + 1970).tolist(),
        (months.astype(np.int64) % 12 + 1).tolist(),
        ((when - months).astype(np.int64) + 1).tolist(),
        strict=True,
    )
    for d, civil in zip(days.tolist(), want, strict=True):
        assert dates.civil_from_days(d) == civil, d
        assert dates.days_from_civil(*civil) == d, civil


@given(st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_clips_to_month_end(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    want = dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
    assert dates.add_months((day - EPOCH).days, months) == (want - EPOCH).days


@given(
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
    st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)),
)
def test_30_360_matches_reference(start, end):
    assert daycount.days_30_360((start - EPOCH).days, (end - EPOCH).days) == days_30_360(start, end)


def test_day_counts():
    jan31, feb29, mar31 = ((dt.date(2024, m, d) - EPOCH).days for m, d in ((1, 31), (2, 29), (3, 31)))
    assert daycount.day_count_days(jan31, mar31, daycount.ACT_360) == 60
    assert daycount.day_count_days(jan31, feb29, daycount.THIRTY_360) == 29
    assert daycount.day_count_days(mar31, jan31, daycount.ACT_365) == 0
    assert [daycount.year_days(c) for c in (daycount.ACT_360, daycount.ACT_365, daycount.THIRTY_360)] == [
        360,
        365,
        360,
    ]


MODES = {rounding.HALF_UP: "half_up", rounding.HALF_EVEN: "half_even"}


@given(
    st.integers(-(10**9), 10**9),
    st.integers(0, 4 * 10**11),
    st.integers(0, 50_000),
    st.integers(1, 5 * 10**15),
    st.sampled_from(list(MODES)),
)
def test_mul_div_round_is_exact(a, b, c, den, mode):
    exact = Fraction(a * b * c, den)
    if abs(exact) < 2**52:
        want = round_money(exact, MODES[mode], quantum=1)
        assert rounding.mul_div_round(a, b, c, den, mode) == want


@given(
    st.integers(0, 2**46),  # fen (or fen-days)
    st.integers(0, 4 * 10**11),  # up to 40% a year, scaled by RATE_SCALE
    st.integers(0, 12 * 400),  # weights: up to 400 days
    st.sampled_from([360, 365]),
    st.sampled_from(list(MODES)),
)
def test_mul_div_round_ratio_is_exact(a, b, c, days_per_year, mode):
    den, ratio = amortize.interest_denominator(b, days_per_year)
    exact = Fraction(a * b * c, den)
    if exact < 2**52:
        want = round_money(exact, MODES[mode], quantum=1)
        assert rounding.mul_div_round_ratio(a, b, c, den, ratio, mode) == want


def test_mul_div_round_ratio_ties():
    # 0.05%/day on ACT/360 for 10 days (weight 120): a fen amount of 100 + 200k earns k + 0.5 fen
    annual = 18 * 10**10
    den, ratio = amortize.interest_denominator(annual, 360)
    for k in (0, 1, 2, 10**6, 5 * 10**9, 2**40):
        for mode, parity in ((rounding.HALF_UP, 1), (rounding.HALF_EVEN, k % 2)):
            assert rounding.mul_div_round_ratio(100 + 200 * k, annual, 120, den, ratio, mode) == k + parity


@given(st.integers(-(2**62), 2**62), st.integers(1, 2**40), st.sampled_from(list(MODES)))
def test_div_round_is_exact(num, den, mode):
    assert rounding.div_round(num, den, mode) == round_money(Fraction(num, den), MODES[mode], quantum=1)


def test_ties():
    assert [rounding.div_round(n, 2, rounding.HALF_UP) for n in (1, 3, -1, -3)] == [1, 2, -1, -2]
    assert [rounding.div_round(n, 2, rounding.HALF_EVEN) for n in (1, 3, -1, -3)] == [0, 2, 0, -2]
    assert rounding.round_to_multiple(91650.0, 100, rounding.HALF_UP) == 91700
    assert rounding.round_to_multiple(91650.0, 100, rounding.HALF_EVEN) == 91600
    assert np.int64(rounding.round_to_multiple(91649.99, 100, rounding.HALF_UP)) == 91600


def _exact_accrued(balance_days, annual, weight, length, days_per_year, mode):
    den = amortize.RATE_SCALE * 12 * days_per_year
    return round_money(Fraction(balance_days * annual * weight, den * length), MODES[mode], quantum=1)


@given(
    st.integers(0, 10**9 * 62),  # fen-days: up to 10M yuan for two months
    st.integers(0, 4 * 10**11),  # up to 40% a year (scaled by RATE_SCALE)
    st.sampled_from([360, 365, 12 * 17, 12 * 45]),  # a regular month's weight, or an irregular one's
    st.integers(1, 62),
    st.sampled_from([360, 365]),
    st.sampled_from(list(MODES)),
)
def test_accrued_interest_is_exact(balance_days, annual, weight, length, days_per_year, mode):
    den, ratio = amortize.interest_denominator(annual, days_per_year)
    got = amortize.accrued_interest(balance_days, annual, weight, length, days_per_year, den, ratio, mode)
    assert got == _exact_accrued(balance_days, annual, weight, length, days_per_year, mode)


def test_accrued_interest_ties_take_the_exact_path():
    # 100% a year on the monthly basis, a 30-day month: balance_days / 360 fen, a tie at 180 + 360k
    annual, den, ratio = amortize.RATE_SCALE, *amortize.interest_denominator(amortize.RATE_SCALE, 360)
    for balance_days in (179, 180, 181, 540, 360 * 10**6 + 180, 360 * 10**6 + 179):
        for mode in MODES:
            got = amortize.accrued_interest(balance_days, annual, 360, 30, 360, den, ratio, mode)
            assert got == _exact_accrued(balance_days, annual, 360, 30, 360, mode), (balance_days, mode)
    assert amortize.accrued_interest(180, annual, 360, 30, 360, den, ratio, rounding.HALF_UP) == 1
    assert amortize.accrued_interest(180, annual, 360, 30, 360, den, ratio, rounding.HALF_EVEN) == 0


@given(st.integers(0, 10**6), st.integers(1, 40), st.booleans())
def test_region_estimates_bound_each_chunk_as_the_per_loan_rule_says(seed, n, whole_call_term):
    """Per chunk: Σ records held + min(installments left, days // 28 + 2) + 1, the largest of
    those (at least 1), and postings days × (4 while records are held, else 1) + 3 × bills
    + 5 × payments + 2, as NumPy sums them."""
    from accrual.kernels.accrue import region_estimates

    rng = np.random.default_rng(seed)
    as_of = 20_000
    fresh = rng.integers(0, 2, n).astype(np.int32)
    disbursed = rng.integers(as_of - 400, as_of + 3, n).astype(np.int32)
    through = rng.integers(as_of - 40, as_of, n).astype(np.int32)
    term = rng.integers(1, 37, 1 if whole_call_term else n).astype(np.int32)
    left = rng.integers(0, 37, n).astype(np.int32)
    record_offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 4, n))]).astype(np.int64)
    pay_offsets = np.concatenate([[0], np.cumsum(rng.integers(0, 3, n))]).astype(np.int64)
    chunks = np.unique(np.concatenate([[0, n], rng.integers(0, n + 1, 3)])).astype(np.int64)
    out = np.empty((chunks.shape[0] - 1, 3), dtype=np.int64)
    first = region_estimates(
        chunks, as_of, fresh, disbursed, through, term, left, record_offsets, pay_offsets, out
    )

    is_fresh = fresh == 1
    since = np.where(is_fresh, disbursed.astype(np.int64) - 1, through)
    days = np.maximum(as_of - since, 0)
    held = np.diff(record_offsets)
    bills = np.minimum(np.where(is_fresh, np.broadcast_to(term, n), left), days // 28 + 2)
    records = held + bills + 1
    postings = days * np.where(held > 0, 4, 1) + 3 * bills + 5 * np.diff(pay_offsets) + 2
    assert first == min(since.min() + 1, as_of + 1)  # no later than the day after as_of (no loan accrues)
    for c in range(chunks.shape[0] - 1):
        lo, hi = chunks[c], chunks[c + 1]
        assert out[c, 0] == records[lo:hi].sum() and out[c, 1] == postings[lo:hi].sum()
        assert out[c, 2] == max(1, records[lo:hi].max(initial=0))  # the chunk's scratch: its largest loan
