"""The end-of-day servicing kernel: every loan walked through every day up to `as_of`.

For each loan and each day t after its `accrued_through` (SPEC.md section 4): bill the
installment due on t (the shared `period_step`, so on-time billing equals `schedule`), apply the
day's payments (allocation, then interest to the day and prepayment), accrue contract interest,
age, charge penalties, write off, and post the day's movements, one row per non-zero kind.

Contract interest is the period's interest (`period_interest`: from the last due date or
disbursement to the next due date) spread evenly over its day-count days. It uses cumulative
rounding within an accrual *segment*, which starts with the period and again at each settlement
of accrued interest (a prepayment): through day t the segment's interest is its balance's share
of the period's interest for the segment's days so far, rounded once. So a period's daily
postings add up exactly to the interest billed for it, and a prepayment on any day saves
exactly the interest of the days it covers.

Variable-length outputs (unpaid installments, postings) are counted first and filled second:
`service_book` runs the same per-loan walk twice, once with `write=False` to size them.
Loans are processed in chunks (one `prange` iteration each) so that each chunk owns its scratch
records and its slice of the daily summary; no two threads write the same slot.
"""

from collections import namedtuple

import numpy as np
from numba import prange

from ._config import jit, parallel_jit
from .allocate import allocate, drop_settled
from .amortize import (
    BULLET,
    EQUAL_INSTALLMENT,
    EQUAL_PRINCIPAL,
    RATE_SCALE,
    first_period,
    fixed_amount,
    installment_fee,
    interest_denominator,
    next_due,
    period_step,
    period_weight,
    term_weight,
)
from .dates import NO_DATE
from .daycount import day_count_days, year_days
from .ledger import (
    ACTIVE,
    BILL_FEE,
    BILL_INTEREST,
    BILL_PRINCIPAL,
    CLOSED,
    COMPOUND,
    CREDIT,
    DUE_ON,
    EXTENSION,
    INTEREST,
    INTEREST_SUSPENDED,
    LATE_FEE,
    N_KINDS,
    OWED_FEE,
    OWED_GRACE_INTEREST,
    OWED_INTEREST,
    OWED_PENALTY,
    OWED_PRINCIPAL,
    PAY_INTEREST,
    PAY_PRINCIPAL,
    PENALTY,
    PREPAY_FEE,
    PREPAY_PRINCIPAL,
    RECORD_FIELDS,
    REDUCE_INSTALLMENT,
    WRITE_OFF,
    WRITTEN_OFF,
    bucket,
    owed,
)
from .penalty import penalise
from .rounding import mul_div_round, mul_div_round_ratio

# Per-loan contract and policy, one array each (int64 unless noted). Rates are × RATE_SCALE;
# `penalty_num` is over RATE_SCALE · 2 · year_days (see `penalty`); `compound_after` is -1 when
# compounding is off and `write_off_after` 0 when write-off is off.
Terms = namedtuple(
    "Terms",
    "principal annual_num term term_unit disbursed_on first_due_on method day_count basis multiple "
    "rounding fee_num free_days penalty_num grace_days compound_after late_fee_num late_fee_after "
    "non_accrual_after write_off_after allocation prepay prepay_fee_num keeps_fees",
)
# Servicing state of each loan as read from the book; `fresh` loans start at disbursement and
# ignore the rest. Dates are int32 days, money int64 fen.
State = namedtuple(
    "State",
    "fresh accrued_through status principal_outstanding interest_accrued credit principal_repaid "
    "principal_written_off next_due_on installments_left installment period_start accruing_since period_weight "
    "extension_due_1 extension_days_1 extension_due_2 extension_days_2 prepaid_on",
)
# A loan's payments are rows offsets[i]:offsets[i + 1], sorted by day; prepay -1 = the loan's.
Payments = namedtuple("Payments", "offsets paid_on amount prepay")

# Rows of the kernel's outputs (`dates`, `counts`, `money` of `service_book`).
DATE_OUT = ("accrued_through", "next_due_on", "period_start", "accruing_since", "prepaid_on")
COUNT_OUT = ("status", "dpd", "bucket", "installments_left", "period_weight")
MONEY_OUT = (
    "principal_outstanding",
    "principal_due",
    "interest_accrued",
    "interest_due",
    "fee_due",
    "penalty_due",
    "credit",
    "principal_repaid",
    "principal_written_off",
    "installment",
)


@jit
def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


@jit
def accrued_interest(balance, annual_num, weight, elapsed, length, days_per_year, den, ratio, mode):
    """Contract interest on `balance` for `elapsed` of a period's `length` day-count days, rounded once.

    The period's whole interest is balance × annual × weight / den (as in `period_interest`); for
    `elapsed` days it is that times elapsed / length. By the day (weight = 12 · length) this is
    simply balance × daily rate × elapsed.
    """
    if elapsed <= 0 or length <= 0 or balance == 0:
        return 0
    if weight == 12 * length:
        return mul_div_round_ratio(balance, annual_num, 12 * elapsed, den, ratio, mode)
    if elapsed >= length:
        return mul_div_round_ratio(balance, annual_num, weight, den, ratio, mode)
    # reduce annual · weight / (RATE_SCALE · 12 · year_days · length) so its denominator fits int64
    g = _gcd(weight, length)
    w, n = weight // g, length // g
    h = _gcd(w, 12 * days_per_year)
    a = _gcd(annual_num, RATE_SCALE)
    return mul_div_round(
        balance, annual_num // a, (w // h) * elapsed, (RATE_SCALE // a) * (12 * days_per_year // h) * n, mode
    )


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
def _days_past_due(records, count, today):
    dpd = 0
    for k in range(count):
        if owed(records, k) > 0:
            dpd = max(dpd, today - (records[k, DUE_ON] + records[k, EXTENSION]))
    return dpd


@jit
def _put(out, j, i, fen):
    """Write int64 fen into Decimal128 slot i of money column j (two little-endian int64 words)."""
    out[j, i, 0] = fen
    out[j, i, 1] = fen >> 63


@jit
def service_loan(
    i, as_of, day0, T, S, records_in, record_offsets, P, records, day, write,
    out_dates, out_counts, out_money, out_records, out_record_offsets,
    post_loan, post_on, post_kind, post_amount, post_row, summary,
):  # fmt: skip
    """Walk loan i from the day after its accrued_through to `as_of`.

    `records` is the chunk's scratch; `day` holds the day's totals by kind. With `write` the new
    state, records and postings are written (postings from row `post_row`, summary rows per day
    from `day0`); without, nothing is. Returns (unpaid records at the end, postings).
    """
    mode = T.rounding[i]
    method = T.method[i]
    dc = T.day_count[i]
    basis = T.basis[i]
    annual = T.annual_num[i]
    ydays = year_days(dc)
    den, ratio = interest_denominator(annual, ydays)
    penalty_den = RATE_SCALE * 2 * ydays
    disbursed = np.int64(T.disbursed_on[i])
    free_end = disbursed + T.free_days[i]
    fee = installment_fee(T.principal[i], T.fee_num[i], mode)
    periods, first_due, irregular_first, keep_day = first_period(
        T.term[i], T.term_unit[i], disbursed, T.first_due_on[i]
    )
    count = 0
    if S.fresh[i]:
        through = disbursed - 1
        status = ACTIVE
        outstanding = T.principal[i]
        accrued = credit = repaid = written_off = 0
        prepaid = NO_DATE
        fixed = fixed_amount(method, outstanding, annual, periods, T.multiple[i], mode)
        since = period_start = disbursed
        if method == BULLET:
            due, weight = term_weight(
                disbursed, first_due, irregular_first, keep_day, periods, basis, dc, ydays, free_end
            )
            left = 1
        else:
            due = first_due
            weight = period_weight(disbursed, first_due, not irregular_first, basis, dc, ydays, free_end)
            left = periods
    else:
        through = np.int64(S.accrued_through[i])
        status = S.status[i]
        outstanding = S.principal_outstanding[i]
        accrued = S.interest_accrued[i]
        credit = S.credit[i]
        repaid = S.principal_repaid[i]
        written_off = S.principal_written_off[i]
        fixed = S.installment[i]
        since = np.int64(S.accruing_since[i])
        period_start = np.int64(S.period_start[i])
        due = np.int64(S.next_due_on[i])
        weight = S.period_weight[i]
        left = S.installments_left[i]
        prepaid = np.int64(S.prepaid_on[i])
        for r in range(record_offsets[i], record_offsets[i + 1]):
            for f in range(RECORD_FIELDS):
                records[count, f] = records_in[r, f]
            count += 1
    grace_days = T.grace_days[i]
    contract_num = 2 * annual
    pay = P.offsets[i]
    pay_end = P.offsets[i + 1]
    postings = 0
    today = through
    for today in range(through + 1, as_of + 1):
        for k in range(N_KINDS):
            day[k] = 0
        # 1. bill the installment due today
        if status == ACTIVE and today == due:
            # the interest accrued for the period: period_interest's, by construction, unless a
            # prepayment settled part of it early
            principal, interest, _ = period_step(method, outstanding, accrued, fixed, fee, left == 1)
            billed_fee = fee
            ends_early = principal == outstanding and left > 1
            if ends_early and prepaid != NO_DATE and T.keeps_fees[i]:
                billed_fee = fee * left  # finishing early after a prepayment keeps the remaining fees
            extension = 0
            if S.extension_due_1[i] == today:
                extension = S.extension_days_1[i]
            elif S.extension_due_2[i] == today:
                extension = S.extension_days_2[i]
            records[count, :] = 0
            records[count, DUE_ON] = today
            records[count, EXTENSION] = extension
            records[count, OWED_PRINCIPAL] = principal
            records[count, OWED_INTEREST] = interest
            records[count, OWED_FEE] = billed_fee
            count += 1
            day[BILL_PRINCIPAL] += principal
            day[BILL_INTEREST] += interest
            day[BILL_FEE] += billed_fee
            outstanding -= principal
            accrued = 0
            left -= 1
            since = period_start = today
            # Without a prepayment, installments keep falling due as the schedule has them, even
            # for their fee alone once the principal is repaid (rounding can repay it early).
            if left > 0 and (outstanding > 0 or (fee > 0 and prepaid == NO_DATE)):
                due = next_due(today, keep_day)
                weight = period_weight(today, due, True, basis, dc, ydays, free_end)
            else:
                due, weight, left = NO_DATE, 0, 0
        # 2. payments: earlier credit pays what is due; today's payments pay what is due, then
        # settle the interest accrued so far and prepay principal; the rest is kept as credit.
        if credit > 0 and count > 0:
            rest = allocate(records, count, credit, T.allocation[i], day)
            day[CREDIT] -= credit - rest
            credit = rest
        while pay < pay_end and P.paid_on[pay] <= today:
            money = P.amount[pay]
            strategy = P.prepay[pay] if P.prepay[pay] >= 0 else T.prepay[i]
            pay += 1
            if status != CLOSED:
                money = allocate(records, count, money, T.allocation[i], day)
            if status == ACTIVE and outstanding > 0 and money >= accrued and money > 0:
                day[PAY_INTEREST] += accrued  # interest to the day, settled
                money -= accrued
                accrued = 0
                principal, prepay_fee = prepay_split(money, outstanding, T.prepay_fee_num[i], mode)
                money -= principal + prepay_fee
                outstanding -= principal
                repaid += principal
                day[PREPAY_PRINCIPAL] += principal
                day[PREPAY_FEE] += prepay_fee
                since = today
                prepaid = today
                if outstanding == 0:
                    if T.keeps_fees[i] and left > 0:  # the remaining installments' fees stay due
                        records[count, :] = 0
                        records[count, DUE_ON] = today
                        records[count, OWED_FEE] = fee * left
                        day[BILL_FEE] += fee * left
                        count += 1
                        money = allocate(records, count, money, T.allocation[i], day)
                    due, weight, left = NO_DATE, 0, 0
                else:
                    if strategy == REDUCE_INSTALLMENT and (method in (EQUAL_INSTALLMENT, EQUAL_PRINCIPAL)):
                        fixed = fixed_amount(method, outstanding, annual, left, T.multiple[i], mode)
            credit += money
            day[CREDIT] += money
        repaid += day[PAY_PRINCIPAL]
        count = drop_settled(records, count)
        dpd = _days_past_due(records, count, today)
        # 3. accrue today's contract interest on principal not yet due (算头不算尾)
        if status == ACTIVE and outstanding > 0 and due != NO_DATE:
            start = max(period_start, free_end)
            elapsed = day_count_days(start, today + 1, dc) - day_count_days(start, since, dc)
            total = accrued_interest(
                outstanding, annual, weight, elapsed, day_count_days(start, due, dc), ydays, den, ratio, mode
            )
            day[INTEREST_SUSPENDED if dpd >= T.non_accrual_after[i] else INTEREST] += total - accrued
            accrued = total
        # 4–5. age and penalise what is still unpaid at the end of the day
        if status == ACTIVE:
            suspended = dpd >= T.non_accrual_after[i]
            for k in range(count):
                grace, penalty, compound, late_fee = penalise(
                    records, k, today, grace_days, contract_num, T.penalty_num[i], T.compound_after[i],
                    T.late_fee_num[i], T.late_fee_after[i], penalty_den, mode,
                )  # fmt: skip
                day[INTEREST_SUSPENDED if suspended else INTEREST] += grace
                day[BILL_INTEREST] += grace  # grace-day interest is due at once
                day[PENALTY] += penalty
                day[COMPOUND] += compound
                day[LATE_FEE] += late_fee
        # 6. write off
        if status == ACTIVE and T.write_off_after[i] > 0 and dpd >= T.write_off_after[i]:
            amount = outstanding
            for k in range(count):
                amount += records[k, OWED_PRINCIPAL]
                records[k, OWED_PRINCIPAL] = 0
            outstanding = 0
            written_off += amount
            day[WRITE_OFF] += amount
            status = WRITTEN_OFF
            due, weight, left = NO_DATE, 0, 0
            count = drop_settled(records, count)
        if status == ACTIVE and outstanding == 0 and count == 0 and due == NO_DATE:
            status = CLOSED
        # 7. post
        for k in range(N_KINDS):
            if day[k] != 0:
                if write and post_loan.shape[0] > 0:  # detail
                    row = post_row + postings
                    post_loan[row] = i
                    post_on[row] = today
                    post_kind[row] = k
                    post_amount[row, 0] = day[k]
                    post_amount[row, 1] = day[k] >> 63
                if write and summary.shape[0] > 0:
                    summary[today - day0, k] += day[k]
                postings += 1
    if write:
        dpd = max(0, _days_past_due(records, count, today))
        out_dates[0, i] = max(today, through)
        out_dates[1, i] = due
        out_dates[2, i] = period_start
        out_dates[3, i] = since
        out_dates[4, i] = prepaid
        out_counts[0, i] = status
        out_counts[1, i] = dpd
        out_counts[2, i] = bucket(dpd)
        out_counts[3, i] = left
        out_counts[4, i] = weight
        principal_due = interest_due = fee_due = penalty_due = 0
        first = out_record_offsets[i]
        for k in range(count):
            principal_due += records[k, OWED_PRINCIPAL]
            interest_due += records[k, OWED_INTEREST] + records[k, OWED_GRACE_INTEREST]
            fee_due += records[k, OWED_FEE]
            penalty_due += records[k, OWED_PENALTY]
            for f in range(RECORD_FIELDS):
                out_records[f, first + k] = records[k, f]
        _put(out_money, 0, i, outstanding)
        _put(out_money, 1, i, principal_due)
        _put(out_money, 2, i, accrued)
        _put(out_money, 3, i, interest_due)
        _put(out_money, 4, i, fee_due)
        _put(out_money, 5, i, penalty_due)
        _put(out_money, 6, i, credit)
        _put(out_money, 7, i, repaid)
        _put(out_money, 8, i, written_off)
        _put(out_money, 9, i, fixed)
    return count, postings


@jit
def record_bound(i, as_of, T, S, record_offsets):
    """At most how many unpaid records loan i can hold by `as_of`: its own, plus one per due date
    in the window (monthly periods last at least 28 days, a first one may be shorter), plus one
    for the fees kept at an early payoff."""
    if S.fresh[i]:
        through = np.int64(T.disbursed_on[i]) - 1
        left = T.term[i]
    else:
        through = np.int64(S.accrued_through[i])
        left = S.installments_left[i]
    bills = min(left, max(0, as_of - through) // 28 + 2)
    return record_offsets[i + 1] - record_offsets[i] + bills + 1


@parallel_jit
def service_book(
    as_of, day0, chunks, T, S, records_in, record_offsets, P, write, record_counts, posting_counts,
    out_dates, out_counts, out_money, out_records, out_record_offsets, posting_offsets,
    post_loan, post_on, post_kind, post_amount, summary,
):  # fmt: skip
    """Service every loan up to `as_of`, chunk by chunk in parallel.

    Without `write`: count each loan's unpaid records and postings into `record_counts` and
    `posting_counts`. With `write`: fill the outputs at the offsets made from those counts, and
    (when `summary` has days) each chunk's daily totals by kind into `summary[chunk]`.
    """
    for c in prange(chunks.shape[0] - 1):
        lo, hi = chunks[c], chunks[c + 1]
        capacity = 1
        for i in range(lo, hi):
            capacity = max(capacity, record_bound(i, as_of, T, S, record_offsets))
        records = np.empty((capacity, RECORD_FIELDS), dtype=np.int64)
        day = np.zeros(N_KINDS, dtype=np.int64)
        for i in range(lo, hi):
            count, postings = service_loan(
                i, as_of, day0, T, S, records_in, record_offsets, P, records, day, write,
                out_dates, out_counts, out_money, out_records, out_record_offsets,
                post_loan, post_on, post_kind, post_amount, posting_offsets[i], summary[c],
            )  # fmt: skip
            if not write:
                record_counts[i] = count
                posting_counts[i] = postings


@parallel_jit
def due_date_index(day, position, term, term_unit, method, disbursed_on, first_due_on):
    """For each row: which installment (0-based) of loan `position[row]` falls due on `day[row]`, or -1."""
    out = np.full(day.shape[0], -1, dtype=np.int64)
    for r in prange(day.shape[0]):
        i = position[r]
        periods, due, _, keep_day = first_period(
            term[i], term_unit[i], np.int64(disbursed_on[i]), first_due_on[i]
        )
        for k in range(periods):
            if k > 0:
                due = next_due(due, keep_day)
            if due >= day[r]:
                if due == day[r] and (method[i] != BULLET or k == periods - 1):
                    out[r] = k
                break
    return out
