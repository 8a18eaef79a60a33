"""The public API: input kinds, keywords versus columns, aliases, output types."""

import datetime as dt
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest

import accrual as ac

LOANS = pl.DataFrame(
    {
        "loan_id": [10, 11],
        "principal": [Decimal("1000.00"), Decimal("1000.00")],
        "daily_rate": [0.0005, 0.0005],
        "term": [3, 3],
        "disbursed_on": [dt.date(2024, 4, 1)] * 2,
    }
)


def test_output_columns_and_types():
    out = ac.schedule(LOANS)
    assert out.columns == [
        "loan_id",
        "period",
        "due_on",
        "payment",
        "principal",
        "interest",
        "fee",
        "balance",
    ]
    assert out.schema["due_on"] == pl.Date and out.schema["loan_id"] == pl.Int64
    assert all(
        out.schema[c] == pl.Decimal(18, 2) for c in ("payment", "principal", "interest", "fee", "balance")
    )


def test_pyarrow_input_gives_the_same_table():
    assert ac.schedule(LOANS.to_arrow()).equals(ac.schedule(LOANS))


def test_column_wins_and_keyword_fills_its_nulls():
    loans = LOANS.with_columns(method=pl.Series(["interest_first", None]))
    out = ac.schedule(loans, method="bullet")
    assert out.group_by("loan_id").len().sort("loan_id")["len"].to_list() == [3, 1]


def test_aliases_in_columns_and_keywords():
    chinese = ac.schedule(LOANS.with_columns(method=pl.lit("等额本金")), day_count="Actual/360")
    canonical = ac.schedule(LOANS, method=ac.Method.EQUAL_PRINCIPAL, day_count="ACT/360")
    assert chinese.equals(canonical)
    assert ac.Method.parse("Equal-Installment") is ac.Method.EQUAL_INSTALLMENT
    assert str(ac.DayCount.THIRTY_360) == "30/360"


def test_enum_and_categorical_columns():
    as_enum = LOANS.with_columns(method=pl.lit("bullet").cast(pl.Enum(["bullet", "interest_first"])))
    as_cat = LOANS.with_columns(method=pl.lit("bullet").cast(pl.Categorical))
    assert ac.schedule(as_enum).equals(ac.schedule(as_cat))
    assert ac.schedule(as_enum).height == 2


@pytest.mark.parametrize(
    "categories",
    [
        [m.canonical for m in ac.Method],  # code order: the physical codes are used as they are
        [m.canonical for m in reversed(ac.Method)],
        ["等额本金", "bullet", "interest_first", "equal_installment"],  # an alias among them
    ],
)
def test_enum_columns_in_any_category_order_read_as_their_text(categories):
    methods = ["equal_installment", "bullet", None, "interest_first"]  # the null takes the keyword
    text = (
        LOANS.head(1)
        .select(pl.all().repeat_by(4).explode())
        .with_columns(loan_id=pl.Series([1, 2, 3, 4]), method=pl.Series(methods))
    )
    as_enum = text.with_columns(pl.col("method").cast(pl.Enum(categories)))
    want = ac.schedule(text, method="equal_principal")
    assert ac.schedule(as_enum, method="equal_principal").equals(want)
    assert want.group_by("loan_id").len().sort("loan_id")["len"].to_list()[:2] == [LOANS["term"][0], 1]


def test_string_ids_are_kept():
    out = ac.schedule(LOANS.with_columns(pl.format("loan-{}", "loan_id").alias("loan_id")))
    assert out["loan_id"].unique(maintain_order=True).to_list() == ["loan-10", "loan-11"]


def test_money_inputs_of_every_kind_round_half_up_to_the_fen():
    amounts = {
        "float": pl.Series([1000.005, 1.005]),
        "decimal_scale_3": pl.Series([Decimal("1000.005"), Decimal("1.005")], dtype=pl.Decimal(18, 3)),
    }
    for kind, principal in amounts.items():
        out = ac.schedule(LOANS.with_columns(principal=principal), method="bullet", term=1, term_unit="day")
        assert out["principal"].to_list() == [Decimal("1000.01"), Decimal("1.01")], kind
    integer_yuan = ac.schedule(LOANS.with_columns(principal=pl.Series([1000, 1])), method="bullet")
    assert integer_yuan["principal"].to_list() == [Decimal("1000.00"), Decimal("1.00")]


def test_empty_table():
    out = ac.schedule(LOANS.clear())
    assert out.height == 0 and out.columns[0] == "loan_id"


def test_errors_argument_is_checked():
    with pytest.raises(ValueError, match="errors must be"):
        ac.schedule(LOANS, errors="ignore")


def test_table_type_is_checked():
    with pytest.raises(TypeError, match="polars DataFrame or a pyarrow Table"):
        ac.schedule({"loan_id": [1]})


def test_record_batch_input():
    batch = LOANS.to_arrow().to_batches()[0]
    assert isinstance(batch, pa.RecordBatch)
    assert ac.schedule(batch).equals(ac.schedule(LOANS))
