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

Loans are processed in chunks, one `service_chunk` call each, which the caller runs on all cores
(`accrual.threads` says why threads and not a `prange`). A chunk owns its scratch, its slice of
the daily summary, and a region of the variable-length outputs (unpaid installments, postings)
sized by the caller's estimate; it fills them in one pass. Should a region be too small, the
chunk keeps walking without writing there, reports what it needed, and the caller runs that
chunk again with room enough (rare: the estimate is generous, and untouched memory costs
nothing). No two threads write the same slot.
"""

from enum import IntEnum

import numpy as np
from numba import prange

from ._config import jit, parallel_jit
from .allocate import allocate, drop_settled
from .amortize import (
    BULLET,
    RATE_SCALE,
    accrued_interest,
    first_period,
    fixed_amount,
    installment_fee,
    interest_denominator,
    next_due,
    opening_period,
    period_step,
    period_weight,
    prepay_split,
    reamortised,
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
    N_RECORD_MONEY,
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
    WRITE_OFF,
    WRITTEN_OFF,
    bucket,
    owed,
)
from .penalty import penalise


class Term(IntEnum):
    """Per-loan contract and policy: the columns of a loan's staged row. The first WIDE_TERMS
    (amounts and rates, × RATE_SCALE) are the int64 `amounts` columns, then up to CODE_TERMS
    (days and counts) the int32 `terms` columns, then the rows of the int8 `codes` matrix
    (codes as validation made them: no widening copies). PENALTY_NUM is over
    RATE_SCALE · 2 · year_days (see `penalty`); COMPOUND_AFTER is -1 when compounding is off and
    WRITE_OFF_AFTER 0 when write-off is off."""

    PRINCIPAL = 0
    ANNUAL_NUM = 1
    MULTIPLE = 2
    FEE_NUM = 3
    PENALTY_NUM = 4
    LATE_FEE_NUM = 5
    PREPAY_FEE_NUM = 6
    TERM = 7
    DISBURSED_ON = 8
    FIRST_DUE_ON = 9
    FREE_DAYS = 10
    GRACE_DAYS = 11
    COMPOUND_AFTER = 12
    LATE_FEE_AFTER = 13
    NON_ACCRUAL_AFTER = 14
    WRITE_OFF_AFTER = 15
    TERM_UNIT = 16
    METHOD = 17
    DAY_COUNT = 18
    BASIS = 19
    ROUNDING = 20
    ALLOCATION = 21
    PREPAY = 22
    KEEPS_FEES = 23


WIDE_TERMS = 7
CODE_TERMS = 16  # the first int8 member


class State(IntEnum):
    """Each loan's servicing state as read from the book: the first WIDE_STATE (money and the
    period weight) are the int64 `balances` columns, the rest (dates as days, counts, codes)
    the int32 `state` columns. FRESH loans start at disbursement and ignore the rest."""

    PRINCIPAL_OUTSTANDING = 0
    INTEREST_ACCRUED = 1
    CREDIT = 2
    PRINCIPAL_REPAID = 3
    PRINCIPAL_WRITTEN_OFF = 4
    INSTALLMENT = 5
    PERIOD_WEIGHT = 6
    INTEREST_SETTLED = 7
    SETTLED_BALANCE_DAYS = 8
    FRESH = 9
    ACCRUED_THROUGH = 10
    STATUS = 11
    NEXT_DUE_ON = 12
    INSTALLMENTS_LEFT = 13
    PERIOD_START = 14
    ACCRUING_SINCE = 15
    EXTENSION_DUE_1 = 16
    EXTENSION_DAYS_1 = 17
    EXTENSION_DUE_2 = 18
    EXTENSION_DAYS_2 = 19
    PREPAID_ON = 20


WIDE_STATE = 9


BLOCK = 256  # loans whose terms and state are staged together (fits in L2)

# Rows of the kernel's outputs (`dates`, `counts`, `weights`, `money` of `service_chunk`).
DATE_OUT = ("accrued_through", "next_due_on", "period_start", "accruing_since", "prepaid_on")
COUNT_OUT = ("status", "dpd", "bucket", "installments_left")  # int32
WEIGHT_OUT = ("period_weight", "settled_balance_days")  # int64
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
    "interest_settled",
)


# Called, not inlined (as `drop_settled`): typed once instead of at each call site, the cold
# compile of `accrue` is ≈ 1.4 s shorter (16.9 / 16.2 against 15.8 / 14.4 s); a real call passes
# `records` without reference counting, and the kernel's time did not move (same-run A/B).
@jit
def _days_past_due(records, count, today):
    dpd = 0
    for k in range(count):
        if owed(records, k) > 0:
            dpd = max(dpd, today - (records[k, DUE_ON] + records[k, EXTENSION]))
    return dpd


@jit
def record_bound(records, through, left, as_of):
    """At most how many unpaid records a loan can hold by `as_of`: its `records`, plus one per
    due date in the window (monthly periods last at least 28 days, a first one may be shorter),
    plus one for the fees kept at an early payoff."""
    return records + min(left, max(0, as_of - through) // 28 + 2) + 1


@jit
def _stage(block, first_column, columns, base, top):
    """Copy loans base:top of each of `columns` (one array per field: the loan's values, or one
    value for every loan) into columns first_column: of `block`.

    The columns are the arrays validation made, not a matrix copied from them: staging a 1M
    book into a matrix first cost ≈ 50 ms a call, more than the kernel's whole staging. Field
    by field (a dynamic index into the tuple costs a switch, once a field and block), with
    unsigned indices: a signed index read from a range is not provably >= 0, so each access
    carried a wraparound test.
    """
    loans = np.uint64(top - base)
    for f in range(len(columns)):
        column = columns[f]
        at = np.uint64(first_column + f)
        if column.shape[0] == 1:  # the whole call's value (or, in a one-loan book, the loan's own)
            value = column[0]
            for k in range(loans):
                block[k, at] = value
        else:
            b = np.uint64(base)
            for k in range(loans):
                block[k, at] = column[b + k]


@jit
def region_estimates(
    chunks, as_of, fresh, disbursed_on, accrued_through, term, left, record_offsets, pay_offsets, out
):
    """Generous bounds on the unpaid records and postings each chunk of loans can write by
    `as_of`, into out[c] = (records, postings, most records one loan holds) for loans
    chunks[c]:chunks[c + 1]; returns the first day any loan accrues (`as_of` for no loans).
    Untouched rows cost no memory, and a chunk that needs more runs again, so the first two
    only need to be right almost always; the third is exact (`record_bound`), and sizes the
    chunk's scratch.

    The staged columns hold a value per loan or one for every loan, as for `service_chunk`.
    One pass, no per-loan temporaries: as NumPy expressions these bounds took ≈ 20 ms a 1M book.
    """
    # 0 for a column of one value; an inlined helper taking the column instead cost an atomic
    # reference count a call (16 against 6 ms a 1M book); unsigned, so no access tests for a
    # negative index (7 → 3.6 ms)
    one = np.uint64(1)
    f, d, a = (
        np.uint64(min(fresh.shape[0] - 1, 1)),
        np.uint64(min(disbursed_on.shape[0] - 1, 1)),
        np.uint64(min(accrued_through.shape[0] - 1, 1)),
    )
    t, k = np.uint64(min(term.shape[0] - 1, 1)), np.uint64(min(left.shape[0] - 1, 1))
    first = as_of + 1
    for c in range(chunks.shape[0] - 1):
        records = postings = 0
        most = 1
        for i in range(chunks[c], chunks[c + 1]):
            u = np.uint64(i)
            if fresh[u * f]:
                through = np.int64(disbursed_on[u * d]) - 1
                count = np.int64(term[u * t])
            else:
                through = np.int64(accrued_through[u * a])
                count = np.int64(left[u * k])
            held = record_offsets[u + one] - record_offsets[u]
            bound = record_bound(held, through, count, as_of)
            bills = bound - held - 1
            days = max(as_of - through, 0)
            # a posting a kind and day: accrual daily, penalties too while records are held
            postings += (
                days * (4 if held > 0 else 1) + 3 * bills + 5 * (pay_offsets[u + one] - pay_offsets[u]) + 2
            )
            records += bound
            most = max(most, bound)
            first = min(first, through + 1)
        out[c, 0] = records
        out[c, 1] = postings
        out[c, 2] = most
    return first if chunks[-1] > 0 else as_of


@jit
def service_chunk(
    lo, hi, as_of, day0, capacity, wide_terms, narrow_terms, codes, wide_state, narrow_state, records_in,
    record_offsets, pay_offsets, paid_on, pay_amount, pay_prepay,
    loan_ids, out_dates, out_counts, out_weights, out_money, record_counts, out_records, out_record_money,
    record_start, record_end,
    post_loan, post_on, post_kind, post_amount, post_start, post_end, summary,
):  # fmt: skip
    """Service loans lo:hi with one scratch area of `capacity` records (the most any of its loans
    can hold: `region_estimates`); return (records, postings) the chunk needed.

    `wide_terms`, `narrow_terms`, `wide_state` and `narrow_state` are tuples of columns, one per
    `Term` or `State` member (int64 for the first WIDE_TERMS / WIDE_STATE, int32 after): each
    holds a value per loan, or a single value for every loan. `codes` is an int8 matrix, a row
    per `Term` member from CODE_TERMS on, a value per loan.

    Loan i's new state goes to column i of the outputs, its postings (detail, while within the
    region) under `loan_ids[i]`, and the daily totals by kind to `summary` rows from `day0` on.

    The book's unpaid records are the columns of `records_in` (a row per `ledger.RECORD_NAMES`
    field), loan i's from record_offsets[i] to record_offsets[i + 1]. The new ones go to columns
    record_start:record_end of `out_records` (its fields but the money) and `out_record_money`
    (the money fields, Decimal128 words), postings to rows post_start:post_end (a loan's under
    `loan_ids[i]`); each loan's record count to `record_counts[i]`.
    """
    records = np.empty((capacity, RECORD_FIELDS), dtype=np.int64)
    day = np.zeros(N_KINDS, dtype=np.int64)
    record_row = record_start
    post_row = post_start
    # A loan reads ~40 terms and state values: copied block by block into loan-major int64
    # scratch, each loan's values share a few cache lines instead of touching ~40 column streams.
    terms = np.empty((BLOCK, len(wide_terms) + len(narrow_terms) + len(codes)), dtype=np.int64)
    state = np.empty((BLOCK, len(wide_state) + len(narrow_state)), dtype=np.int64)
    for base in range(lo, hi, BLOCK):
        top = min(hi, base + BLOCK)
        _stage(terms, 0, wide_terms, base, top)
        _stage(terms, WIDE_TERMS, narrow_terms, base, top)
        _stage(terms, CODE_TERMS, codes, base, top)
        _stage(state, 0, wide_state, base, top)
        _stage(state, WIDE_STATE, narrow_state, base, top)
        # Walk loans base:top (rows 0: of the block's `terms` and `state`), each from the day after
        # its accrued_through to `as_of`, in this function's own loop: a call per loan (or per
        # block) counts a reference on every array it is handed (see `_config.inline_jit`).
        for i in range(base, top):
            j = i - base
            loan_id = loan_ids[i]
            mode = terms[j, Term.ROUNDING]
            method = terms[j, Term.METHOD]
            dc = terms[j, Term.DAY_COUNT]
            basis = terms[j, Term.BASIS]
            annual = terms[j, Term.ANNUAL_NUM]
            ydays = year_days(dc)
            den, ratio = interest_denominator(annual, ydays)
            penalty_den = RATE_SCALE * 2 * ydays
            disbursed = np.int64(terms[j, Term.DISBURSED_ON])
            free_end = disbursed + terms[j, Term.FREE_DAYS]
            fee = installment_fee(terms[j, Term.PRINCIPAL], terms[j, Term.FEE_NUM], mode)
            count = 0
            if state[j, State.FRESH]:
                periods, first_due, irregular_first, keep_day, _ = first_period(
                    terms[j, Term.TERM], terms[j, Term.TERM_UNIT], disbursed, terms[j, Term.FIRST_DUE_ON]
                )
                through = disbursed - 1
                status = ACTIVE
                outstanding = terms[j, Term.PRINCIPAL]
                accrued = credit = repaid = written_off = settled = settled_days = 0
                prepaid = NO_DATE
                fixed = fixed_amount(method, outstanding, annual, periods, terms[j, Term.MULTIPLE], mode)
                since = period_start = disbursed
                due, weight, left = opening_period(
                    method, disbursed, first_due, irregular_first, keep_day, periods, basis, dc, ydays, free_end
                )  # fmt: skip
            else:
                through = np.int64(state[j, State.ACCRUED_THROUGH])
                status = state[j, State.STATUS]
                outstanding = state[j, State.PRINCIPAL_OUTSTANDING]
                accrued = state[j, State.INTEREST_ACCRUED]
                credit = state[j, State.CREDIT]
                repaid = state[j, State.PRINCIPAL_REPAID]
                written_off = state[j, State.PRINCIPAL_WRITTEN_OFF]
                fixed = state[j, State.INSTALLMENT]
                since = np.int64(state[j, State.ACCRUING_SINCE])
                period_start = np.int64(state[j, State.PERIOD_START])
                due = np.int64(state[j, State.NEXT_DUE_ON])
                weight = state[j, State.PERIOD_WEIGHT]
                left = state[j, State.INSTALLMENTS_LEFT]
                prepaid = np.int64(state[j, State.PREPAID_ON])
                settled = state[j, State.INTEREST_SETTLED]
                settled_days = state[j, State.SETTLED_BALANCE_DAYS]
                for r in range(record_offsets[i], record_offsets[i + 1]):
                    for f in range(RECORD_FIELDS):
                        records[count, f] = records_in[f, r]
                    count += 1
            grace_days = terms[j, Term.GRACE_DAYS]
            contract_num = 2 * annual
            pay = pay_offsets[i]
            pay_end = pay_offsets[i + 1]
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
                    if ends_early and prepaid != NO_DATE and terms[j, Term.KEEPS_FEES]:
                        billed_fee = fee * left  # finishing early after a prepayment keeps the remaining fees
                    extension = 0
                    if state[j, State.EXTENSION_DUE_1] == today:
                        extension = state[j, State.EXTENSION_DAYS_1]
                    elif state[j, State.EXTENSION_DUE_2] == today:
                        extension = state[j, State.EXTENSION_DAYS_2]
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
                    accrued = settled = settled_days = 0
                    left -= 1
                    since = period_start = today
                    # Without a prepayment, installments keep falling due as the schedule has them, even
                    # for their fee alone once the principal is repaid (rounding can repay it early).
                    if left > 0 and (outstanding > 0 or (fee > 0 and prepaid == NO_DATE)):
                        # the day of month due dates keep: worked out on billing days only (its civil
                        # date conversion took 10–20 ns of a one-day loan's ≈ 200)
                        keep_day = first_period(
                            terms[j, Term.TERM], terms[j, Term.TERM_UNIT], disbursed, terms[j, Term.FIRST_DUE_ON]
                        )[3]  # fmt: skip
                        due = next_due(today, keep_day)
                        weight = period_weight(today, due, True, basis, dc, ydays, free_end)
                    else:
                        due, weight, left = NO_DATE, 0, 0
                # 2. payments: earlier credit pays what is due; today's payments pay what is due, then
                # settle the interest accrued so far and prepay principal; the rest is kept as credit.
                if credit > 0 and count > 0:
                    rest = allocate(records, count, credit, terms[j, Term.ALLOCATION], day)
                    day[CREDIT] -= credit - rest
                    credit = rest
                while pay < pay_end and paid_on[pay] <= today:
                    money = pay_amount[pay]
                    strategy = pay_prepay[pay] if pay_prepay[pay] >= 0 else terms[j, Term.PREPAY]
                    pay += 1
                    if status != CLOSED:
                        money = allocate(records, count, money, terms[j, Term.ALLOCATION], day)
                    if status == ACTIVE and outstanding > 0 and money >= accrued and money > 0:
                        day[PAY_INTEREST] += accrued  # interest to the day, settled
                        money -= accrued
                        if due != NO_DATE:  # the segment so far joins the period's settled part
                            start = max(period_start, free_end)
                            settled_days += outstanding * (
                                day_count_days(start, today, dc) - day_count_days(start, since, dc)
                            )
                            settled += accrued
                        accrued = 0
                        principal, prepay_fee = prepay_split(
                            money, outstanding, terms[j, Term.PREPAY_FEE_NUM], mode
                        )
                        money -= principal + prepay_fee
                        outstanding -= principal
                        repaid += principal
                        day[PREPAY_PRINCIPAL] += principal
                        day[PREPAY_FEE] += prepay_fee
                        since = today
                        if principal > 0:
                            prepaid = today
                        if outstanding == 0:
                            # the remaining installments' fees stay due
                            if terms[j, Term.KEEPS_FEES] and left > 0:
                                records[count, :] = 0
                                records[count, DUE_ON] = today
                                records[count, OWED_FEE] = fee * left
                                day[BILL_FEE] += fee * left
                                count += 1
                                money = allocate(records, count, money, terms[j, Term.ALLOCATION], day)
                            due, weight, left = NO_DATE, 0, 0
                        else:
                            fixed = reamortised(
                                method, strategy, fixed, outstanding, annual, left, terms[j, Term.MULTIPLE], mode
                            )  # fmt: skip
                    credit += money
                    day[CREDIT] += money
                repaid += day[PAY_PRINCIPAL]
                if count > 0:
                    count = drop_settled(records, count)
                dpd = _days_past_due(records, count, today)
                suspended = dpd >= terms[j, Term.NON_ACCRUAL_AFTER]  # non-accrual: interest is not income
                # 3. accrue today's contract interest on principal not yet due (算头不算尾)
                if status == ACTIVE and outstanding > 0 and due != NO_DATE:
                    start = max(period_start, free_end)
                    elapsed = day_count_days(start, today + 1, dc) - day_count_days(start, since, dc)
                    length = day_count_days(start, due, dc)
                    total = accrued_interest(
                        settled_days + outstanding * elapsed, annual, weight, length, ydays, den, ratio, mode
                    ) - settled  # fmt: skip
                    day[INTEREST_SUSPENDED if suspended else INTEREST] += total - accrued
                    accrued = total
                # 4–5. age and penalise what is still unpaid at the end of the day
                if status == ACTIVE:
                    for k in range(count):
                        grace, penalty, compound, late_fee = penalise(
                            records, k, today, grace_days, contract_num, terms[j, Term.PENALTY_NUM],
                            terms[j, Term.COMPOUND_AFTER], terms[j, Term.LATE_FEE_NUM], terms[j, Term.LATE_FEE_AFTER],
                            penalty_den, mode,
                        )  # fmt: skip
                        day[INTEREST_SUSPENDED if suspended else INTEREST] += grace
                        day[BILL_INTEREST] += grace  # grace-day interest is due at once
                        day[PENALTY] += penalty
                        day[COMPOUND] += compound
                        day[LATE_FEE] += late_fee
                # 6. write off
                if (
                    status == ACTIVE
                    and terms[j, Term.WRITE_OFF_AFTER] > 0
                    and dpd >= terms[j, Term.WRITE_OFF_AFTER]
                ):
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
                        row = post_row + postings
                        if row < post_end:  # detail postings, within the chunk's region
                            post_loan[row] = loan_id
                            post_on[row] = today
                            post_kind[row] = k
                            post_amount[row, 0] = day[k]
                            post_amount[row, 1] = day[k] >> 63
                        if summary.shape[0] > 0:
                            summary[today - day0, k] += day[k]
                        postings += 1
            # the new state
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
            out_weights[0, i] = weight
            if due == NO_DATE:  # no period accruing: nothing settled in one
                settled = settled_days = 0
            out_weights[1, i] = settled_days
            principal_due = interest_due = fee_due = penalty_due = 0
            room = record_row + count <= record_end
            for k in range(count):
                principal_due += records[k, OWED_PRINCIPAL]
                interest_due += records[k, OWED_INTEREST] + records[k, OWED_GRACE_INTEREST]
                fee_due += records[k, OWED_FEE]
                penalty_due += records[k, OWED_PENALTY]
                if room:  # money as Decimal128 words, the other fields in the rows of `out_records`
                    row = record_row + k
                    for f in range(OWED_PRINCIPAL):
                        out_records[f, row] = records[k, f]
                    for f in range(OWED_PRINCIPAL, OWED_PRINCIPAL + N_RECORD_MONEY):
                        out_record_money[f - OWED_PRINCIPAL, row, 0] = records[k, f]
                        out_record_money[f - OWED_PRINCIPAL, row, 1] = records[k, f] >> 63
                    for f in range(OWED_PRINCIPAL + N_RECORD_MONEY, RECORD_FIELDS):
                        out_records[f - N_RECORD_MONEY, row] = records[k, f]
            # Written in place, not through `put_money(out_money[f], i, ...)`: each row view handed to
            # an inlined helper costs a reference count a loan.
            money = (outstanding, principal_due, accrued, interest_due, fee_due, penalty_due, credit, repaid,
                     written_off, fixed, settled)  # fmt: skip
            for f, fen in enumerate(money):  # MONEY_OUT's order
                out_money[f, i, 0] = fen
                out_money[f, i, 1] = fen >> 63  # the high word of a Decimal128
            record_counts[i] = count
            record_row += count
            post_row += postings
    return record_row - record_start, post_row - post_start


@parallel_jit
def due_date_index(day, position, term, term_unit, method, disbursed_on, first_due_on):
    """For each row: which installment (0-based) of loan `position[row]` falls due on `day[row]`, or -1."""
    out = np.full(day.shape[0], -1, dtype=np.int64)
    for r in prange(day.shape[0]):
        i = position[r]
        periods, due, _, keep_day, _ = first_period(
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
