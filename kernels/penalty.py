"""Charges on unpaid installments at the end of each day: grace-day interest, penalty interest
(罚息), compound interest (复利) and the one-off late fee (违约金). SPEC.md section 4, step 5.

Every daily charge uses cumulative rounding: a record keeps the exact *base* of each charge
(fen-days of the amount it accrues on), so what has been charged through day t is
round(base × rate / den), and the day's posting is that minus the same through t − 1. Ten days
of 0.375 penalty post 3.75, not 3.80.

Rates are integers over the loan's `den = RATE_SCALE · 2 · year_days`: the contract daily rate is
`2 · annual_num`, the default penalty (1.5 × contract) is `3 · annual_num`.
"""

from ._config import jit
from .amortize import RATE_SCALE
from .ledger import (
    COMPOUND_BASE,
    DUE_ON,
    EXTENSION,
    GRACE_BASE,
    LATE_FEE_CHARGED,
    OWED_FEE,
    OWED_GRACE_INTEREST,
    OWED_INTEREST,
    OWED_PENALTY,
    OWED_PRINCIPAL,
    PENALTY_BASE,
)
from .rounding import mul_div_round


@jit
def charge(records, k, base_field, amount, rate_num, den, mode):
    """Add one day of `amount` to a record's base; return the day's charge (cumulative rounding)."""
    before = mul_div_round(records[k, base_field], rate_num, 1, den, mode)
    records[k, base_field] += amount
    return mul_div_round(records[k, base_field], rate_num, 1, den, mode) - before


@jit
def penalise(
    records,
    k,
    today,
    grace_days,
    contract_num,
    penalty_num,
    compound_after,
    late_fee_num,
    late_fee_after,
    den,
    mode,
):
    """End-of-day charges on record k: (grace interest, penalty, compound, late fee), all added to it.

    Its overdue days count from its due date plus any extension; the due date itself is day 0.
    Extension days and the first `grace_days` overdue days bear the contract rate on principal
    (grace interest, due at once); later days bear the penalty rate instead. Unpaid interest
    bears compound interest at the penalty rate from overdue day `compound_after` (-1: never).
    The late fee is `late_fee_num / RATE_SCALE` of the installment's unpaid principal, interest
    and fee, charged once at the end of overdue day `late_fee_after - 1`.

    >>> import numpy as np
    >>> from accrual.kernels.ledger import RECORD_FIELDS, OWED_PRINCIPAL, OWED_INTEREST
    >>> from accrual.kernels.amortize import RATE_SCALE
    >>> records = np.zeros((1, RECORD_FIELDS), dtype=np.int64)
    >>> records[0, OWED_PRINCIPAL], records[0, OWED_INTEREST] = 50_000, 3_875  # 500.00 + 38.75 due day 0
    >>> annual = 18 * RATE_SCALE // 100  # 0.05%/day on ACT/360
    >>> days = [penalise(records, 0, t, 0, 2 * annual, 3 * annual, 0, 0, 1, 2 * RATE_SCALE * 360, 0) for t in range(10)]
    >>> sum(d[1] for d in days), sum(d[2] for d in days)  # the SPEC.md worked case: 3.75 + 0.29
    (375, 29)
    """
    overdue = today - (records[k, DUE_ON] + records[k, EXTENSION])
    grace = penalty = compound = late_fee = 0
    if compound_after >= 0 and overdue >= compound_after:
        unpaid_interest = records[k, OWED_INTEREST] + records[k, OWED_GRACE_INTEREST]
        if unpaid_interest > 0:
            compound = charge(records, k, COMPOUND_BASE, unpaid_interest, penalty_num, den, mode)
    principal = records[k, OWED_PRINCIPAL]
    if principal > 0:
        if overdue < grace_days:  # extension days (overdue < 0) and grace days: contract rate
            grace = charge(records, k, GRACE_BASE, principal, contract_num, den, mode)
        else:
            penalty = charge(records, k, PENALTY_BASE, principal, penalty_num, den, mode)
    if late_fee_num > 0 and records[k, LATE_FEE_CHARGED] == 0 and overdue >= late_fee_after - 1:
        records[k, LATE_FEE_CHARGED] = 1
        billed = records[k, OWED_PRINCIPAL] + records[k, OWED_INTEREST] + records[k, OWED_FEE]
        late_fee = mul_div_round(billed, late_fee_num, 1, RATE_SCALE, mode)
    records[k, OWED_GRACE_INTEREST] += grace
    records[k, OWED_PENALTY] += penalty + compound + late_fee
    return grace, penalty, compound, late_fee
