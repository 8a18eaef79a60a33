"""Stress simulation (SPEC.md section 11): `expected` against the path-enumerating reference,
Monte Carlo against `expected`, conservation, the schedule when nobody misses, reproducibility,
thread and batch independence, scenario ordering, validation."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction

import numba
import numpy as np
import polars as pl
import pytest

import accrual as ac
from accrual.stress import BASE_ROLL, SEGMENTS
from tests import reference
from tests.loans import random_loans, to_frame

START = dt.date(2024, 1, 1)
ONE = pl.DataFrame(
    {"scenario": ["s"], "pd_multiplier": [3.0], "cure_multiplier": [0.9], "prepay_rate": [0.03],
     "recovery_rate": [0.4], "recovery_lag_months": [2], "funding_rate": [0.06]}
)  # fmt: skip
MONEY = ["balance", "balance_current", "balance_m1", "balance_m2", "balance_m3", "balance_m3plus",
         "collected_principal", "collected_interest", "collected_penalty", "collected_fee", "charged_off",
         "recovered", "net_interest_income"]  # fmt: skip


def _keep_day(row: dict) -> int:
    if row["term_unit"] == "day":
        return (row["disbursed_on"] + dt.timedelta(days=row["term"])).day
    return (row["first_due_on"] or row["disbursed_on"]).day


def _stress_rows(loans: pl.DataFrame, start: dt.date) -> dict:
    table = ac.schedule(loans).filter(pl.col("due_on") >= start)
    rows: dict = {}
    for r in table.iter_rows(named=True):
        rows.setdefault(r["loan_id"], []).append(
            reference.StressRow(r["due_on"], r["principal"], r["interest"], r["fee"])
        )
    return rows


def _terms(row: dict, segment: str, charge_off_after: int) -> reference.StressTerms:
    loan = reference.loans_from_rows([row])[0]
    daily = Fraction(reference.annual_rate(loan)) / reference.YEAR_DAYS[loan.day_count]
    base = Fraction(BASE_ROLL[SEGMENTS.index(segment)]).limit_denominator(10**6)
    return reference.StressTerms(
        roll=min(Fraction(1), base * 3), cure=Fraction(45, 100), prepay=Fraction(3, 100),
        recovery_rate=Fraction(4, 10), recovery_lag=2, funding_rate=Fraction(6, 100),
        penalty_daily=daily * Fraction(3, 2), charge_off_after=charge_off_after, rounding=loan.rounding,
    )  # fmt: skip


@pytest.mark.parametrize("charge_off_after", [3, 6])
def test_expected_matches_the_path_enumerating_reference(charge_off_after):
    rng = random.Random(charge_off_after)
    rows = random_loans(40, seed=31 + charge_off_after)
    for row in rows:
        row["disbursed_on"] = START - dt.timedelta(days=rng.randint(0, 40))
        row["segment"] = rng.choice(SEGMENTS)
        if row["first_due_on"] is not None:
            row["first_due_on"] = row["disbursed_on"] + dt.timedelta(days=rng.randint(1, 60))
    loans = to_frame(rows)
    months = 9
    got = ac.stress(
        loans, ONE, months=months, method="expected", start=START, charge_off_after=charge_off_after
    )
    want = [dict.fromkeys(MONEY, Fraction(0)) for _ in range(months)]
    by_loan = _stress_rows(loans, START)
    for row in rows:
        if row["loan_id"] not in by_loan:
            continue
        steps = reference.stress_expected(
            by_loan[row["loan_id"]], _keep_day(row), _terms(row, row["segment"], charge_off_after), months
        )
        for total, step in zip(want, steps, strict=True):
            for name in MONEY:
                total[name] += step[name]  # the reference works in yuan, as the output does
    assert len(by_loan) > 25
    for name in MONEY:
        expected = [float(w[name]) for w in want]
        assert got.monthly[name].to_list() == pytest.approx(expected, rel=1e-9, abs=1e-6), name


def test_a_delinquent_book_starts_from_the_installments_it_missed():
    loans = pl.DataFrame(
        {"loan_id": [1], "principal": [Decimal(6000)], "daily_rate": [0.0005], "term": [6],
         "disbursed_on": [dt.date(2024, 1, 10)], "segment": ["blue_collar"]}
    )  # fmt: skip
    book = ac.accrue(loans, dt.date(2024, 3, 20)).book  # two installments billed, nothing paid
    assert len(book["unpaid"][0]) == 2
    got = ac.stress(book, ONE, months=8, method="expected")
    plan = ac.schedule(loans)
    rows = [
        reference.StressRow(r["due_on"], r["principal"], r["interest"], r["fee"])
        for r in plan.iter_rows(named=True)
    ]
    row = {"loan_id": 1, "principal": Decimal(6000), "daily_rate": Decimal("0.0005"), "term": 6,
           "disbursed_on": dt.date(2024, 1, 10)}  # fmt: skip
    want = reference.stress_expected(rows[2:], 10, _terms(row, "blue_collar", 6), 8, missed=rows[:2])
    for name in MONEY:
        assert got.monthly[name].to_list() == pytest.approx([float(w[name]) for w in want], rel=1e-9), name


@pytest.fixture(scope="module")
def book():
    return ac.generate(600, seed=12)


def test_monte_carlo_converges_to_expected(book):
    months = 12
    exact = ac.stress(book, months=months, method="expected").monthly
    sampled = ac.stress(book, months=months, paths=3000, seed=5).monthly
    for name in ("balance", "charged_off"):
        # the 5–95% band spans about 3.29 standard deviations of one path
        error = ((sampled[f"{name}_p95"] - sampled[f"{name}_p05"]) / 3.29 / np.sqrt(3000)).to_numpy()
        gap = np.abs(sampled[name].to_numpy() - exact[name].to_numpy())
        assert (gap <= 5 * error + 1e-6).all(), name
    for name in ("collected_principal", "collected_interest", "recovered"):
        assert sampled[name].sum() == pytest.approx(exact[name].sum(), rel=0.02), name


def test_principal_is_conserved(book):
    months = 24
    result = ac.stress(book, months=months, method="expected")
    start = book["disbursed_on"].max()
    opening = float(ac.schedule(book).filter(pl.col("due_on") >= start)["principal"].sum())
    for scenario in result.monthly.partition_by("scenario"):
        closing = (
            scenario["collected_principal"].sum() + scenario["charged_off"].sum() + scenario["balance"][-1]
        )
        assert closing == pytest.approx(opening, rel=1e-12)


def test_nobody_missing_collects_exactly_the_schedule(book):
    calm = ONE.with_columns(pd_multiplier=pl.lit(0.0), prepay_rate=pl.lit(0.0))
    start = book["disbursed_on"].max()
    steps = (
        ac.schedule(book)
        .filter(pl.col("due_on") >= start)
        .with_columns(step=pl.col("due_on").rank("ordinal").over("loan_id").cast(pl.Int32))
        .group_by("step")
        .agg(pl.col("principal", "interest", "fee").sum())
        .sort("step")
    )
    for method in ("expected", "monte_carlo"):
        got = ac.stress(book, calm, months=int(steps["step"].max()), method=method, paths=3).monthly
        for column in ("principal", "interest", "fee"):
            want = [float(x) for x in steps[column]]
            assert got[f"collected_{column}"].to_list() == pytest.approx(want, rel=1e-12), (method, column)
        assert got["charged_off"].sum() == 0 and got["balance_m1"].sum() == 0


def test_reproducible_and_independent_of_threads_and_batches(book):
    run = dict(months=12, paths=50, seed=11, start=book["disbursed_on"].max())  # halves keep the start
    first = ac.stress(book, **run)
    assert ac.stress(book, **run).monthly.equals(first.monthly)
    assert not ac.stress(book, **{**run, "seed": 12}).monthly.equals(first.monthly)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one_thread = ac.stress(book, **run)
    finally:
        numba.set_num_threads(threads)
    assert one_thread.monthly.equals(first.monthly)
    assert one_thread.losses.equals(first.losses)
    assert ac.stress(book, batch_loans=97, **run).monthly.equals(first.monthly)
    # partitioning: the halves' means add up to the whole's
    halves = [ac.stress(part, **run).monthly for part in (book.head(300), book.tail(300))]
    assert (halves[0]["balance"] + halves[1]["balance"]).to_list() == pytest.approx(
        first.monthly["balance"].to_list()
    )
    expected = [ac.stress(book, months=12, method="expected", batch_loans=b).monthly for b in (1000, 77)]
    assert expected[0]["balance"].to_list() == pytest.approx(expected[1]["balance"].to_list(), rel=1e-12)


def test_worse_scenarios_never_lose_less(book):
    result = ac.stress(book, months=24, method="expected")
    losses = dict(result.losses.select("scenario", "expected_loss").iter_rows())
    assert 0 < losses["baseline"] < losses["industry"] < losses["severe"]
    cumulative = result.monthly.with_columns(pl.col("charged_off").cum_sum().over("scenario"))
    by = {s["scenario"][0]: s["charged_off"].to_numpy() for s in cumulative.partition_by("scenario")}
    assert (by["baseline"] <= by["industry"]).all() and (by["industry"] <= by["severe"]).all()
    sampled = ac.stress(book, months=24, paths=200).losses
    assert (sampled["var_99"] >= sampled["var_95"]).all() and (sampled["es_99"] >= sampled["var_99"]).all()


def test_segment_overrides_and_validation(book):
    override = ONE.with_columns(base_roll_blue_collar=pl.lit(0.5))
    plain = ac.stress(book, ONE, months=12, method="expected").losses["expected_loss"][0]
    harsher = ac.stress(book, override, months=12, method="expected").losses["expected_loss"][0]
    assert harsher > plain
    with pytest.raises(ac.ValidationError, match="prepay_rate"):
        ac.stress(book, ONE.with_columns(prepay_rate=pl.lit(1.5)), months=3)
    with pytest.raises(ac.ValidationError, match="funding_rate"):
        ac.stress(book, ONE.drop("funding_rate"), months=3)
    with pytest.raises(ac.ValidationError, match="unknown segment"):
        ac.stress(book, ONE.with_columns(base_roll_students=pl.lit(0.1)), months=3)
    with pytest.raises(ValueError, match="method"):
        ac.stress(book, method="guess")


def test_closed_and_written_off_loans_do_not_step():
    loans = pl.DataFrame(
        {"loan_id": [1, 2, 3], "principal": [Decimal(3000)] * 3, "daily_rate": [0.0005] * 3, "term": [3] * 3,
         "disbursed_on": [dt.date(2024, 1, 10)] * 3}
    )  # fmt: skip
    pays = pl.DataFrame(
        {"payment_id": [1], "loan_id": [1], "paid_on": [dt.date(2024, 1, 20)], "amount": [5000.0]}
    )
    book = ac.accrue(loans, dt.date(2024, 3, 20), pays, write_off_after_days=30).book
    assert book["status"].to_list() == ["closed", "written_off", "written_off"]
    result = ac.stress(book, months=6, method="expected")
    assert result.monthly["balance"].sum() == 0
    assert result.monthly["charged_off"].sum() == 0 and result.monthly["collected_interest"].sum() == 0
