"""Prepayment: how money beyond what is due splits into principal and fee, smart-prepay
recommendations from idle wallet balances, and projections that sweep a monthly surplus into
prepayment. Everything goes through the shared period step (`write_periods`), so what is
projected here is what the EOD engine bills.
"""

import numpy as np

from ._config import jit
from .amortize import (
    BULLET,
    REDUCE_INSTALLMENT,
    REDUCE_TERM,
    accrued_interest,
    first_period,
    fixed_amount,
    installment_fee,
    interest_denominator,
    opening_period,
    period_weight,
    prepay_split,
    reamortised,
    write_periods,
)
from .dates import NO_DATE, cursor_after
from .daycount import day_count_days, year_days

MAX_ROWS = 600  # the longest schedule `accrual.schema` accepts


@jit
def fill_smart_prepay(
    lo, hi, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method, day_count, basis,
    multiple, rounding, fee_num, free_days, prepay_fee_num, keeps_fees, fresh, outstanding, installment,
    next_due_on, installments_left, period_start, accruing_since, weight, prepaid_on, settled_days,
    settled_interest, eligible, wallet,
    as_of, buffer, min_amount, cover, out_amount, out_strategy, out_saved, out_fee, out_payment,
):  # fmt: skip
    """A partial prepayment on `as_of` for each of loans lo:hi with a wallet, or `out_amount[i] = 0`
    (the caller runs chunks of loans on all cores: `accrual.threads`).

    The payment settles the interest accrued so far (to the day) and prepays the most principal
    that `wallet − buffer` affords with its fee. Interest saved is the remaining schedule's
    interest without it less that with it (both from `write_periods`), so EOD realises exactly
    this saving. reduce_term is picked while what the wallet keeps covers the next `cover`
    installments, else reduce_installment. Only `eligible` loans (active, nothing due) whose next
    installment falls due after `as_of` get one; a fresh loan counts as paid on schedule before it.
    """
    ids = np.empty(MAX_ROWS, dtype=np.int64)  # one loan's schedule at a time
    numbers = np.empty(MAX_ROWS, dtype=np.int32)
    dues = np.empty(MAX_ROWS, dtype=np.int32)
    money = np.empty((5, MAX_ROWS, 2), dtype=np.int64)
    for i in range(lo, hi):
        out_amount[i] = 0
        out_strategy[i] = REDUCE_TERM
        out_saved[i] = out_fee[i] = out_payment[i] = 0
        if not eligible[i] or wallet[i] <= buffer:
            continue
        mode = rounding[i]
        dc = day_count[i]
        ydays = year_days(dc)
        disbursed = np.int64(disbursed_on[i])
        free_end = disbursed + free_days[i]
        periods, first_due, irregular_first, keep_day, first_cursor = first_period(
            term[i], term_unit[i], disbursed, first_due_on[i]
        )
        if fresh[i]:
            balance = principal[i]
            fixed = fixed_amount(method[i], balance, annual_num[i], periods, multiple[i], mode)
            due, length_weight, left = opening_period(
                method[i], disbursed, first_due, irregular_first, keep_day, periods, basis[i], dc, ydays, free_end
            )  # fmt: skip
            start = since = disbursed
            prepaid = False
            days_before = paid_before = 0  # the period's earlier segments: none
            if as_of > due and method[i] != BULLET:
                # a loans table not yet serviced: installments due before as_of count as paid on
                # schedule, and the state is the one EOD leaves after paying them on time
                rows = write_periods(
                    0, left, 1, 0, balance, start, due, first_cursor, keep_day, not irregular_first, method[i], fixed,
                    installment_fee(principal[i], fee_num[i], mode), -1, False, False, annual_num[i], mode,
                    basis[i], dc, free_end, 0, 0, REDUCE_TERM, multiple[i], ids, numbers, dues, money,
                )  # fmt: skip
                k = 0
                while k < rows and dues[k] < as_of:
                    k += 1
                if k == rows:
                    continue  # repaid on schedule before as_of
                balance = money[4, k - 1, 0]
                start = since = np.int64(dues[k - 1])
                due = np.int64(dues[k])
                left = rows - k
                length_weight = period_weight(start, due, True, basis[i], dc, ydays, free_end)
        else:
            balance = outstanding[i]
            fixed = installment[i]
            due = np.int64(next_due_on[i])
            length_weight = weight[i]
            left = installments_left[i]
            start = np.int64(period_start[i])
            since = np.int64(accruing_since[i])
            prepaid = prepaid_on[i] != NO_DATE
            days_before = settled_days[i]
            paid_before = settled_interest[i]
        if balance == 0 or due == NO_DATE or left == 0 or as_of >= due:
            continue
        cursor = cursor_after(due)
        fee = installment_fee(principal[i], fee_num[i], mode)
        den, ratio = interest_denominator(annual_num[i], ydays)
        accrual_start = max(start, free_end)
        length = day_count_days(accrual_start, due, dc)
        before = day_count_days(accrual_start, since, dc)
        today = day_count_days(accrual_start, as_of, dc)
        so_far = days_before + balance * (today - before)  # the period's balance-days to today
        settled = accrued_interest(so_far, annual_num[i], length_weight, length, ydays, den, ratio, mode)
        settled -= paid_before
        x, prepay_fee = prepay_split(wallet[i] - buffer - settled, balance, prepay_fee_num[i], mode)
        if x < max(min_amount, 1):
            continue
        # The remaining schedule's interest without the prepayment (pass 0), then with it under
        # reduce_term (pass 1) and, if keeping the installment would strain the wallet, under
        # reduce_installment (pass 2): interest settled today, then the new balance from today on.
        # One call site for the shared step keeps the compiled kernel small.
        rest = balance - x
        payment = settled + x + prepay_fee
        strategy = REDUCE_TERM
        without = with_prepay = 0
        for attempt in range(3):
            if attempt == 0:
                owed, plan_fixed, plan_prepaid = balance, fixed, prepaid
                balance_days, paid = days_before + balance * (length - before), paid_before
            else:
                owed, plan_prepaid = rest, True
                balance_days, paid = so_far + rest * (length - today), paid_before + settled
                plan_fixed = reamortised(
                    method[i], strategy, fixed, rest, annual_num[i], left, multiple[i], mode
                )
            rows = 0
            if owed > 0:
                first = (
                    accrued_interest(
                        balance_days, annual_num[i], length_weight, length, ydays, den, ratio, mode
                    )
                    - paid
                )
                rows = write_periods(
                    0, left, 1, 0, owed, start, due, cursor, keep_day, True, method[i], plan_fixed, fee, first,
                    plan_prepaid, keeps_fees[i] != 0, annual_num[i], mode, basis[i], dc, free_end, 0, 0,
                    REDUCE_TERM, multiple[i], ids, numbers, dues, money,
                )  # fmt: skip
            interest_ahead = 0
            for k in range(rows):
                interest_ahead += money[2, k, 0]
            if attempt == 0:
                without = interest_ahead
                continue
            with_prepay = settled + interest_ahead
            upcoming = 0
            for k in range(min(cover, rows)):
                upcoming += money[0, k, 0]
            if attempt == 1 and wallet[i] - payment < upcoming:
                strategy = REDUCE_INSTALLMENT  # keeping the installment would strain the wallet
                continue
            break
        saved = without - with_prepay
        if saved - prepay_fee <= 0:
            continue
        out_amount[i] = x
        out_strategy[i] = strategy
        out_saved[i] = saved
        out_fee[i] = prepay_fee
        out_payment[i] = payment
