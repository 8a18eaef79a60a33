"""Allocation of money over a loan's unpaid installments (SPEC.md section 4, step 2).

`OLDEST_FIRST` (default) settles each installment in full before the next, oldest first, and
within it penalty → fee → interest → principal; `BY_KIND` pays every installment's penalty
(oldest first), then every fee, every interest, every principal. Grace-day interest is paid
before the installment's billed interest.
"""

from ._config import jit
from .ledger import (
    BY_KIND,
    OWED_FEE,
    OWED_GRACE_INTEREST,
    OWED_INTEREST,
    OWED_PENALTY,
    OWED_PRINCIPAL,
    PAY_FEE,
    PAY_INTEREST,
    PAY_PENALTY,
    PAY_PRINCIPAL,
    RECORD_FIELDS,
    owed,
)

STEPS = 5  # penalty, fee, grace interest, interest, principal


@jit
def _step(step):
    """(record field, posting kind) of allocation step `step`."""
    if step == 0:
        return OWED_PENALTY, PAY_PENALTY
    if step == 1:
        return OWED_FEE, PAY_FEE
    if step == 2:
        return OWED_GRACE_INTEREST, PAY_INTEREST
    if step == 3:
        return OWED_INTEREST, PAY_INTEREST
    return OWED_PRINCIPAL, PAY_PRINCIPAL


@jit
def _take(records, k, step, money, day):
    field, kind = _step(step)
    paid = min(money, records[k, field])
    records[k, field] -= paid
    day[kind] += paid
    return money - paid


@jit
def allocate(records, count, money, allocation, day):
    """Pay `money` fen over records[:count]; add what each kind received to `day`; return the rest.

    >>> import numpy as np
    >>> from accrual.kernels.ledger import RECORD_FIELDS, OWED_PRINCIPAL, OWED_INTEREST, N_KINDS, OLDEST_FIRST
    >>> records = np.zeros((2, RECORD_FIELDS), dtype=np.int64)
    >>> records[:, OWED_PRINCIPAL], records[:, OWED_INTEREST] = 1000, 50
    >>> day = np.zeros(N_KINDS, dtype=np.int64)
    >>> allocate(records, 2, 1100, OLDEST_FIRST, day), records[:, OWED_PRINCIPAL].tolist()
    (0, [0, 1000])
    """
    if allocation == BY_KIND:
        for step in range(STEPS):
            for k in range(count):
                if money == 0:
                    return 0
                money = _take(records, k, step, money, day)
    else:
        for k in range(count):
            for step in range(STEPS):
                if money == 0:
                    return 0
                money = _take(records, k, step, money, day)
    return money


@jit
def drop_settled(records, count):
    """Remove records with nothing left to pay, keeping the others' order; return the new count."""
    kept = 0
    for k in range(count):
        if owed(records, k) > 0:
            if kept != k:
                for f in range(RECORD_FIELDS):
                    records[kept, f] = records[k, f]
            kept += 1
    return kept
