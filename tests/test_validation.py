"""Bad input: a clear error naming column, rule and loans; or a reconciled rejects table."""

import datetime as dt

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import accrual as ac
from accrual.schema import positions

GOOD = {"principal": 1000.0, "annual_rate": 0.18, "term": 3, "disbursed_on": dt.date(2024, 1, 15)}


def _book(*overrides: dict) -> pl.DataFrame:
    return pl.DataFrame([{"loan_id": f"L{i}", **GOOD, **o} for i, o in enumerate(overrides)])


BAD = [
    ({"principal": -5.0}, "principal", "must be > 0"),
    ({"principal": None}, "principal", "required value is missing"),
    ({"annual_rate": -0.01}, "annual_rate", "must be >= 0"),
    ({"annual_rate": 3.65}, "annual_rate", "absurd"),
    ({"term": 0}, "term", "must be >= 1"),
    ({"term": 5000}, "term", "too long"),
    ({"method": "pay_whenever"}, "method", "unknown method"),
    ({"day_count": "ACT/366"}, "day_count", "unknown day_count"),
    ({"first_due_on": dt.date(2024, 1, 15)}, "first_due_on", "must be after disbursed_on"),
    ({"disbursed_on": None}, "disbursed_on", "required value is missing"),
    ({"installment_fee_rate": -0.1}, "installment_fee_rate", "must be in [0, 1)"),
    ({"interest_free_days": -3}, "interest_free_days", "must be a whole number >= 0"),
    ({"term_unit": "fortnight"}, "term_unit", "unknown term_unit"),
    ({"interest_basis": "hourly"}, "interest_basis", "unknown interest_basis"),
    ({"rounding": "up"}, "rounding", "unknown rounding"),
    ({"principal": 1e15}, "principal", "not a finite amount"),
    ({"annual_rate": None}, "annual_rate", "required value is missing (or daily_rate)"),
    ({"term": None}, "term", "required value is missing"),
    ({"term": 2.5}, "term", "must be a whole number"),
    (
        {"term_unit": "day", "term": 30, "first_due_on": dt.date(2024, 2, 1)},
        "first_due_on",
        "only for term_unit",
    ),
    ({"installment_multiple": -1.0}, "installment_multiple", "must be >= 0"),
    ({"upfront_fee_rate": 1.0}, "upfront_fee_rate", "must be in [0, 1)"),
]


@pytest.mark.parametrize(("override", "column", "rule"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_error_names_column_rule_and_loan(override, column, rule):
    loans = _book({}, override, {})
    with pytest.raises(ac.ValidationError) as info:
        ac.schedule(loans)
    message = str(info.value)
    assert f"column {column!r}" in message and rule in message and "'L1'" in message
    assert "'L0'" not in message and "'L2'" not in message


@pytest.mark.parametrize(("override", "column", "rule"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_reject_reconciles(override, column, rule):
    loans = _book({}, override, {})
    out, rejects = ac.schedule(loans, errors="reject")
    assert set(out["loan_id"]) == {"L0", "L2"}
    assert rejects["loan_id"].to_list() == ["L1"]
    assert rejects["column"].to_list() == [column] and rule in rejects["rule"][0]
    assert rejects.columns == ["loan_id", "column", "rule", "value"]


def test_duplicates_reject_every_copy_and_nothing_is_dropped():
    loans = pl.concat([_book({}, {}, {}), _book({})])  # L0 twice
    out, rejects = ac.schedule(loans, errors="reject")
    assert rejects.filter(pl.col("rule") == "duplicate loan_id")["loan_id"].to_list() == [
        "L0",
        "L0",
    ]
    accepted = set(out["loan_id"])
    assert accepted == {"L1", "L2"} and accepted.isdisjoint(rejects["loan_id"])
    assert accepted | set(rejects["loan_id"]) == set(loans["loan_id"])


def test_a_loan_without_id_is_rejected_not_dropped():
    out, rejects = ac.schedule(_book({}, {"loan_id": None}), errors="reject")
    assert set(out["loan_id"]) == {"L0"}
    assert rejects.select("loan_id", "column", "rule").rows() == [
        (None, "loan_id", "required value is missing")
    ]


def test_many_offenders_are_capped_at_ten_in_the_message():
    loans = _book(*([{"term": 0}] * 25))
    with pytest.raises(ac.ValidationError, match=r"25 loan\(s\): .* and 15 more") as info:
        ac.schedule(loans)
    assert info.value.rejects.height == 25


def test_schema_problems_raise_even_when_rejecting():
    with pytest.raises(ac.ValidationError, match="'loan_id' is missing"):
        ac.schedule(_book({}).drop("loan_id"), errors="reject")
    with pytest.raises(ac.ValidationError, match="no rate"):
        ac.schedule(_book({}).drop("annual_rate"))
    with pytest.raises(ac.ValidationError, match="'disbursed_on' must be a date"):
        ac.schedule(_book({}).with_columns(pl.col("disbursed_on").cast(pl.String)))


def test_unknown_keyword_and_bad_keyword_value_are_refused():
    with pytest.raises(TypeError, match="unknown parameter"):
        ac.schedule(_book({}), methd="bullet")
    with pytest.raises(ValueError, match="unknown Method"):
        ac.schedule(_book({}), method="whenever")


def test_rate_columns_must_agree():
    loans = _book({"daily_rate": 0.0005}, {"daily_rate": 0.0006})
    with pytest.raises(ac.ValidationError, match="'daily_rate': disagrees") as info:
        ac.schedule(loans)  # 0.0005 × 360 = 0.18 agrees; 0.0006 does not
    assert info.value.rejects["loan_id"].to_list() == ["L1"]


def test_nan_and_infinite_amounts_are_rejected():
    loans = _book({"principal": float("nan")}, {"principal": float("inf")})
    _, rejects = ac.schedule(loans, errors="reject")
    assert set(rejects["loan_id"]) == {"L0", "L1"}


@given(
    start=st.integers(-5, 5),
    gaps=st.lists(st.integers(1, 3), max_size=40),
    wanted=st.lists(st.one_of(st.none(), st.integers(-10, 150)), max_size=30),
    descending=st.booleans(),
)
def test_positions_in_the_book_match_a_lookup(start, gaps, wanted, descending):
    """Each id's row in the book, or null, whichever path finds it: consecutive ids (arithmetic),
    increasing ids with gaps (binary search), any other order (a join)."""
    book = np.cumsum([start, *gaps])
    book_ids = pl.Series("loan_id", book[::-1] if descending else book, dtype=pl.Int64)
    ids = pl.Series("loan_id", wanted, dtype=pl.Int64)
    row = {loan: k for k, loan in enumerate(book_ids.to_list())}
    assert positions(ids, book_ids).to_list() == [row.get(loan) for loan in wanted]
