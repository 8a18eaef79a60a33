"""accrual: repayment schedules and interest accrual for consumer-credit books, exact to the fen.

>>> import accrual as ac
>>> ac.Method.parse("等额本金")
<Method.EQUAL_PRINCIPAL: 1>
"""

from accrual.conventions import DayCount, InterestBasis, Method, Rounding, TermUnit
from accrual.generate import generate
from accrual.schedule import schedule
from accrual.schema import ValidationError

__all__ = [
    "DayCount",
    "InterestBasis",
    "Method",
    "Rounding",
    "TermUnit",
    "ValidationError",
    "generate",
    "schedule",
]
__version__ = "0.1.0"
