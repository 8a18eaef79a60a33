"""Product presets: plain dictionaries of servicing parameters, usable as `**kwargs` of any verb.

>>> import accrual as ac
>>> ac.presets["emergency"]["late_fee_rate"]
0.05
"""

from __future__ import annotations

from typing import Any

presets: dict[str, dict[str, Any]] = {
    # 应急呗 (SPEC.md section 2): DPD 1–3 normal interest only (grace), DPD 4–7 a one-off 5% late
    # fee (违约金), compound interest (复利) beyond DPD 7.
    "emergency": {
        "grace_days": 3,
        "late_fee_rate": 0.05,
        "late_fee_after_days": 4,
        "compound_after_days": 7,
    },
}
