"""The amortisation step shared by every method, and the schedule kernel built on it.

`period_step` computes one installment (principal, interest, fee) from the balance and the
period's interest (`period_interest`). Schedule generation uses it here; EOD billing, prepayment re-amortisation and
stress projection call the same function, so they cannot drift apart.

A period's length is a *weight* in units of 1/(12 · year_days) of a year: a regular month on the
monthly basis weighs `year_days` (= 1/12 year), a period counted by the day weighs `12 · days`.
Interest is then one exact fraction, `balance × annual × weight / (RATE_SCALE · 12 · year_days)`,
rounded once.
"""

import math

import numpy as np

from ._config import inline_jit, jit
from .dates import (
    NO_DATE,
    civil_from_days,
    clipped_day,
    cursor_after,
    month_date,
    month_index,
    next_month,
)
from .daycount import day_count_days, year_days
from .rounding import FAST_LIMIT, TIE_MARGIN, div_round, mul_div_round, mul_div_round_ratio, round_to_multiple

RATE_SCALE = 10**12  # rates are integers: 0.049 → 49_000_000_000

# Codes match the enums of `accrual.conventions`.
EQUAL_INSTALLMENT = 0  # 等额本息
EQUAL_PRINCIPAL = 1  # 等额本金
INTEREST_FIRST = 2  # 先息后本
BULLET = 3  # 到期还本付息
DAILY = 0  # interest basis: balance × daily rate × actual days
MONTHLY = 1  # interest basis: balance × annual / 12 per scheduled month
MONTH = 0  # term unit
DAY = 1
# Prepayment strategies (`Prepay` in the API); -1 in a payment means "the loan's own".
REDUCE_TERM = 0  # keep the installment, finish earlier
REDUCE_INSTALLMENT = 1  # keep the term, pay less each period


@jit
def growth_minus_one(m, n):
    """(1 + m)^n − 1 for m >= 0, by binary powering of the excess over 1.

    (1 + a)(1 + b) − 1 = a + b + ab adds only positive terms, so unlike pow(1 + m, n) − 1 it
    loses nothing to cancellation for small rates, and costs a few multiplies, not log/exp.
    """
    result = 0.0
    base = m
    while n > 0:
        if n & 1:
            result = result + base + result * base
        base = 2.0 * base + base * base
        n >>= 1
    return result


@jit
def fixed_amount(method, principal, annual_num, periods, multiple, mode):
    """The amount fixed once per loan: the annuity (equal installment) or P/n (equal principal).

    Annuity A = P·m(1+m)^n / ((1+m)^n − 1), m = annual/12, rounded to `multiple` fen; never
    recomputed.
    """
    if method == EQUAL_INSTALLMENT:
        if annual_num == 0:
            return div_round(principal, periods * multiple, mode) * multiple
        m = annual_num / (RATE_SCALE * 12.0)
        excess = growth_minus_one(m, periods)
        annuity = principal * m * (1.0 + excess) / excess
        return round_to_multiple(annuity, multiple, mode)
    if method == EQUAL_PRINCIPAL:
        return div_round(principal, periods, mode)
    return 0


@jit
def first_period(term, term_unit, disbursed_on, first_due_on):
    """(periods, first due date, irregular first period?, day of month kept by later due dates,
    month cursor of the month after the first due date).

    Due dates keep the day of month of `first_due_on` when given, else of disbursement, clipped
    to each month's end. A day-term loan has one period of `term` days, counted by the day (its
    cursor is never walked). The cursor is returned so that writing the schedule need not
    convert the first due date back to a civil date.
    """
    if term_unit == DAY:
        return 1, disbursed_on + term, True, 0, (0, 1, 0)
    y, m, d = civil_from_days(disbursed_on)
    year, month, month_first = next_month(y, m, disbursed_on - d + 1)  # the month after disbursement
    one_month_on = clipped_day(year, month, month_first, d)
    if first_due_on == NO_DATE:
        return term, one_month_on, False, d, next_month(year, month, month_first)
    first_due = np.int64(first_due_on)
    _, _, keep_day = civil_from_days(first_due)
    return term, first_due, first_due != one_month_on, keep_day, cursor_after(first_due)


@jit
def next_due(due, keep_day):
    """The due date a month after `due`, on `keep_day` clipped to the month's end."""
    return month_date(month_index(due) + 1, keep_day)


@inline_jit
def period_weight(start, end, regular_month, basis, day_count, days_per_year, free_end):
    """A period's length in 1/(12 · year_days) years; interest-free days weigh nothing.

    Inlined by Numba, so it stays inside the schedule's row loop whatever LLVM's inliner makes of
    its 30/360 branch: as a call it cost ≈ 10% of the fill (once its callee grew small enough to
    be inlined into it)."""
    if basis == MONTHLY and regular_month and start >= free_end:
        return days_per_year
    return 12 * day_count_days(max(start, free_end), end, day_count)


@jit
def term_weight(
    disbursed_on, first_due, irregular_first, keep_day, periods, basis, day_count, days_per_year, free_end
):
    """(maturity, summed weight of every period): a bullet's one payment and its whole-term interest."""
    start = disbursed_on
    due = first_due
    total = 0
    for k in range(periods):
        if k > 0:
            due = next_due(due, keep_day)
        total += period_weight(
            start, due, not (k == 0 and irregular_first), basis, day_count, days_per_year, free_end
        )
        start = due
    return due, total


@jit
def opening_period(
    method, disbursed_on, first_due, irregular_first, keep_day, periods, basis, day_count, days_per_year, free_end
):  # fmt: skip
    """(due date, weight, installments left) of a fresh loan's first period: a bullet's is its whole term."""
    if method == BULLET:
        due, weight = term_weight(
            disbursed_on, first_due, irregular_first, keep_day, periods, basis, day_count, days_per_year, free_end
        )  # fmt: skip
        return due, weight, 1
    weight = period_weight(
        disbursed_on, first_due, not irregular_first, basis, day_count, days_per_year, free_end
    )
    return first_due, weight, periods


@jit
def installment_fee(principal, fee_num, mode):
    """The fee of every installment: rate × original principal, rounded."""
    if fee_num == 0:  # most loans: skip the exact division
        return 0
    return mul_div_round(principal, fee_num, 1, RATE_SCALE, mode)


@jit
def interest_denominator(annual_num, days_per_year):
    """(den, annual_num / den): interest = round(balance · annual_num · weight / den), per loan."""
    den = RATE_SCALE * 12 * days_per_year
    return den, annual_num / den


@jit
def period_interest(balance, annual_num, weight, den, ratio, mode):
    """A period's contract interest, balance × annual × weight / den, rounded once.

    `den, ratio` come from `interest_denominator` (once per loan).

    >>> from accrual.kernels.amortize import period_interest, interest_denominator, RATE_SCALE
    >>> annual = 18 * RATE_SCALE // 100  # 0.05%/day on ACT/360
    >>> den, ratio = interest_denominator(annual, 360)
    >>> period_interest(100_000, annual, 12 * 30, den, ratio, 0)  # 1000.00 for 30 days: 15.00
    1500
    """
    return mul_div_round_ratio(balance, annual_num, weight, den, ratio, mode)


@jit
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@jit
def accrued_interest(balance_days, annual_num, weight, length, days_per_year, den, ratio, mode):
    """Contract interest on `balance_days` (Σ balance × day-count days, in fen-days) of a period of
    `length` day-count days, rounded once.

    The period's whole interest is balance × annual × weight / den (as in `period_interest`);
    `balance_days` = balance × length gives exactly that, and a part of the period its share. A
    period whose balance changed part way (a prepayment) sums each segment's balance × days, so
    its interest is still one exact amount, rounded once (cumulative rounding: a prepayment
    never costs a fen of rounding). By the day (weight = 12 · length) this is simply
    balance × daily rate × days.

    >>> from accrual.kernels.amortize import accrued_interest, interest_denominator, RATE_SCALE
    >>> annual = RATE_SCALE // 100  # 1% a year, ACT/360, by the day
    >>> den, ratio = interest_denominator(annual, 360)
    >>> # 29 days on 1,000.00, then 2 on 990.81 after a prepayment: 0.8606, rounded once
    >>> accrued_interest(100_000 * 29 + 99_081 * 2, annual, 12 * 31, 31, 360, den, ratio, 0)
    86
    """
    if balance_days <= 0 or length <= 0:
        return 0
    if weight == 12 * length:
        return mul_div_round_ratio(balance_days, annual_num, 12, den, ratio, mode)
    # A regular month on the monthly basis, accrued day by day. The float estimate is within five
    # roundings (≈ 5.6e-16 relative: < 7e-7 fen below FAST_LIMIT, with x + 0.5's own) of the
    # exact value, so unless it is within TIE_MARGIN of a tie the rounding is decided, without
    # the exact path's three gcds: 19 → 3 ns a loan and day (micro-benchmark, one core).
    x = float(balance_days) * (ratio * float(weight) / float(length))
    y = x + 0.5
    q = math.floor(y)
    frac = y - q
    if TIE_MARGIN < frac < 1.0 - TIE_MARGIN and x < FAST_LIMIT:
        return int(q)
    # reduce annual · weight / (RATE_SCALE · 12 · year_days · length) so its denominator fits int64
    g = _gcd(weight, length)
    w, n = weight // g, length // g
    h = _gcd(w, 12 * days_per_year)
    a = _gcd(annual_num, RATE_SCALE)
    return mul_div_round(
        balance_days, annual_num // a, w // h, (RATE_SCALE // a) * (12 * days_per_year // h) * n, mode
    )


@jit
def period_step(method, balance, interest, fixed, fee, is_last):
    """One installment: (principal, interest, fee) given the period's interest. The last one
    clears the balance exactly.

    The schedule passes `period_interest`; EOD billing passes the interest accrued day by day,
    which is the same amount for a period without prepayment (cumulative rounding).

    >>> from accrual.kernels.amortize import period_step, EQUAL_INSTALLMENT
    >>> period_step(EQUAL_INSTALLMENT, 100_000, 1_500, 34_338, 0, False)  # annuity 343.38
    (32838, 1500, 0)
    """
    if is_last:
        principal = balance
    elif method == EQUAL_INSTALLMENT:
        principal = min(max(fixed - interest, 0), balance)
    elif method == EQUAL_PRINCIPAL:
        principal = min(fixed, balance)
    else:  # interest-first and bullet repay principal only at the end
        principal = 0
    return principal, interest, fee


@jit
def prepay_split(money, outstanding, fee_num, mode):
    """(principal, fee): the most principal `money` prepays when a fee of fee_num / RATE_SCALE of it is due too."""
    x = min(outstanding, int(money / (1.0 + fee_num / RATE_SCALE)))
    while x < outstanding and x + 1 + mul_div_round(x + 1, fee_num, 1, RATE_SCALE, mode) <= money:
        x += 1
    while x > 0 and x + mul_div_round(x, fee_num, 1, RATE_SCALE, mode) > money:
        x -= 1
    return x, mul_div_round(x, fee_num, 1, RATE_SCALE, mode)


@jit
def reamortised(method, strategy, fixed, balance, annual_num, left, multiple, mode):
    """The fixed amount after a prepayment: kept (reduce_term), or recomputed on the balance over
    the installments left (reduce_installment, for the methods that have one)."""
    if strategy == REDUCE_INSTALLMENT and method in (EQUAL_INSTALLMENT, EQUAL_PRINCIPAL):
        return fixed_amount(method, balance, annual_num, left, multiple, mode)
    return fixed


@inline_jit
def put_money(out, row, fen):
    """Write int64 fen into a Decimal128 slot (two int64 words, little-endian)."""
    out[row, 0] = fen
    out[row, 1] = fen >> 63


@inline_jit
def write_periods(
    row, count, number, loan, balance, start, due, cursor, keep_day, regular_first, method, fixed, fee,
    first_interest, prepaid, keeps_fees, annual_num, mode, basis, day_count, free_end,
    surplus, prepay_fee_num, strategy, multiple, out_loan_id, out_period, out_due_on, out_money,
):  # fmt: skip
    """Write the next `count` installments (the last clears the balance), numbered from `number`,
    from rows `row` on. Returns the number of rows written.

    The first falls due on `due`, after a period from `start`, and is regular unless
    `regular_first` is false; later ones fall due monthly on `keep_day`, from the month of
    `cursor` (`month_cursor` of the month after `due`) on. A non-negative
    `first_interest` replaces the first period's computed interest (a bullet's whole term, or
    what the EOD engine will have accrued). A `prepaid` loan ends, as EOD billing does, with
    the installment that repays its principal (`reduce_term` shortens the term), carrying the
    remaining installments' fees when `keeps_fees`.

    A `surplus` (fen) paid with each installment but the last prepays principal on its due date,
    less a `prepay_fee_num` fee, re-amortising by `strategy` (a projection of smart repayment).

    `out_money` is (5, rows, 2) — payment, principal, interest, fee, balance — or (7, rows, 2)
    with the principal prepaid and its fee; each row of it an Arrow Decimal128 column. A
    (1, rows, 2) `out_money` gets the payments only, and the other outputs nothing.
    """
    days_per_year = year_days(day_count)
    den, ratio = interest_denominator(annual_num, days_per_year)
    every_column = out_money.shape[0] > 1  # else payments only: all an IRR needs
    year, month, month_first = cursor
    for k in range(count):
        if k > 0:
            due = clipped_day(year, month, month_first, keep_day)
            year, month, month_first = next_month(year, month, month_first)
        if k == 0 and first_interest >= 0:
            interest = first_interest
        else:
            weight = period_weight(
                start, due, k > 0 or regular_first, basis, day_count, days_per_year, free_end
            )
            interest = period_interest(balance, annual_num, weight, den, ratio, mode)
        p, interest, f = period_step(method, balance, interest, fixed, fee, k == count - 1)
        ends = prepaid and p == balance and k < count - 1
        balance -= p
        swept = swept_fee = 0
        if surplus > 0 and balance > 0 and k < count - 1:
            swept, swept_fee = prepay_split(surplus, balance, prepay_fee_num, mode)
            if swept > 0:
                balance -= swept
                prepaid = True
                ends = balance == 0
                fixed = reamortised(
                    method, strategy, fixed, balance, annual_num, count - k - 1, multiple, mode
                )
        if ends and keeps_fees:
            f = fee * (count - k)
        r = np.uint64(row + k)  # unsigned: no negative-index wraparound on each store
        put_money(out_money[0], r, p + interest + f + swept + swept_fee)
        if every_column:
            out_loan_id[r] = loan
            out_period[r] = number + k
            out_due_on[r] = due
            put_money(out_money[1], r, p)
            put_money(out_money[2], r, interest)
            put_money(out_money[3], r, f)
            put_money(out_money[4], r, balance)
            if out_money.shape[0] > 5:
                put_money(out_money[5], r, swept)
                put_money(out_money[6], r, swept_fee)
        if ends:
            return k + 1
        start = due
    return count


@inline_jit
def opening_schedule(
    principal, annual_num, term, term_unit, disbursed_on, first_due_on, method, day_count, basis, multiple, mode,
    free_end,
):  # fmt: skip
    """(installments, first due date, its month cursor, day of month kept, first period regular?,
    fixed amount, first interest or -1) of a fresh loan: a bullet has one installment carrying the
    whole term's interest, rounded once. Scalars in, so inlining it costs no reference counts;
    inlined, the loan's set-up is ≈ 10 ns shorter than through a call (measured on one core)."""
    days_per_year = year_days(day_count)
    periods, first_due, irregular_first, keep_day, cursor = first_period(
        term, term_unit, disbursed_on, first_due_on
    )
    fixed = fixed_amount(method, principal, annual_num, periods, multiple, mode)
    due, weight, count = opening_period(
        method, disbursed_on, first_due, irregular_first, keep_day, periods, basis, day_count, days_per_year, free_end
    )  # fmt: skip
    first_interest = -1
    if method == BULLET:  # one installment: its due date is the maturity, and no cursor is walked
        den, ratio = interest_denominator(annual_num, days_per_year)
        first_interest = period_interest(principal, annual_num, weight, den, ratio, mode)
    return (
        np.int64(count),
        np.int64(due),
        cursor,
        np.int64(keep_day),
        not irregular_first,
        fixed,
        first_interest,
    )


@inline_jit
def loan_schedule(
    row, loan, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method,
    day_count, basis, multiple, mode, fee_num, free_days, surplus, prepay_fee_num, strategy, keeps_fees,
    out_loan_id, out_period, out_due_on, out_money,
):  # fmt: skip
    """Write one loan's whole schedule from row `row` on (sweeping a `surplus` into prepayment
    when one is given: see `write_periods`); returns the number of installments written.
    The loan's terms come as scalars: arrays passed through would cost reference counts."""
    start = np.int64(disbursed_on)
    free_end = start + free_days
    count, due, cursor, keep_day, regular, fixed, first_interest = opening_schedule(
        principal, annual_num, term, term_unit, start, first_due_on, method, day_count,
        basis, multiple, mode, free_end,
    )  # fmt: skip
    return write_periods(
        row, count, 1, loan, principal, start, due, cursor, keep_day, regular, method, fixed,
        installment_fee(principal, fee_num, mode), first_interest, False, keeps_fees, annual_num, mode,
        basis, day_count, free_end, surplus, prepay_fee_num, strategy, multiple,
        out_loan_id, out_period, out_due_on, out_money,
    )  # fmt: skip


@jit
def fill_schedule(
    lo, hi, offsets, loan_id, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method,
    day_count, basis, multiple, rounding, fee_num, free_days, out_loan_id, out_period, out_due_on, out_money,
):  # fmt: skip
    """Write the schedules of loans lo:hi into rows offsets[i]:offsets[i+1] of the outputs (the
    caller runs chunks of loans on all cores: `accrual.threads`).

    `out_money` is (5, rows, 2) int64: payment, principal, interest, fee, balance as Decimal128.
    """
    for i in range(lo, hi):
        loan_schedule(
            offsets[i], loan_id[i], principal[i], annual_num[i], term[i], term_unit[i], disbursed_on[i],
            first_due_on[i], method[i], day_count[i], basis[i], multiple[i], rounding[i], fee_num[i],
            free_days[i], 0, 0, REDUCE_TERM, False, out_loan_id, out_period, out_due_on, out_money,
        )  # fmt: skip


@jit
def fill_remaining(
    lo, hi, offsets, loan_id, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method,
    day_count, basis, multiple, rounding, fee_num, free_days, keeps_fees, fresh, outstanding,
    installment, next_due_on, installments_left, period_start, accruing_since, weight, prepaid_on,
    settled_days, settled_interest, surplus, prepay_fee_num, strategy, out_loan_id, out_period, out_due_on, out_money, out_rows,
):  # fmt: skip
    """Each of loans lo:hi's installments not yet billed, from its servicing state, into rows
    offsets[i]:offsets[i+1] (an upper bound: `out_rows[i]` says how many were written).

    If the borrower pays on time from here, these are exactly what EOD billing will bill: the
    next installment's interest is what the period accrues up to the due date (its earlier
    segments' `settled_days` of balance and the current one's, less the `settled_interest` paid
    at a prepayment), on the balance and installment the book
    holds after any prepayment; later ones follow the shared period step. Fresh loans (no
    state yet) get their whole schedule. Rows with nothing left to bill get none. A `surplus`
    per loan (fen, 0 for none) is swept into prepayment on each due date (a projection).
    """
    for i in range(lo, hi):
        left = offsets[i + 1] - offsets[i]  # rows reserved: the schedule's, or the installments left
        if left == 0:
            out_rows[i] = 0
            continue
        mode = rounding[i]
        dc = day_count[i]
        disbursed = np.int64(disbursed_on[i])
        free_end = disbursed + free_days[i]
        if fresh[i]:
            count, due, cursor, keep_day, regular, fixed, first_interest = opening_schedule(
                principal[i], annual_num[i], term[i], term_unit[i], disbursed, first_due_on[i], method[i], dc,
                basis[i], multiple[i], mode, free_end,
            )  # fmt: skip
            number = np.int64(1)
            balance = principal[i]
            start = disbursed
            prepaid = False
        else:
            periods, _, _, kept, _ = first_period(term[i], term_unit[i], disbursed, first_due_on[i])
            keep_day = np.int64(kept)
            count = np.int64(left)
            number = np.int64((1 if method[i] == BULLET else periods) - left + 1)
            balance = outstanding[i]
            due = np.int64(next_due_on[i])
            cursor = cursor_after(due)
            start = np.int64(period_start[i])
            regular = True
            fixed = installment[i]
            ydays = year_days(dc)
            den, ratio = interest_denominator(annual_num[i], ydays)
            accrual_start = max(start, free_end)
            length = day_count_days(accrual_start, due, dc)
            elapsed = length - day_count_days(accrual_start, np.int64(accruing_since[i]), dc)
            first_interest = (
                accrued_interest(
                    settled_days[i] + balance * elapsed,
                    annual_num[i],
                    weight[i],
                    length,
                    ydays,
                    den,
                    ratio,
                    mode,
                )
                - settled_interest[i]
            )
            prepaid = prepaid_on[i] != NO_DATE
        out_rows[i] = write_periods(
            offsets[i], count, number, loan_id[i], balance, start, due, cursor, keep_day, regular, method[i], fixed,
            installment_fee(principal[i], fee_num[i], mode), first_interest, prepaid, keeps_fees[i] != 0,
            annual_num[i], mode, basis[i], dc, free_end, surplus[i], prepay_fee_num[i], strategy[i], multiple[i],
            out_loan_id, out_period, out_due_on, out_money,
        )  # fmt: skip
