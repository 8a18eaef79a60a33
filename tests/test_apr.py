"""The true cost of credit: golden cases, the Decimal bisection reference, pyxirr and
numpy-financial on random loans, closed forms, caps, validation and properties."""

import datetime as dt
import json
import random
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy_financial as npf
import polars as pl
import pytest
import pyxirr
from accrual.kernels.irr import irr_per_period
from hypothesis import given
from hypothesis import strategies as st

import accrual as ac
from bench.registry import COMPARISONS
from tests import reference
from tests.loans import golden_loans, random_loans, to_frame

APR = COMPARISONS["apr"]
CASES = json.loads((Path(__file__).parent / "golden" / "apr.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden(case):
    got = APR["accrual"](golden_loans(case["loan"])).row(0, named=True)
    expect = case["expect"]
    tolerance = float(expect["tolerance"])
    assert got["irr_annual"] == pytest.approx(float(expect["irr_annual"]), abs=tolerance)
    assert got["effective_annual"] == pytest.approx(float(expect["effective_annual"]), abs=tolerance)


def _random_rows(n: int, seed: int) -> list[dict]:
    rows = random_loans(n, seed)
    rng = random.Random(seed + 1)
    for row in rows:
        row["upfront_fee_rate"] = rng.choice([Decimal(0), Decimal(0), Decimal("0.02"), Decimal("0.05")])
    return rows


def _frame(rows: list[dict]) -> pl.DataFrame:
    return to_frame(rows).with_columns(pl.col("upfront_fee_rate").cast(pl.Float64))


def test_random_loans_match_reference():
    rows = _random_rows(300, seed=11)
    got = APR["accrual"](_frame(rows))
    want = [APR["reference"](loan) for loan in reference.loans_from_rows(rows)]
    assert got["irr_annual"].to_list() == pytest.approx([float(w.irr_annual) for w in want], abs=1e-9)
    assert got["effective_annual"].to_list() == pytest.approx(
        [float(w.effective_annual) for w in want], rel=1e-9, abs=1e-9
    )


def _flows(rows: list[dict]) -> list[tuple[int, list[float]]]:
    """(periods per year, [−net, payments at each period]) per loan, from the reference schedule."""
    out = []
    for loan in reference.loans_from_rows(rows):
        net, flows = reference.cash_flows(loan)
        amounts = [0.0] * (max(t for t, _ in flows) + 1)
        amounts[0] = -float(net)
        for t, amount in flows:
            amounts[t] = float(amount)
        out.append((365 if loan.term_unit == "day" else 12, amounts))
    return out


def test_random_loans_match_pyxirr_and_numpy_financial():
    rows = _random_rows(400, seed=12)
    got = APR["accrual"](_frame(rows))["irr_annual"].to_list()
    flows = _flows(rows)
    by_pyxirr = [pyxirr.irr(amounts) * per_year for per_year, amounts in flows]
    assert got == pytest.approx(by_pyxirr, abs=1e-7)
    short = [i for i, (_, amounts) in enumerate(flows) if len(amounts) <= 61]  # npf.irr is slow
    by_numpy = [npf.irr(flows[i][1]) * flows[i][0] for i in short]
    assert [got[i] for i in short] == pytest.approx(by_numpy, abs=1e-7)


def test_nominal_rates_are_shown_together():
    loans = pl.DataFrame(
        {
            "loan_id": ["a", "b", "c"],
            "principal": [1000, 1000, 1000],
            "daily_rate": [0.0005, 0.0005, None],
            "annual_rate": [None, None, 0.12],
            "day_count": ["ACT/360", "ACT/365", "30/360"],
            "term": [3, 3, 3],
            "disbursed_on": [dt.date(2024, 1, 1)] * 3,
        }
    )
    got = ac.apr(loans)
    assert got["loan_id"].to_list() == ["a", "b", "c"]
    assert got["daily_rate"].to_list() == pytest.approx([0.0005, 0.0005, 0.12 / 360])
    assert got["monthly_rate"].to_list() == pytest.approx([0.015, 0.0005 * 365 / 12, 0.01])
    assert got["annual_rate"].to_list() == pytest.approx([0.18, 0.1825, 0.12])
    assert ac.rates(daily_rate=0.0005, day_count="act/365") == pytest.approx(
        (0.0005, 0.0005 * 365 / 12, 0.1825)
    )
    assert ac.rates(0.24) == pytest.approx((0.24 / 360, 0.02, 0.24))
    with pytest.raises(ValueError, match="exactly one"):
        ac.rates(0.24, daily_rate=0.001)


def test_level_annuity_irr_is_its_rate():
    """No fees, monthly basis: the IRR is the nominal monthly rate (to the fen rounding)."""
    n = 200
    rng = np.random.default_rng(5)
    loans = pl.DataFrame(
        {
            "loan_id": np.arange(n),
            "principal": rng.integers(100_000, 10_000_000, n) / 1.0,
            "annual_rate": rng.integers(100, 3600, n) / 10_000,
            "term": rng.choice([6, 12, 24, 36], n),
            "disbursed_on": [dt.date(2024, 1, 10)] * n,
        }
    )
    got = ac.apr(loans, interest_basis="monthly")
    assert got["irr_annual"].to_list() == pytest.approx(got["annual_rate"].to_list(), abs=2e-6)


def test_cap_and_lpr():
    loans = pl.DataFrame(
        {
            "loan_id": [1, 2, 3],
            "principal": [1000, 1000, 1000],
            "annual_rate": [0.18, 0.18, 0.30],
            "upfront_fee_rate": [0.0, 0.05, 0.0],
            "term": [12, 12, 12],
            "disbursed_on": [dt.date(2024, 1, 10)] * 3,
        }
    )
    got = ac.apr(loans, interest_basis="monthly")
    assert got["over_cap"].to_list() == [False, True, True]  # the upfront fee pushes 18% over 24%
    assert ac.apr(loans, cap=0.36, interest_basis="monthly")["over_cap"].to_list() == [False, False, False]
    # private lending: 4 × one-year LPR (3.0% → 12%)
    assert ac.apr(loans, lpr=0.03, interest_basis="monthly")["over_cap"].to_list() == [True, True, True]
    with pytest.raises(ValueError, match="not both"):
        ac.apr(loans, cap=0.3, lpr=0.03)
    with pytest.raises(ValueError, match="cap must be"):
        ac.apr(loans, cap=-0.1)


def test_exactly_at_the_cap_is_not_over():
    loans = pl.DataFrame(
        {"loan_id": [1], "principal": [1000], "annual_rate": [0.24], "term": [12],
         "disbursed_on": [dt.date(2024, 1, 10)]}
    )  # fmt: skip
    cost = ac.apr(loans, interest_basis="monthly")["irr_annual"][0]
    assert ac.apr(loans, interest_basis="monthly", cap=cost)["over_cap"].to_list() == [False]
    assert ac.apr(loans, interest_basis="monthly", cap=cost - 1e-6)["over_cap"].to_list() == [True]


def test_rejects_partition_the_loans():
    loans = pl.DataFrame(
        {
            "loan_id": [1, 2, 3],
            "principal": [1000, -5, 1000],
            "annual_rate": [0.1, 0.1, 0.1],
            "term": [12, 12, 0],
            "disbursed_on": [dt.date(2024, 1, 10)] * 3,
        }
    )
    with pytest.raises(ac.ValidationError, match=r"principal.*must be > 0"):
        ac.apr(loans)
    got, rejects = ac.apr(loans, errors="reject")
    assert got["loan_id"].to_list() == [1]
    assert sorted(rejects["loan_id"].to_list()) == [2, 3]


def test_pyarrow_input_and_empty_book():
    loans = pl.DataFrame(
        {"loan_id": [7], "principal": [1000], "annual_rate": [0.1], "term": [3],
         "disbursed_on": [dt.date(2024, 1, 10)]}
    )  # fmt: skip
    assert ac.apr(loans.to_arrow())["loan_id"].to_list() == [7]
    assert ac.apr(loans.clear()).height == 0


fee_loans = st.fixed_dictionaries(
    {
        "principal": st.integers(100, 10**9).map(lambda fen: fen / 100),
        "annual_rate": st.integers(0, 3599).map(lambda bp: bp / 10000),
        "term": st.integers(1, 60),
        "term_unit": st.sampled_from(["month", "month", "day"]),
        "method": st.sampled_from(["equal_installment", "equal_principal", "interest_first", "bullet"]),
        "installment_fee_rate": st.sampled_from([0.0, 0.005, 0.02]),
        "upfront_fee_rate": st.sampled_from([0.0, 0.02]),
        "interest_free_days": st.sampled_from([0, 0, 14]),
    }
)


@given(st.lists(fee_loans, min_size=1, max_size=20), st.sampled_from([0.01, 0.03]))
def test_cost_is_never_negative_and_fees_only_raise_it(rows, extra_fee):
    loans = pl.DataFrame(
        [{"loan_id": i, "disbursed_on": dt.date(2024, 2, 29), **r} for i, r in enumerate(rows)]
    )
    base = ac.apr(loans)
    assert (base["irr_annual"] >= 0).all()
    assert (base["effective_annual"] >= base["irr_annual"] - 1e-12).all()  # compounding never lowers it
    dearer = ac.apr(loans.with_columns(pl.col("upfront_fee_rate") + extra_fee))
    assert (dearer["irr_annual"] > base["irr_annual"]).all()


@given(
    st.lists(st.integers(1, 10**9), min_size=2, max_size=120),
    st.floats(0.05, 1.0),
    st.floats(0.0, 10.0),
)
def test_the_solver_finds_the_same_rate_from_any_start(payments, received, guess):
    # the kernel starts from a guess at the rate; the root is unique, so where it starts must not
    # show in the answer (a guess above the rate starts left of the root in v = 1 / (1 + r))
    flows = np.array(payments, dtype=np.float64)
    net = max(1, int(received * flows.sum()))
    from_zero = irr_per_period(flows, flows.shape[0], 1, net, 0.0)
    assert irr_per_period(flows, flows.shape[0], 1, net, guess) == pytest.approx(
        from_zero, rel=1e-9, abs=1e-12
    )
    pv = sum(p / (1 + from_zero) ** (k + 1) for k, p in enumerate(payments))
    assert pv == pytest.approx(
        net, rel=1e-9
    )  # and it is the root: the flows' value at it is what was received
