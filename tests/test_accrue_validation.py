"""Bad payments, extensions and books: named, located, and never dropped silently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import polars as pl
import pytest

import accrual as ac
from tests.servicing import huge_page_advice

LOANS = pl.DataFrame(
    {
        "loan_id": [1, 2, 3],
        "principal": [Decimal("1000.00")] * 3,
        "daily_rate": [0.0005] * 3,
        "term": [3] * 3,
        "disbursed_on": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
    }
)
AS_OF = dt.date(2024, 3, 1)


def payments(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["payment_id", "loan_id", "paid_on", "amount"], orient="row"
    ).with_columns(pl.col("amount").cast(pl.Decimal(18, 2)))


BAD = payments(
    [
        (1, 1, dt.date(2024, 2, 1), 100.0),  # fine
        (2, 99, dt.date(2024, 2, 1), 100.0),  # unknown loan
        (3, 2, dt.date(2024, 2, 1), -5.0),  # negative
        (4, 3, dt.date(2024, 1, 15), 10.0),  # before disbursement
        (5, 2, dt.date(2024, 3, 2), 10.0),  # after as_of
        (6, 2, dt.date(2024, 2, 2), 10.0),  # duplicate id (with the next)
        (6, 2, dt.date(2024, 2, 3), 10.0),
    ]
)


def test_bad_payments_raise_naming_column_rule_and_ids():
    with pytest.raises(ac.ValidationError) as caught:
        ac.accrue(LOANS, AS_OF, BAD)
    message = str(caught.value)
    assert "6 of 7 payments break a rule" in message
    for text in (
        "unknown loan",
        "must be >= 0",
        "before the loan's disbursement",
        "after as_of",
        "duplicate payment_id",
    ):
        assert text in message
    assert "'loan_id'" in message and "'paid_on'" in message and "'amount'" in message


def test_rejects_account_for_every_loan_and_payment():
    loans = pl.concat(
        [
            LOANS,
            LOANS.head(1).with_columns(
                loan_id=pl.lit(4, pl.Int64), principal=pl.lit(Decimal("-1")).cast(pl.Decimal(18, 2))
            ),
        ]
    )
    pays = pl.concat([BAD, payments([(7, 4, dt.date(2024, 2, 1), 1.0)])])
    (book, postings), rejects = ac.accrue(loans, AS_OF, pays, errors="reject")
    assert sorted(book["loan_id"].to_list()) == [1, 2, 3]
    assert rejects.filter(pl.col("payment_id").is_null())["loan_id"].to_list() == [4]
    rejected_payments = set(rejects["payment_id"].drop_nulls().to_list())
    assert rejected_payments == {2, 3, 4, 5, 6, 7}  # payment 7 belongs to the rejected loan 4
    applied = postings.filter(
        pl.col("kind").cast(pl.String).str.starts_with("pay") | (pl.col("kind") == "prepay_principal")
    )
    assert applied["amount"].sum() == Decimal("100.00")  # only payment 1


def test_payment_on_a_day_already_accrued_is_refused():
    book = ac.accrue(LOANS, dt.date(2024, 2, 10)).book
    late_news = payments([(1, 1, dt.date(2024, 2, 5), 10.0)])
    with pytest.raises(ac.ValidationError, match="already accrued"):
        ac.accrue(book, AS_OF, late_news)


def test_extensions_are_limited():
    def ext(rows: list[tuple]) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=["loan_id", "due_on", "days"], orient="row")

    with pytest.raises(ac.ValidationError, match=r"days must be 1\.\.3"):
        ac.accrue(LOANS, AS_OF, extensions=ext([(1, dt.date(2024, 2, 1), 4)]))
    with pytest.raises(ac.ValidationError, match="not one of the loan's due dates"):
        ac.accrue(LOANS, AS_OF, extensions=ext([(1, dt.date(2024, 2, 2), 2)]))
    with pytest.raises(ac.ValidationError, match="unknown loan"):
        ac.accrue(LOANS, AS_OF, extensions=ext([(42, dt.date(2024, 2, 1), 2)]))
    three = ext([(1, dt.date(2024, 2, 1), 1), (1, dt.date(2024, 3, 1), 1), (1, dt.date(2024, 4, 1), 1)])
    with pytest.raises(ac.ValidationError, match="more than 2 extensions in 365 days"):
        ac.accrue(LOANS, AS_OF, extensions=three)
    # two are fine, and the book remembers them: a third later in the same year is refused
    book = ac.accrue(LOANS, dt.date(2024, 1, 20), extensions=three.head(2)).book
    assert book.filter(pl.col("loan_id") == 1)["extension_due_on_1"].item() == dt.date(2024, 3, 1)
    with pytest.raises(ac.ValidationError, match="more than 2 extensions"):
        ac.accrue(book, AS_OF, extensions=three.tail(1))
    # an extension must come before its due date is billed
    billed = ac.accrue(LOANS, dt.date(2024, 2, 1)).book
    with pytest.raises(ac.ValidationError, match="already billed"):
        ac.accrue(billed, AS_OF, extensions=ext([(1, dt.date(2024, 2, 1), 2)]))


def test_extension_moves_ageing_not_interest():
    """A 3-day extension on the first due date: no DPD and no penalty for 3 days, contract interest instead."""
    extension = pl.DataFrame({"loan_id": [1], "due_on": [dt.date(2024, 2, 1)], "days": [3]})
    book, postings = ac.accrue(
        LOANS.head(1), dt.date(2024, 2, 3), extensions=extension, method="equal_principal"
    )
    assert book["dpd"].item() == 0 and book["penalty_due"].item() == 0
    # 333.33 overdue principal at 0.05%/day for 3 days (Feb 1–3), cumulative: 0.50
    extra = postings.filter((pl.col("kind") == "bill_interest") & (pl.col("posted_on") > dt.date(2024, 2, 1)))
    assert book["interest_due"].item() == Decimal("15.50") + Decimal("0.50")
    assert extra["amount"].sum() == Decimal("0.33")  # Feb 2 and 3; Feb 1's 0.17 posts with the bill
    book = ac.accrue(book, dt.date(2024, 2, 5), method="equal_principal").book
    assert book["dpd"].item() == 1 and book["penalty_due"].item() > 0


def test_bad_servicing_parameters():
    with pytest.raises(ac.ValidationError, match="late_fee_rate"):
        ac.accrue(LOANS, AS_OF, late_fee_rate=1.5)
    with pytest.raises(ValueError, match="unknown Prepay"):
        ac.accrue(LOANS, AS_OF, prepay="smart")
    with pytest.raises(ValueError, match="postings must be"):
        ac.accrue(LOANS, AS_OF, postings="everything")
    with pytest.raises(TypeError, match="unknown parameter"):
        ac.accrue(LOANS, AS_OF, penalty_rat=0.001)


# (parameter, a fine value, a bad value, the rule it breaks)
SERVICING_CASES = [
    ("penalty_multiplier", 2.0, -1.0, "must be in [0, 100]"),
    ("grace_days", 2, -1, "must be a whole number in [0, 3650]"),
    ("compound_after_days", 3, 1.5, "must be a whole number in [0, 3650]"),
    ("late_fee_rate", 0.02, 1.5, "must be in [0, 1)"),
    ("late_fee_after_days", 5, 0, "must be a whole number in [1, 3650]"),
    ("non_accrual_after_days", 10, 0, "must be a whole number in [1, 100000]"),
    ("write_off_after_days", 20, 0.5, "must be a whole number in [1, 100000]"),
    ("prepay_fee_rate", 0.005, -0.1, "must be in [0, 1)"),
]


@pytest.mark.parametrize(("name", "fine", "bad", "rule"), SERVICING_CASES)
def test_a_bad_servicing_keyword_rejects_every_loan_a_bad_column_only_its_own(name, fine, bad, rule):
    # a keyword is checked once for the whole call: when it is bad, every loan is named
    _, rejects = ac.accrue(LOANS, AS_OF, errors="reject", **{name: bad})
    assert sorted(rejects["loan_id"].to_list()) == [1, 2, 3]
    assert set(rejects["column"]) == {name} and set(rejects["rule"]) == {rule}
    (result, rejects) = ac.accrue(
        LOANS.with_columns(pl.Series(name, [fine, bad, fine], strict=False)), AS_OF, errors="reject"
    )
    assert rejects.select("loan_id", "column", "rule").rows() == [(2, name, rule)]
    assert result.book["loan_id"].to_list() == [1, 3]


@pytest.mark.parametrize(("name", "fine", "bad", "rule"), SERVICING_CASES)
def test_a_servicing_keyword_is_the_same_as_that_column(name, fine, bad, rule):
    # late payers, a loan left unpaid and a prepayment, with late fees on, so each parameter counts
    paid = payments(
        [
            (1, 1, dt.date(2024, 2, 20), 200.0),
            (2, 3, dt.date(2024, 2, 15), 500.0),
            (3, 3, dt.date(2024, 3, 1), 50.0),
        ]
    )
    base = {} if name == "late_fee_rate" else {"late_fee_rate": 0.01}
    by_keyword = ac.accrue(LOANS, AS_OF, paid, **base, **{name: fine})
    by_column = ac.accrue(LOANS.with_columns(pl.lit(fine).alias(name)), AS_OF, paid, **base)
    assert by_keyword.book.equals(by_column.book.drop(name))
    assert by_keyword.postings.equals(by_column.postings)
    assert not by_keyword.postings.equals(ac.accrue(LOANS, AS_OF, paid, **base).postings)  # it mattered


def _tampered(book: pl.DataFrame, loan: int, record: dict | None) -> pl.DataFrame:
    """The book with loan `loan`'s first unpaid record replaced (None: a null record)."""
    rows = book["unpaid"].to_list()
    at = book["loan_id"].to_list().index(loan)
    rows[at] = [record, *rows[at][1:]]
    return book.with_columns(pl.Series("unpaid", rows, dtype=book["unpaid"].dtype))


@pytest.mark.parametrize(
    "change",
    [
        {"principal": Decimal("-1.00")},  # a negative amount
        {"interest": Decimal("9" * 16 + ".99")},  # beyond MAX_FEN (10^14 yuan)
        {"due_on": None},  # a field missing
        None,  # a null record
    ],
)
def test_a_tampered_unpaid_record_is_named_not_misread(change):
    book = ac.accrue(LOANS, AS_OF).book
    record = None if change is None else {**book["unpaid"][1][0], **change}
    with pytest.raises(ac.ValidationError) as caught:
        ac.accrue(_tampered(book, 2, record), AS_OF + dt.timedelta(days=1))
    message = str(caught.value)
    assert "'unpaid'" in message and "loan_id 2" in message and "1" not in message.split("loan_id")[1]


@pytest.mark.parametrize(
    "column, value, rule",
    [
        ("principal_outstanding", Decimal("-1.00"), "must be an amount >= 0"),
        ("status", "lost", "unknown status"),
        ("installments_left", None, "must be a whole number >= 0"),
        ("period_weight", -360, "must be a whole number >= 0"),
        ("accruing_since", None, "must be a date"),
        ("next_due_on", None, "must be a date while principal is outstanding"),
    ],
)
def test_an_edited_book_state_names_its_column_and_loan(column, value, rule):
    book = ac.accrue(LOANS, AS_OF).book
    if column == "status":  # an Enum column holds no unknown value: as text, as a CSV would give it
        book = book.with_columns(pl.col("status").cast(pl.String))
    edited = book.with_columns(
        pl.when(pl.col("loan_id") == 2)
        .then(pl.lit(value, dtype=book[column].dtype))
        .otherwise(pl.col(column))
        .alias(column)
    )
    day = AS_OF + dt.timedelta(days=1)
    with pytest.raises(ac.ValidationError) as caught:
        ac.accrue(edited, day)
    assert f"'{column}'" in str(caught.value) and rule in str(caught.value)
    result, rejects = ac.accrue(edited, day, errors="reject")
    assert rejects["loan_id"].to_list() == [2] and rejects["column"].to_list() == [column]
    assert sorted(result.book["loan_id"].to_list()) == [1, 3]  # every loan in exactly one of them


LATE_BAD = payments(
    [(1, 1, dt.date(2024, 2, 1), 100.0), (2, 3, dt.date(2024, 2, 10), -5.0)]
)  # the last loan's


@pytest.mark.parametrize(
    "book, pays, slices",
    [
        (LOANS, LATE_BAD, 3),
        (LOANS, payments([(1, 99, dt.date(2024, 2, 1), 10.0)]), 3),  # unknown loans: found in the slice
        (LOANS, payments([(1, 0, dt.date(2024, 2, 1), 10.0)]), 1),  # their ids fall in
        (LOANS.with_columns(principal=pl.when(pl.col("loan_id") == 2).then(None).otherwise("principal")),
         LATE_BAD.head(1), 2),
    ],
)  # fmt: skip
def test_a_bad_row_only_its_slice_finds_sends_a_sliced_book_back_to_one_call(monkeypatch, book, pays, slices):
    """A later slice's bad payment or loan is found while an earlier slice's kernel runs: `accrue`
    waits for it, then reports the problem as one call does (same message, rejects and result)."""
    from accrual import eod

    with pytest.raises(ac.ValidationError) as whole:
        ac.accrue(book, AS_OF, pays)
    whole_result, whole_rejects = ac.accrue(book, AS_OF, pays, errors="reject")
    serviced, one_call = [], eod._servicing
    monkeypatch.setattr(eod, "SLICE_LOANS", 1)  # a slice a loan
    monkeypatch.setattr(
        eod, "_servicing", lambda frame, *a: serviced.append(frame.height) or one_call(frame, *a)
    )
    with pytest.raises(ac.ValidationError) as sliced:
        ac.accrue(book, AS_OF, pays)
    assert serviced == [1] * slices + [3]  # slices up to the bad one's, then the whole book
    result, rejects = ac.accrue(book, AS_OF, pays, errors="reject")
    assert str(sliced.value) == str(whole.value)
    assert rejects.height and rejects.equals(whole_rejects)
    assert result.book.equals(whole_result.book) and result.postings.equals(whole_result.postings)


def test_unpaid_records_without_the_engine_fields_are_refused():
    book = ac.accrue(LOANS, AS_OF).book
    kept = pl.struct(pl.element().struct.field("due_on"), pl.element().struct.field("principal"))
    slim = book.with_columns(pl.col("unpaid").list.eval(kept))
    with pytest.raises(ac.ValidationError, match="'unpaid' must list records with fields due_on"):
        ac.accrue(slim, AS_OF + dt.timedelta(days=1))


def test_a_sliced_book_reports_bad_input_as_one_call_does(monkeypatch):
    """A problem only the whole book can name sends `accrue` back to one call: same message, same rejects."""
    from accrual import eod, io

    with pytest.raises(ac.ValidationError) as whole:
        ac.accrue(LOANS, AS_OF, BAD)
    whole_result, whole_rejects = ac.accrue(LOANS, AS_OF, BAD, errors="reject")
    monkeypatch.setattr(eod, "SLICE_LOANS", 1)  # a slice a loan
    advice = huge_page_advice()
    with pytest.raises(ac.ValidationError) as sliced:
        ac.accrue(LOANS, AS_OF, BAD)
    assert str(sliced.value) == str(whole.value)
    # NumPy's huge-page advice, off for the big call, is back after its error
    assert huge_page_advice() == advice
    trims = []  # one call over more than a slice: its temporaries are handed back, twice
    monkeypatch.setattr(io, "_libc", lambda: SimpleNamespace(malloc_trim=lambda pad: trims.append(pad)))
    result, rejects = ac.accrue(LOANS, AS_OF, BAD, errors="reject")
    assert len(trims) == 2
    assert rejects.equals(whole_rejects)
    assert result.book.equals(whole_result.book) and result.postings.equals(whole_result.postings)
    good = BAD.filter(pl.col("payment_id") == 1)
    assert ac.accrue(LOANS, AS_OF, good).book.equals(
        eod._accrue(LOANS, AS_OF, good, None, "raise", "detail", {}).book
    )
