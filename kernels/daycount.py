"""Day-count conventions: how many days a period has and how many make a year.

Codes match `accrual.DayCount`. Interest for `d` days is `balance × annual × d / year_days`.
"""

from ._config import jit
from .dates import civil_from_days

ACT_360 = 0  # PBoC convention for RMB loans
ACT_365 = 1
THIRTY_360 = 2  # bond basis (ISDA)


@jit
def year_days(day_count):
    return 365 if day_count == ACT_365 else 360


@jit
def days_30_360(start, end):
    """30/360 bond basis: a 31st start counts as the 30th; a 31st end too, if the start is the 30th."""
    y1, m1, d1 = civil_from_days(start)
    y2, m2, d2 = civil_from_days(end)
    d1 = min(d1, 30)
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (y2 - y1) + 30 * (m2 - m1) + (d2 - d1)


@jit
def day_count_days(start, end, day_count):
    """Days from `start` (counted) to `end` (not counted), 算头不算尾; 0 for an empty span."""
    if end <= start:
        return 0
    if day_count == THIRTY_360:
        return days_30_360(start, end)
    return end - start
