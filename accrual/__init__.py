"""accrual: repayment schedules and interest accrual for consumer-credit books, exact to the fen.

>>> import accrual as ac
>>> ac.Method.parse("等额本金")
<Method.EQUAL_PRINCIPAL: 1>
"""

from accrual.apr import Rates, apr, rates
from accrual.conventions import Allocation, DayCount, InterestBasis, Method, Prepay, Rounding, TermUnit
from accrual.eod import Accrual, accrue
from accrual.generate import generate, generate_payments
from accrual.prepay import align_to_payday, smart_prepay
from accrual.presets import presets
from accrual.schedule import schedule
from accrual.schema import ValidationError
from accrual.stress import Stress, stress

__all__ = [
    "Accrual",
    "Allocation",
    "DayCount",
    "InterestBasis",
    "Method",
    "Prepay",
    "Rates",
    "Rounding",
    "Stress",
    "TermUnit",
    "ValidationError",
    "accrue",
    "align_to_payday",
    "apr",
    "generate",
    "generate_payments",
    "presets",
    "rates",
    "schedule",
    "smart_prepay",
    "stress",
]
__version__ = "0.1.0"
