"""Published and hand-worked schedules (tests/golden/schedules.json), reproduced exactly."""

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

import accrual as ac
from tests.loans import golden_loans

CASES = json.loads((Path(__file__).parent / "golden" / "schedules.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden(case):
    got = ac.schedule(golden_loans(case["loan"]))
    expect = case["expect"]
    rows = got.rows(named=True)
    if isinstance(expect.get("rows"), list):
        want = [
            (p, dt.date.fromisoformat(d), *(Decimal(x) for x in money)) for p, d, *money in expect["rows"]
        ]
        assert got.drop("loan_id").rows() == want
        return
    assert len(rows) == expect["rows"]
    first, last = rows[0], rows[-1]
    checks = {
        "first_payment": first["payment"],
        "first_interest": first["interest"],
        "first_principal": first["principal"],
        "second_payment": rows[1]["payment"] if len(rows) > 1 else None,
        "last_payment": last["payment"],
        "total_interest": sum(r["interest"] for r in rows),
    }
    for key, value in expect.items():
        if key in checks:
            assert checks[key] == Decimal(value), key
        elif key.startswith("each_"):
            column = key.removeprefix("each_")
            assert {r[column] for r in rows} == {Decimal(value)}, key
    assert last["balance"] == 0
    assert sum(r["principal"] for r in rows) == first["principal"] + first["balance"]
