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
    upfront_fee_rate: Decimal = Decimal(0)


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
    return annuity(loan.principal, annual_rate(loan), n, loan.rounding, loan.installment_multiple)


def annuity(
    balance: Decimal, rate: Decimal, n: int, rounding: str, multiple: Decimal = Decimal(0)
) -> Decimal:
    quantum = multiple if multiple > 0 else FEN
    m = Fraction(rate) / 12
    if m == 0:
        return round_money(Fraction(balance) / n, rounding, quantum)
    with localcontext() as ctx:
        ctx.prec = 60
        # (1+m)^n in 60-digit Decimal: exact enough that only a contrived tie could differ.
        growth = (1 + Decimal(m.numerator) / Decimal(m.denominator)) ** n
        exact = balance * growth * Decimal(m.numerator) / Decimal(m.denominator) / (growth - 1)
    return round_money(exact, rounding, quantum)


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
            "upfront_fee_rate",
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


# ---------------------------------------------------------------------------------------------
# The true cost of credit (SPEC.md sections 2 and 3): IRR of the borrower's cash flows.


@dataclass(frozen=True)
class TrueCost:
    periods_per_year: int
    irr_period: Decimal
    irr_annual: Decimal
    effective_annual: Decimal


def cash_flows(loan: Loan) -> tuple[Decimal, list[tuple[int, Decimal]]]:
    """(net disbursement, [(time in periods, payment)]): monthly loans count months, day-term loans days.

    The upfront fee is taken from the disbursement; every installment is paid with its fee.
    """
    fee = round_money(Fraction(loan.principal) * Fraction(loan.upfront_fee_rate), loan.rounding)
    rows = schedule(loan)
    if loan.term_unit == "day":
        return loan.principal - fee, [(loan.term, rows[0].payment)]
    if loan.method == "bullet":
        return loan.principal - fee, [(loan.term, rows[0].payment)]
    return loan.principal - fee, [(r.period, r.payment) for r in rows]


def true_cost(loan: Loan) -> TrueCost:
    """The IRR per period by plain bisection on the net present value, in 50-digit Decimal."""
    net, flows = cash_flows(loan)
    with localcontext() as ctx:
        ctx.prec = 50

        def npv(rate: Decimal) -> Decimal:
            return sum((amount / (1 + rate) ** t for t, amount in flows), Decimal(0)) - net

        low, high = Decimal(0), Decimal(1)
        while npv(high) > 0:  # NPV falls as the rate rises: find a rate that is too high
            high *= 2
        if npv(low) <= 0:  # nothing paid beyond the net disbursement: free money
            high = low
        while high - low > Decimal("1e-30"):
            mid = (low + high) / 2
            if npv(mid) > 0:
                low = mid
            else:
                high = mid
        rate = (low + high) / 2
        per_year = 365 if loan.term_unit == "day" else 12
        return TrueCost(per_year, rate, rate * per_year, (1 + rate) ** per_year - 1)


# ---------------------------------------------------------------------------------------------
# Servicing (SPEC.md section 4): one loan, one day at a time, exact cumulative amounts as Fractions.

KINDS = (
    "interest", "interest_suspended", "penalty", "compound", "late_fee", "bill_principal",
    "bill_interest", "bill_fee", "pay_penalty", "pay_fee", "pay_interest", "pay_principal",
    "prepay_principal", "prepay_fee", "credit", "write_off",
)  # fmt: skip


@dataclass(frozen=True)
class Servicing:
    penalty_rate: Decimal | None = None  # daily; None: multiplier × contract daily rate
    penalty_multiplier: Decimal = Decimal("1.5")
    grace_days: int = 0
    compound: bool = True
    compound_after_days: int = 0
    late_fee_rate: Decimal = Decimal(0)
    late_fee_after_days: int = 1
    non_accrual_after_days: int | None = 90
    write_off_after_days: int | None = None
    allocation: str = "oldest_first"
    prepay: str = "reduce_term"
    prepay_fee_rate: Decimal = Decimal(0)
    prepay_keeps_fees: bool = False


@dataclass
class Owed:
    """One billed installment not yet paid in full."""

    due_on: dt.date
    extension: int
    principal: Decimal
    interest: Decimal
    fee: Decimal
    penalty: Decimal = Decimal(0)
    grace_interest: Decimal = Decimal(0)
    late_fee_charged: bool = False
    grace_exact: Fraction = Fraction(0)  # exact cumulative charges, rounded only when posted
    penalty_exact: Fraction = Fraction(0)
    compound_exact: Fraction = Fraction(0)

    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee + self.penalty + self.grace_interest


@dataclass
class Serviced:
    """A loan's state after servicing, and its postings {(day, kind): amount}."""

    status: str
    principal_outstanding: Decimal
    interest_accrued: Decimal
    credit: Decimal
    principal_repaid: Decimal
    principal_written_off: Decimal
    owed: list[Owed]
    dpd: int
    postings: dict[tuple[dt.date, str], Decimal]

    def due(self, part: str) -> Decimal:
        if part == "interest":
            return sum((o.interest + o.grace_interest for o in self.owed), Decimal(0))
        return sum((getattr(o, part) for o in self.owed), Decimal(0))


def service(
    loan: Loan,
    terms: Servicing,
    as_of: dt.date,
    payments: list[tuple[dt.date, Decimal, str | None]] = (),  # type: ignore[assignment]
    extensions: dict[dt.date, int] | None = None,
) -> Serviced:
    """Walk a fresh loan from disbursement through `as_of` (payments already in application order)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return _service(loan, terms, as_of, list(payments), extensions or {})


def _service(loan, terms, as_of, payments, extensions) -> Serviced:
    rate = Fraction(annual_rate(loan))
    year_days = YEAR_DAYS[loan.day_count]
    contract_daily = rate / year_days
    penalty_daily = (
        Fraction(terms.penalty_rate) if terms.penalty_rate is not None
        else Fraction(terms.penalty_multiplier) * contract_daily
    )  # fmt: skip
    r = loan.rounding
    dues = due_dates(loan)
    n = len(dues)
    free_end = loan.disbursed_on + dt.timedelta(days=loan.interest_free_days)
    irregular_first = loan.first_due_on is not None and loan.first_due_on != add_months(
        loan.disbursed_on, 1, loan.disbursed_on.day
    )
    fee = round_money(Fraction(loan.principal) * Fraction(loan.installment_fee_rate), r)
    if loan.method == "equal_installment":
        fixed = fixed_installment(loan)
    elif loan.method == "equal_principal":
        fixed = round_money(Fraction(loan.principal) / n, r)
    else:
        fixed = Decimal(0)

    def years(k: int) -> Fraction:  # period k's length in years, as the schedule measures it
        start = loan.disbursed_on if k == 0 else dues[k - 1]
        return _period_years(start, dues[k], k, loan, irregular_first, free_end, year_days)

    if loan.method == "bullet":
        bills = [(dues[-1], sum(years(k) for k in range(n)))]
    else:
        bills = [(dues[k], years(k)) for k in range(n)]
    bill_index = 0
    # the period [period_start, bills[bill_index] date) with its interest measured in years; a
    # settlement (interest to the day, paid with a prepayment) starts a new segment at seg_start
    # on the balance left, and the period's interest stays one exact amount, rounded once
    # cumulatively: `settled_exact` is its earlier segments' share, `settled` what they paid
    period_start = seg_start = loan.disbursed_on
    seg_years = bills[0][1]
    settled_exact = Fraction(0)
    settled = Decimal(0)

    outstanding = loan.principal
    accrued = credit = repaid = written_off = Decimal(0)
    status = "active"
    prepaid = False
    owed: list[Owed] = []
    posted: dict[tuple[dt.date, str], Decimal] = {}
    left = len(bills)

    def post(day: dt.date, kind: str, amount: Decimal) -> None:
        if amount:
            posted[(day, kind)] = posted.get((day, kind), Decimal(0)) + amount

    def pay_over(day: dt.date, money: Decimal) -> Decimal:
        parts = [("penalty", "pay_penalty"), ("fee", "pay_fee"), ("grace_interest", "pay_interest"),
                 ("interest", "pay_interest"), ("principal", "pay_principal")]  # fmt: skip
        if terms.allocation == "by_kind":
            order = [(o, part) for part in parts for o in owed]
        else:
            order = [(o, part) for o in owed for part in parts]
        for o, (field, kind) in order:
            take = min(money, getattr(o, field))
            setattr(o, field, getattr(o, field) - take)
            money -= take
            post(day, kind, take)
        return money

    def segment_exact(end: dt.date) -> Fraction:
        """Exact contract interest on the balance from seg_start up to `end` (not counted): the
        period's, pro rata by day-count days."""
        start = max(period_start, free_end)
        length = day_count_days(start, bills[bill_index][0], loan.day_count)
        if length == 0:
            return Fraction(0)
        elapsed = day_count_days(start, end, loan.day_count) - day_count_days(
            start, seg_start, loan.day_count
        )
        return Fraction(outstanding) * rate * seg_years * elapsed / length

    def accrued_through(day: dt.date) -> Decimal:
        """Contract interest of the period through `day` (cumulatively rounded), less what was settled."""
        return round_money(settled_exact + segment_exact(day + dt.timedelta(days=1)), r) - settled

    def overdue_days(o: Owed, day: dt.date) -> int:
        return (day - o.due_on).days - o.extension

    day = loan.disbursed_on
    pending = sorted(payments, key=lambda p: p[0])
    while day <= as_of:
        paid_before = sum(
            (v for (d, k), v in posted.items() if k == "pay_principal" and d == day), Decimal(0)
        )
        # 1. bill
        if status == "active" and bill_index < len(bills) and bills[bill_index][0] == day:
            interest = accrued
            if left == 1:
                principal = outstanding
            elif loan.method == "equal_installment":
                principal = min(max(fixed - interest, Decimal(0)), outstanding)
            elif loan.method == "equal_principal":
                principal = min(fixed, outstanding)
            else:
                principal = Decimal(0)
            ends_early = principal == outstanding and left > 1
            billed_fee = fee * left if (ends_early and prepaid and terms.prepay_keeps_fees) else fee
            owed.append(Owed(day, extensions.get(day, 0), principal, interest, billed_fee))
            post(day, "bill_principal", principal)
            post(day, "bill_interest", interest)
            post(day, "bill_fee", billed_fee)
            outstanding -= principal
            accrued = settled = Decimal(0)
            settled_exact = Fraction(0)
            left -= 1
            bill_index += 1
            seg_start = period_start = day
            if left > 0 and (outstanding > 0 or (fee > 0 and not prepaid)):
                seg_years = bills[bill_index][1]
            else:
                bill_index = len(bills)
        # 2. payments
        if credit > 0 and owed:
            rest = pay_over(day, credit)
            post(day, "credit", rest - credit)
            credit = rest
        while pending and pending[0][0] <= day:
            _, money, strategy = pending.pop(0)
            strategy = strategy or terms.prepay
            if status != "closed":
                money = pay_over(day, money)
            if status == "active" and outstanding > 0 and money > 0 and money >= accrued:
                post(day, "pay_interest", accrued)
                money -= accrued
                if bill_index < len(bills):  # the segment so far is settled
                    settled_exact += segment_exact(day)
                    settled += accrued
                accrued = Decimal(0)
                # the most principal the money prepays, its fee taken from it too
                x = min(
                    outstanding, (money / (1 + terms.prepay_fee_rate)).quantize(FEN, rounding="ROUND_FLOOR")
                )
                while (
                    x < outstanding
                    and x + FEN + round_money(Fraction(x + FEN) * Fraction(terms.prepay_fee_rate), r) <= money
                ):
                    x += FEN
                while x > 0 and x + round_money(Fraction(x) * Fraction(terms.prepay_fee_rate), r) > money:
                    x -= FEN
                prepay_fee = round_money(Fraction(x) * Fraction(terms.prepay_fee_rate), r)
                money -= x + prepay_fee
                outstanding -= x
                repaid += x
                post(day, "prepay_principal", x)
                post(day, "prepay_fee", prepay_fee)
                seg_start = day
                prepaid = prepaid or x > 0
                if outstanding == 0:
                    if terms.prepay_keeps_fees and left > 0:
                        owed.append(Owed(day, 0, Decimal(0), Decimal(0), fee * left))
                        post(day, "bill_fee", fee * left)
                        money = pay_over(day, money)
                    left = 0
                    bill_index = len(bills)
                else:
                    if strategy == "reduce_installment" and loan.method == "equal_installment":
                        fixed = annuity(outstanding, annual_rate(loan), left, r, loan.installment_multiple)
                    elif strategy == "reduce_installment" and loan.method == "equal_principal":
                        fixed = round_money(Fraction(outstanding) / left, r)
            credit += money
            post(day, "credit", money)
        repaid += (
            sum((v for (d, k), v in posted.items() if k == "pay_principal" and d == day), Decimal(0))
            - paid_before
        )
        owed = [o for o in owed if o.total() > 0]
        dpd = max([0] + [overdue_days(o, day) for o in owed])
        suspended = terms.non_accrual_after_days is not None and dpd >= terms.non_accrual_after_days
        # 3. accrue
        if status == "active" and outstanding > 0 and bill_index < len(bills):
            total = accrued_through(day)
            post(day, "interest_suspended" if suspended else "interest", total - accrued)
            accrued = total
        # 5. penalise
        if status == "active":
            for o in owed:
                late = overdue_days(o, day)
                if terms.compound and late >= terms.compound_after_days and o.interest + o.grace_interest > 0:
                    before = round_money(o.compound_exact, r)
                    o.compound_exact += Fraction(o.interest + o.grace_interest) * penalty_daily
                    amount = round_money(o.compound_exact, r) - before
                    o.penalty += amount
                    post(day, "compound", amount)
                grace = Decimal(0)
                if o.principal > 0:
                    if late < terms.grace_days:
                        before = round_money(o.grace_exact, r)
                        o.grace_exact += Fraction(o.principal) * contract_daily
                        grace = round_money(o.grace_exact, r) - before
                        post(day, "interest_suspended" if suspended else "interest", grace)
                        post(day, "bill_interest", grace)
                    else:
                        before = round_money(o.penalty_exact, r)
                        o.penalty_exact += Fraction(o.principal) * penalty_daily
                        amount = round_money(o.penalty_exact, r) - before
                        o.penalty += amount
                        post(day, "penalty", amount)
                if (
                    terms.late_fee_rate > 0
                    and not o.late_fee_charged
                    and late >= terms.late_fee_after_days - 1
                ):
                    o.late_fee_charged = True
                    fee_amount = round_money(
                        Fraction(o.principal + o.interest + o.fee) * Fraction(terms.late_fee_rate), r
                    )
                    o.penalty += fee_amount
                    post(day, "late_fee", fee_amount)
                o.grace_interest += grace
        # 6. write off
        if status == "active" and terms.write_off_after_days and dpd >= terms.write_off_after_days:
            amount = outstanding + sum((o.principal for o in owed), Decimal(0))
            for o in owed:
                o.principal = Decimal(0)
            outstanding = Decimal(0)
            written_off += amount
            post(day, "write_off", amount)
            status = "written_off"
            bill_index = len(bills)
            owed = [o for o in owed if o.total() > 0]
        if status == "active" and outstanding == 0 and not owed and bill_index >= len(bills):
            status = "closed"
        day += dt.timedelta(days=1)
    last = min(as_of, day - dt.timedelta(days=1))
    dpd = max([0] + [overdue_days(o, last) for o in owed if o.total() > 0])
    return Serviced(status, outstanding, accrued, credit, repaid, written_off, owed, dpd,
                    {k: v for k, v in posted.items() if v})  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Stress (SPEC.md section 11): one loan, expected values by enumerating every path.


@dataclass(frozen=True)
class StressRow:
    due_on: dt.date
    principal: Decimal
    interest: Decimal
    fee: Decimal


@dataclass(frozen=True)
class StressTerms:
    roll: Fraction  # min(1, base_roll × pd_multiplier)
    cure: Fraction  # min(1, base_cure × cure_multiplier)
    prepay: Fraction
    recovery_rate: Fraction
    recovery_lag: int
    funding_rate: Fraction
    penalty_daily: Fraction
    charge_off_after: int = 6
    rounding: str = "half_up"


STRESS_METRICS = (
    "balance", "balance_current", "balance_m1", "balance_m2", "balance_m3", "balance_m3plus",
    "collected_principal", "collected_interest", "collected_penalty", "collected_fee",
    "charged_off", "recovered", "net_interest_income",
)  # fmt: skip


def stress_expected(
    rows: list[StressRow],
    keep_day: int,
    terms: StressTerms,
    months: int,
    missed: list[StressRow] | None = None,
) -> list[dict[str, Fraction]]:
    """Expected values per step (1..months) of one loan whose installments due on or after the
    start are `rows` (the loan starts delinquent when `missed` lists installments already missed),
    by walking every path of the roll-rate model with its probability. Exponential: short
    horizons only."""
    steps = [dict.fromkeys(STRESS_METRICS, Fraction(0)) for _ in range(months + 1)]
    buckets = {1: "balance_m1", 2: "balance_m2", 3: "balance_m3"}

    def date_of(m: int) -> dt.date:  # step m's date: its installment's, or months after the last
        if m <= len(rows):
            return rows[m - 1].due_on
        return add_months(rows[-1].due_on, m - len(rows), keep_day)

    def penalty(late: list[StressRow], on: dt.date) -> Decimal:
        return sum(
            (round_money(Fraction(r.principal) * terms.penalty_daily * (on - r.due_on).days, terms.rounding)
             for r in late),
            Decimal(0),
        )  # fmt: skip

    def collect(
        m: int, prob: Fraction, paid: list[StressRow], extra_principal: Decimal, pen: Decimal
    ) -> None:
        s = steps[m]
        s["collected_principal"] += prob * Fraction(
            sum((r.principal for r in paid), Decimal(0)) + extra_principal
        )
        s["collected_interest"] += prob * Fraction(sum((r.interest for r in paid), Decimal(0)))
        s["collected_fee"] += prob * Fraction(sum((r.fee for r in paid), Decimal(0)))
        s["collected_penalty"] += prob * Fraction(pen)

    def end(m: int, prob: Fraction, balance: Decimal, bucket: str | None) -> None:
        if bucket is not None:
            steps[m]["balance"] += prob * Fraction(balance)
            steps[m][bucket] += prob * Fraction(balance)

    def charge_off(m: int, prob: Fraction, loss: Decimal) -> None:
        steps[m]["charged_off"] += prob * Fraction(loss)
        if m + terms.recovery_lag <= months:
            steps[m + terms.recovery_lag]["recovered"] += prob * Fraction(loss) * terms.recovery_rate

    def walk(m: int, prob: Fraction, balance: Decimal, late: list[StressRow], b: int) -> None:
        """Step m from a state with `balance` principal not repaid and `late` installments missed
        over `b` delinquent steps (b = 0: current)."""
        if m > months or prob == 0:
            return
        steps[m]["net_interest_income"] -= prob * terms.funding_rate / 12 * Fraction(balance)
        due = rows[m - 1] if m <= len(rows) else None
        if b == 0:
            assert due is not None
            after = balance - due.principal
            # misses
            if b + 1 >= terms.charge_off_after:
                charge_off(m, prob * terms.roll, balance)
            else:
                end(m, prob * terms.roll, balance, buckets.get(1, "balance_m3plus"))
                walk(m + 1, prob * terms.roll, balance, [due], 1)
            rest = prob * (1 - terms.roll)
            # prepays everything after paying the installment
            collect(m, rest * terms.prepay, [due], after, Decimal(0))
            # pays the installment
            paying = rest * (1 - terms.prepay)
            collect(m, paying, [due], Decimal(0), Decimal(0))
            if m == len(rows):
                return
            end(m, paying, after, "balance_current")
            walk(m + 1, paying, after, [], 0)
            return
        on = date_of(m)
        cured = prob * terms.cure
        paid = late + ([due] if due is not None else [])
        collect(m, cured, paid, Decimal(0), penalty(late, on))
        left = balance - sum((r.principal for r in paid), Decimal(0))
        if m < len(rows):
            end(m, cured, left, "balance_current")
            walk(m + 1, cured, left, [], 0)
        missing = prob * (1 - terms.cure)
        if b + 1 >= terms.charge_off_after:
            charge_off(m, missing, balance)
            return
        end(m, missing, balance, buckets.get(b + 1, "balance_m3plus"))
        walk(m + 1, missing, balance, late + ([due] if due is not None else []), b + 1)

    late = list(missed or [])
    opening = sum((r.principal for r in rows), Decimal(0)) + sum((r.principal for r in late), Decimal(0))
    walk(1, Fraction(1), opening, late, min(len(late), terms.charge_off_after - 1))
    for s in steps[1:]:
        s["net_interest_income"] += s["collected_interest"] + s["collected_penalty"] + s["collected_fee"]
    return steps[1:]
