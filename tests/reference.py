"""Naive reference implementations: one loan at a time, `Decimal` money, `datetime.date` dates.

Slow and obvious on purpose. They share no code with `accrual` or its kernels, so a kernel that
matches them to the fen is right for a reason other than its own construction.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

FEN = Decimal("0.01")
ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
YEAR_DAYS = {"ACT/360": 360, "ACT/365": 365, "30/360": 360}


@dataclass(frozen=True)
class Loan:
    principal: Decimal
    term: int
    disbursed_on: dt.date
    annual_rate: Decimal | None = None
    daily_rate: Decimal | None = None
    method: str = "equal_installment"
    term_unit: str = "month"
    first_due_on: dt.date | None = None
    day_count: str = "ACT/360"
    interest_basis: str = "daily"
    installment_multiple: Decimal = Decimal(0)
    rounding: str = "half_up"
    installment_fee_rate: Decimal = Decimal(0)
    interest_free_days: int = 0


@dataclass(frozen=True)
class Installment:
    period: int
    due_on: dt.date
    payment: Decimal
    principal: Decimal
    interest: Decimal
    fee: Decimal
    balance: Decimal


def add_months(day: dt.date, months: int, keep_day: int) -> dt.date:
    """`day` moved by `months` calendar months, on `keep_day` clipped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(keep_day, calendar.monthrange(year, month)[1]))


def days_30_360(start: dt.date, end: dt.date) -> int:
    """30/360 bond basis (ISDA): day 31 counts as 30; an end on the 31st after a start on the 30th/31st is 30."""
    d1 = min(start.day, 30)
    d2 = end.day
    if d2 == 31 and d1 == 30:
        d2 = 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def day_count_days(start: dt.date, end: dt.date, day_count: str) -> int:
    if end <= start:
        return 0
    if day_count == "30/360":
        return days_30_360(start, end)
    return (end - start).days


def round_money(x: Decimal | Fraction, rounding: str, quantum: Decimal = FEN) -> Decimal:
    """Round an exact amount to a multiple of `quantum` (the fen unless told), half-up or half-even."""
    q = Fraction(x) / Fraction(quantum)
    whole, rest = divmod(q.numerator, q.denominator)  # floor division: rest >= 0
    twice = 2 * rest
    # A tie goes away from zero for half-up (floor already is, below zero), to even for half-even.
    tie_up = (q >= 0) if rounding == "half_up" else bool(whole % 2)
    if twice > q.denominator or (twice == q.denominator and tie_up):
        whole += 1
    return Decimal(whole) * quantum


def annual_rate(loan: Loan) -> Decimal:
    if loan.annual_rate is not None:
        return loan.annual_rate
    assert loan.daily_rate is not None
    return loan.daily_rate * YEAR_DAYS[loan.day_count]


def due_dates(loan: Loan) -> list[dt.date]:
    if loan.term_unit == "day":
        return [loan.disbursed_on + dt.timedelta(days=loan.term)]
    if loan.first_due_on is not None:
        anchor, shift = loan.first_due_on, -1
    else:
        anchor, shift = loan.disbursed_on, 0
    return [add_months(anchor, k + shift, anchor.day) for k in range(1, loan.term + 1)]


def fixed_installment(loan: Loan) -> Decimal:
    """Annuity A = P·m(1+m)^n / ((1+m)^n − 1), m = annual/12, rounded to the fen or the multiple."""
    n = loan.term if loan.term_unit == "month" else 1
    quantum = loan.installment_multiple if loan.installment_multiple > 0 else FEN
    m = Fraction(annual_rate(loan)) / 12
    if m == 0:
        return round_money(Fraction(loan.principal) / n, loan.rounding, quantum)
    # (1+m)^n in 60-digit Decimal: exact enough that only a contrived tie could differ.
    growth = (1 + Decimal(m.numerator) / Decimal(m.denominator)) ** n
    exact = loan.principal * growth * Decimal(m.numerator) / Decimal(m.denominator) / (growth - 1)
    return round_money(exact, loan.rounding, quantum)


def schedule(loan: Loan) -> list[Installment]:
    """The contractual schedule of one loan, period by period."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _schedule(loan)


def _schedule(loan: Loan) -> list[Installment]:
    rate = annual_rate(loan)
    year_days = YEAR_DAYS[loan.day_count]
    dues = due_dates(loan)
    n = len(dues)
    free_end = loan.disbursed_on + dt.timedelta(days=loan.interest_free_days)
    fee = round_money(Fraction(loan.principal) * Fraction(loan.installment_fee_rate), loan.rounding)
    irregular_first = loan.first_due_on is not None and loan.first_due_on != add_months(
        loan.disbursed_on, 1, loan.disbursed_on.day
    )
    if loan.method == "equal_installment":
        fixed = fixed_installment(loan)
    elif loan.method == "equal_principal":
        fixed = round_money(Fraction(loan.principal) / n, loan.rounding)
    else:
        fixed = Decimal(0)

    # A bullet pays once, at the end of what would have been the last period; its interest is
    # the sum of the periods' exact interest, rounded once.
    if loan.method == "bullet":
        spans = [(loan.disbursed_on, dues[0], 0)]
        spans += [(dues[i - 1], dues[i], i) for i in range(1, n)]
        years = sum(_period_years(a, b, k, loan, irregular_first, free_end, year_days) for a, b, k in spans)
        interest = round_money(Fraction(loan.principal) * Fraction(rate) * years, loan.rounding)
        payment = loan.principal + interest + fee
        return [Installment(1, dues[-1], payment, loan.principal, interest, fee, Decimal(0))]

    rows = []
    balance = loan.principal
    start = loan.disbursed_on
    for k, due in enumerate(dues):
        years = _period_years(start, due, k, loan, irregular_first, free_end, year_days)
        interest = round_money(Fraction(balance) * Fraction(rate) * years, loan.rounding)
        last = k == n - 1
        if last:
            principal = balance
        elif loan.method == "equal_installment":
            principal = min(max(fixed - interest, Decimal(0)), balance)
        elif loan.method == "equal_principal":
            principal = min(fixed, balance)
        else:  # interest_first
            principal = Decimal(0)
        balance -= principal
        rows.append(Installment(k + 1, due, principal + interest + fee, principal, interest, fee, balance))
        start = due
    return rows


def _period_years(
    start: dt.date,
    end: dt.date,
    k: int,
    loan: Loan,
    irregular_first: bool,
    free_end: dt.date,
    year_days: int,
) -> Fraction:
    """The period's length in years: a twelfth for a regular month on the monthly basis, else by the day."""
    touches_free = start < free_end
    if (
        loan.interest_basis == "monthly"
        and loan.term_unit == "month"
        and not (k == 0 and irregular_first)
        and not touches_free
    ):
        return Fraction(1, 12)
    days = day_count_days(max(start, free_end), end, loan.day_count)
    return Fraction(days, year_days)


def loans_from_rows(rows: list[dict]) -> list[Loan]:
    """Reference loans from plain dicts (canonical names; absent keys take the defaults)."""
    fields = Loan.__dataclass_fields__
    loans = []
    for row in rows:
        kw = {k: v for k, v in row.items() if k in fields and v is not None}
        for k in (
            "principal",
            "annual_rate",
            "daily_rate",
            "installment_multiple",
            "installment_fee_rate",
        ):
            if k in kw:
                kw[k] = Decimal(str(kw[k]))
        loans.append(Loan(**kw))
    return loans


def schedule_rows(rows: list[dict]) -> list[tuple]:
    """Reference schedule of many loans as tuples (loan_id, period, due_on, payment, principal,
    interest, fee, balance), in input order."""
    out = []
    for row, loan in zip(rows, loans_from_rows(rows), strict=True):
        for i in schedule(loan):
            out.append(
                (
                    row["loan_id"],
                    i.period,
                    i.due_on,
                    i.payment,
                    i.principal,
                    i.interest,
                    i.fee,
                    i.balance,
                )
            )
    return out
