"""One registry of public functions → {accrual, reference, peers}: read by the accuracy tests and
the benchmarks alike, so what is timed is what is checked."""

from __future__ import annotations

import accrual
from bench import peers
from tests import reference

COMPARISONS = {
    "schedule": {
        "accrual": accrual.schedule,
        "reference": reference.schedule_rows,
        "peers": {
            "numpy": peers.numpy_schedule,
            "amortization": peers.amortization_schedule,
        },
    },
    "accrue": {
        "accrual": accrual.accrue,
        "reference": reference.service,
        "peers": {
            "numpy": peers.numpy_day_step,
            "polars": peers.polars_day_step,
        },
    },
    "apr": {
        "accrual": accrual.apr,
        "reference": reference.true_cost,
        "peers": {"pyxirr": peers.pyxirr_per_loan},
    },
    "smart_prepay": {
        "accrual": accrual.smart_prepay,
        "reference": None,  # checked against EOD itself: tests/test_smart_prepay.py
        "peers": {},
    },
    "stress": {
        "accrual": accrual.stress,
        "reference": reference.stress_expected,
        "peers": {"numpy": peers.numpy_stress},
    },
}
