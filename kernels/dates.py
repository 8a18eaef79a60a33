"""Civil dates as int32 days since 1970-01-01 (proleptic Gregorian).

The conversions are Neri and Schneider's branch-free `civil_from_days` / `days_from_civil`, in
unsigned arithmetic, exact for every date Arrow's date32 can hold (years −5,877,641 to
5,881,580). Months are handled as a *month index* (`year * 12 + month - 1`) so that "the same
day n months later" is one addition.
"""

import numpy as np

from ._config import jit

NO_DATE = -(2**31)  # sentinel for a missing date (Arrow null)


# Every int32 day number plus _K is >= 0, so the conversions run in unsigned arithmetic: a
# division by a constant is one multiply and shift, with no sign fix-ups.
_ERAS = 14_700  # 400-year eras of 146,097 days each: more than 2**31 days
_K = 719_468 + _ERAS * 146_097  # 1970-01-01 counted from 0000-03-01, _ERAS eras earlier
_U = np.uint64


@jit
def civil_from_days(days):
    """(year, month, day) of a day number.

    Neri and Schneider's Euclidean affine functions ("Euclidean affine functions and their
    application to calendar algorithms", 2022): counted in years that start on March 1 (so a
    leap day ends its year), century, year, month and day are each a multiply and a shift.

    >>> from accrual.kernels.dates import civil_from_days
    >>> civil_from_days(19_782), civil_from_days(-719_469)  # 2024-02-29; a year-0 leap day
    ((2024, 2, 29), (0, 2, 29))
    """
    n1 = _U(4) * _U(days + _K) + _U(3)
    century = n1 // _U(146_097)
    p2 = _U(2_939_745) * (n1 % _U(146_097) | _U(3))  # × (4 · day of the century + 3)
    year_of_century = p2 >> _U(32)
    day_of_year = (p2 & _U(0xFFFF_FFFF)) // _U(4 * 2_939_745)  # from March 1
    n3 = _U(2_141) * day_of_year + _U(197_913)
    month = np.int64(n3 >> _U(16))  # 3 .. 14: March .. February
    day = np.int64((n3 & _U(0xFFFF)) // _U(2_141)) + 1
    january_or_february = day_of_year >= _U(306)
    year = np.int64(_U(100) * century + year_of_century) - 400 * _ERAS + january_or_february
    return year, month - 12 if january_or_february else month, day


@jit
def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a civil date (month 1..12): `civil_from_days` undone.

    >>> from accrual.kernels.dates import days_from_civil
    >>> days_from_civil(2024, 2, 29), days_from_civil(1969, 12, 31)
    (19782, -1)
    """
    january_or_february = month <= 2
    y = _U(year + 400 * _ERAS - january_or_february)  # counted in years from March 1
    m = _U(month + 12 if january_or_february else month)  # 3 .. 14: March .. February
    century = y // _U(100)
    year_start = _U(1_461) * y // _U(4) - century + century // _U(4)
    month_start = (_U(979) * m - _U(2_919)) // _U(32)
    return np.int64(year_start + month_start) - _K + day - 1


@jit
def days_in_month(year, month):
    if month == 2:
        leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


@jit
def month_index(days):
    """`year * 12 + month - 1` of a day number."""
    year, month, _ = civil_from_days(days)
    return year * 12 + month - 1


@jit
def month_cursor(month_index):
    """(year, month, day number of the 1st) of month `month_index`: the start of a month walk."""
    year = month_index // 12
    month = month_index % 12 + 1
    return year, month, days_from_civil(year, month, 1)


@jit
def next_month(year, month, first_day):
    """The cursor one month on: adding the month's length is cheaper than converting a date."""
    first_day += days_in_month(year, month)
    if month == 12:
        return year + 1, 1, first_day
    return year, month + 1, first_day


@jit
def cursor_after(days):
    """The month cursor of the month after the one holding day `days`.

    Stepped on from the 1st of `days`' own month: cheaper than converting the month back.

    >>> from accrual.kernels.dates import cursor_after, days_from_civil
    >>> cursor_after(days_from_civil(2024, 12, 31)) == (2025, 1, days_from_civil(2025, 1, 1))
    True
    """
    year, month, day = civil_from_days(days)
    return next_month(year, month, days - day + 1)


@jit
def clipped_day(year, month, first_day, keep_day):
    """Day `keep_day` of the cursor's month, clipped to the month's end (Jan 31 → Feb 28/29)."""
    return first_day + min(keep_day, days_in_month(year, month)) - 1


@jit
def month_date(month_index, keep_day):
    """The date on `keep_day` of month `month_index`, clipped to the month's end."""
    year, month, first_day = month_cursor(month_index)
    return clipped_day(year, month, first_day, keep_day)


@jit
def add_months(days, months):
    """`days` moved by `months` calendar months, keeping its day of month, clipped to month end."""
    year, month, day = civil_from_days(days)
    return month_date(year * 12 + month - 1 + months, day)
