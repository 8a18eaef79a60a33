"""The internal rate of return of a borrower's cash flows: the true cost of credit (IRR 年化利率).

A borrower receives the disbursement net of upfront fees at time 0 and pays installments at
times 1, 2, … periods (or one payment at time t). With v = 1/(1 + r), the net present value

    f(v) = Σ_k payment_k · v^k − net

is increasing and convex in v > 0 when every payment is >= 0, so its root is unique, and a
Newton step from anywhere in (0, 1] lands at or right of it (f(1) >= 0 because borrowers repay
at least the principal): no bracketing needed. Halley steps (which use f'' too) from a guess at
the rate (`rate_guess`: the contract rate plus the fees spread flat) get there in one or two
evaluations. Zero-rate loans stop at once (f(1) = 0); fee-only loans are ordinary cash flows.
"""

import math

import numpy as np

from ._config import inline_jit, jit
from .amortize import BULLET, DAY, MONTHLY, RATE_SCALE, REDUCE_TERM, growth_minus_one, loan_schedule
from .daycount import year_days
from .rounding import mul_div_round
from .validate import CHECK_BLOCK, checked_block

MAX_ITERATIONS = 100
# Halley's error after a step s is about K·s³, with K below n² for n flows (the derivatives of a
# degree-n polynomial grow like n): stop once n²·s³ says the step just taken left < 1e-12 of v,
# a thousandth of the 1e-9 that the IRR is checked to.
TOLERANCE = 1e-12
MAX_ROWS = 600  # the longest schedule `accrual.schema` accepts (600 months)
DAYS_PER_YEAR = 365  # a day-term loan's per-day IRR is annualised over a calendar year
CAP_TOLERANCE = 1e-9  # a rate within float noise of the cap is at the cap, not over it


@jit
def present_value(payments, count, v):
    """(f, f', f'') of f(v) = Σ payments[k] · v^(k+1), for k < count.

    Powers are carried explicitly rather than by Horner's rule, so one pass gives all three
    sums (the terms are all positive, so the order of summation loses nothing).
    """
    value = 0.0
    slope = 0.0
    curve = 0.0
    power = 1.0  # v^k
    weight = 1.0  # k + 1
    for k in range(count):
        term = payments[k] * power
        value += term
        term *= weight
        slope += term
        curve += (weight - 1.0) * term
        power *= v
        weight += 1.0
    return value * v, slope, curve / v


@jit
def irr_per_period(payments, count, first_time, net, guess=0.0):
    """The rate r per period at which installments `payments[:count]` (fen, the first at
    `first_time` periods, then one a period) repay `net` fen received at time 0.

    Halley steps (cubic convergence) from v = 1 / (1 + guess) reach float precision in one to
    three evaluations; where a Halley step would be unsafe (far from the root) Newton's is
    taken. Any guess >= 0 converges: f is increasing and convex, so a step from left of the
    root lands right of it, and v is kept <= 1 (the rate >= 0, as repaying at least what was
    received implies; v = 1 is where "free money" is recognised).

    >>> import numpy as np
    >>> from accrual.kernels.irr import irr_per_period
    >>> flows = np.full(12, 107_200.0)  # 12,000.00 repaid at 1,072.00 a month
    >>> round(irr_per_period(flows, 12, 1, 1_200_000), 8), round(irr_per_period(flows, 12, 1, 1_200_000, 0.5), 8)
    (0.01086185, 0.01086185)
    """
    if net <= 0:  # an upfront fee that takes everything: the borrower gets nothing for something
        return math.inf
    if count == 1:  # one payment: closed form, (payment / net)^(1/t) − 1
        return math.expm1(math.log1p((payments[0] - net) / net) / first_time)
    v = 1.0 / (1.0 + guess)
    for _ in range(MAX_ITERATIONS):
        value, slope, curve = present_value(payments, count, v)
        if v == 1.0 and value <= net:  # repays no more than it received: free money
            return 0.0
        newton = (value - net) / slope
        damping = 1.0 - 0.5 * newton * curve / slope
        step = newton / damping if damping > 0.5 else newton
        if step >= v:  # never jump to v <= 0 (r = infinity)
            step = 0.5 * v
        v = min(v - step, 1.0)
        size = abs(step)
        if count * count * size * size * size <= TOLERANCE * v:
            break
    return (1.0 - v) / v  # 1 − v is exact near 1, where 1 / v − 1 would cancel


@jit
def rate_guess(annual_num, basis, day_count, fee_num, upfront_num, count):
    """A first guess at the monthly IRR of a loan of `count` monthly installments: the contract
    rate per average month, plus the fees as a flat charge, 2 / (n + 1) of their total a month
    (the balance averages about (n + 1) / 2n of the principal)."""
    annual = annual_num / RATE_SCALE
    monthly = annual / 12 if basis == MONTHLY else annual * (365.0 / 12) / year_days(day_count)
    return monthly + 2.0 * (fee_num * count + upfront_num) / (RATE_SCALE * (count + 1.0))


@jit
def fill_cost(
    lo, hi, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method, day_count, basis,
    multiple, rounding, fee_num, free_days, upfront_num, cap,
    out_daily, out_monthly, out_annual, out_irr, out_effective, out_over_cap,
):  # fmt: skip
    """Each of loans lo:hi's nominal rates (daily, monthly, annual), IRR-annualised rate, its
    compounded form and whether it exceeds `cap` (the caller runs chunks of loans on all cores:
    `accrual.threads`).

    The IRR is per month (per day for day-term loans) × 12 (× 365). Each loan's schedule is
    written by the shared `loan_schedule` into a scratch buffer reused across the chunk, then
    solved; nothing is allocated per loan.
    """
    ids, periods, dues, money, flows = cost_scratch()
    for i in range(lo, hi):
        (out_daily[i], out_monthly[i], out_annual[i], out_irr[i], out_effective[i], out_over_cap[i]) = loan_cost(
            principal[i], annual_num[i], term[i], term_unit[i], disbursed_on[i], first_due_on[i], method[i],
            day_count[i], basis[i], multiple[i], rounding[i], fee_num[i], free_days[i], upfront_num[i], cap,
            ids, periods, dues, money, flows,
        )  # fmt: skip


@jit
def fill_cost_in_place(
    lo, hi, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
    first_due_on, money, rates, given, term, free_days, validity, starts, out_flags, cap,
    out_daily, out_monthly, out_annual, out_irr, out_effective, out_over_cap,
):  # fmt: skip
    """`fill_cost` for loans lo:hi straight from the loans' Arrow buffers (the arguments of
    `check_loans_in_place`), checked a block at a time (`checked_block`); a loan that breaks a
    rule (out_flags[i - lo] not 0) is not costed, and the caller takes the checked path."""
    row_ids, row_periods, row_dues, row_money, row_flows = cost_scratch()
    cast = np.empty((7, CHECK_BLOCK), dtype=np.int64)
    at = np.empty_like(starts)
    for b in range(lo, hi, CHECK_BLOCK):
        e = min(b + CHECK_BLOCK, hi)
        flags = checked_block(
            b, e, lo, id_missing, method, term_unit, day_count, basis, rounding, disbursed_on, disbursed_missing,
            first_due_on, money, rates, given, term, free_days, validity, starts, at, cast, out_flags,
        )  # fmt: skip
        for i in range(b, e):
            j = i - b
            if flags[j] == 0:
                (out_daily[i], out_monthly[i], out_annual[i], out_irr[i], out_effective[i], out_over_cap[i]) = (
                    loan_cost(
                        cast[0, j], cast[1, j], cast[2, j], term_unit[i], disbursed_on[i], first_due_on[i],
                        method[i], day_count[i], basis[i], cast[3, j], rounding[i], cast[4, j], cast[6, j],
                        cast[5, j], cap, row_ids, row_periods, row_dues, row_money, row_flows,
                    )
                )  # fmt: skip


@jit
def cost_scratch():
    """A chunk's buffers for one loan's schedule at a time (ids, periods, due dates, payments) and
    its cash flows."""
    return (
        np.empty(MAX_ROWS, dtype=np.int64),
        np.empty(MAX_ROWS, dtype=np.int32),
        np.empty(MAX_ROWS, dtype=np.int32),
        np.empty((1, MAX_ROWS, 2), dtype=np.int64),  # the payments only
        np.empty(MAX_ROWS, dtype=np.float64),
    )


@inline_jit
def loan_cost(
    principal, annual_num, term, term_unit, disbursed_on, first_due_on, method, day_count, basis, multiple,
    rounding, fee_num, free_days, upfront_num, cap, ids, periods, dues, money, flows,
):  # fmt: skip
    """(daily, monthly and annual rates, IRR-annualised rate, its compounded form, over `cap`?) of
    one loan, its schedule written into the scratch of `cost_scratch`."""
    # ids are not needed: 0 fills the unused id slot
    count = loan_schedule(
        0, 0, principal, annual_num, term, term_unit, disbursed_on, first_due_on, method, day_count, basis,
        multiple, rounding, fee_num, free_days, 0, 0, REDUCE_TERM, False, ids, periods, dues, money,
    )  # fmt: skip
    for k in range(count):
        flows[k] = money[0, k, 0]
    by_day = term_unit == DAY
    first_time = term if by_day or method == BULLET else 1
    net = principal - mul_div_round(principal, upfront_num, 1, RATE_SCALE, rounding)
    guess = rate_guess(annual_num, basis, day_count, fee_num, upfront_num, count)
    rate = irr_per_period(flows, count, first_time, net, guess)
    per_year = DAYS_PER_YEAR if by_day else 12
    annual = annual_num / RATE_SCALE
    return (
        annual / year_days(day_count),
        annual / 12,
        annual,
        rate * per_year,
        growth_minus_one(rate, per_year),  # (1 + r)^periods − 1
        rate * per_year > cap + CAP_TOLERANCE,
    )
