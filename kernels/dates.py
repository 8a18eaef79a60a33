"""Civil dates as int32 days since 1970-01-01 (proleptic Gregorian).

The conversions are Howard Hinnant's branch-light `days_from_civil` / `civil_from_days`
algorithms, exact for every date Arrow's date32 can hold. Months are handled as a *month index*
(`year * 12 + month - 1`) so that "the same day n months later" is one addition.
"""

from ._config import jit

NO_DATE = -(2**31)  # sentinel for a missing date (Arrow null)


@jit
def days_from_civil(year, month, day):
    """Days since 1970-01-01 of a civil date (month 1..12)."""
    y = year - 1 if month <= 2 else year
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@jit
def civil_from_days(days):
    """(year, month, day) of a day number."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (1 if month <= 2 else 0)
    return year, month, day


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
