"""The servicing vocabulary shared by the kernels and the API: posting kinds, loan status,
delinquency buckets, and the layout of an unpaid-installment record.

A loan's unpaid installments live in its book row as a list of records, oldest first. In the
kernels a record is one row of an int64 matrix, its fields indexed by the constants below.
Penalty-type charges are kept as *bases* (fen-days of the amount they accrue on), so the amount
accrued through any day is one exact product, rounded once (cumulative rounding).
"""

from ._config import inline_jit, jit

# Posting kinds, in the order a day's postings are written (SPEC.md section 4, step 7).
KINDS = (
    "interest",
    "interest_suspended",
    "penalty",
    "compound",
    "late_fee",
    "bill_principal",
    "bill_interest",
    "bill_fee",
    "pay_penalty",
    "pay_fee",
    "pay_interest",
    "pay_principal",
    "prepay_principal",
    "prepay_fee",
    "credit",
    "write_off",
)
INTEREST = 0  # contract interest earned (income)
INTEREST_SUSPENDED = 1  # contract interest of a non-accrual loan (not income)
PENALTY = 2  # 罚息 on overdue principal
COMPOUND = 3  # 复利 on overdue interest
LATE_FEE = 4  # 违约金
BILL_PRINCIPAL = 5
BILL_INTEREST = 6
BILL_FEE = 7
PAY_PENALTY = 8  # penalty, compound and late fees paid
PAY_FEE = 9
PAY_INTEREST = 10
PAY_PRINCIPAL = 11
PREPAY_PRINCIPAL = 12
PREPAY_FEE = 13
CREDIT = 14  # signed: money kept for the borrower (+) or used from it (−)
WRITE_OFF = 15
N_KINDS = 16

STATUSES = ("active", "closed", "written_off")
ACTIVE = 0
CLOSED = 1
WRITTEN_OFF = 2

BUCKETS = ("M0", "M1", "M2", "M3", "M3+")

# Allocation of a payment over unpaid installments (`Allocation` in the API).
OLDEST_FIRST = 0  # each installment in full (penalty → fee → interest → principal), oldest first
BY_KIND = 1  # all penalties first (oldest first), then all fees, all interest, all principal

# Fields of an unpaid-installment record.
DUE_ON = 0  # the installment's contractual due date
EXTENSION = 1  # days of a granted grace extension (宽限期): ageing starts DUE_ON + EXTENSION
OWED_PRINCIPAL = 2
OWED_INTEREST = 3  # interest billed with the installment, unpaid
OWED_FEE = 4
OWED_PENALTY = 5  # penalty, compound and late fee charged, unpaid
OWED_GRACE_INTEREST = 6  # contract interest of extension and grace days, unpaid
LATE_FEE_CHARGED = 7  # 0 or 1
GRACE_BASE = 8  # fen-days of principal in extension/grace days (contract rate)
PENALTY_BASE = 9  # fen-days of principal past grace (penalty rate)
COMPOUND_BASE = 10  # fen-days of interest past `compound_after_days` (penalty rate)
RECORD_NAMES = (  # the book's `unpaid` struct fields, in field order
    "due_on",
    "extension_days",
    "principal",
    "interest",
    "fee",
    "penalty",
    "grace_interest",
    "late_fee_charged",
    "grace_base",
    "penalty_base",
    "compound_base",
)
RECORD_FIELDS = len(RECORD_NAMES)
N_RECORD_MONEY = 5  # the money fields, OWED_PRINCIPAL to OWED_GRACE_INTEREST


@jit
def bucket(dpd):
    """Delinquency bucket code: M0 current, M1 1–30, M2 31–60, M3 61–90, M3+ 91+ days past due."""
    if dpd <= 0:
        return 0
    return min((dpd + 29) // 30, 4)


@inline_jit
def owed(records, k):
    """Everything unpaid on record k."""
    return (
        records[k, OWED_PRINCIPAL]
        + records[k, OWED_INTEREST]
        + records[k, OWED_FEE]
        + records[k, OWED_PENALTY]
        + records[k, OWED_GRACE_INTEREST]
    )
