"""`accrue` matches the day-by-day Decimal reference to the fen: state and every posting."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

import accrual as ac
from tests.servicing import reference_run, scenario


def compare(n: int, seed: int) -> None:
    loans, pays, extensions, as_of = scenario(n, seed)
    book, postings = ac.accrue(loans, as_of, pays, extensions)
    expected = reference_run(loans, pays, extensions, as_of)
    mismatches = []
    for row in book.iter_rows(named=True):
        ref = expected[row["loan_id"]]
        got = {
            "status": row["status"], "principal_outstanding": row["principal_outstanding"],
            "interest_accrued": row["interest_accrued"], "credit": row["credit"],
            "principal_repaid": row["principal_repaid"], "principal_written_off": row["principal_written_off"],
            "principal_due": row["principal_due"], "interest_due": row["interest_due"],
            "fee_due": row["fee_due"], "penalty_due": row["penalty_due"], "dpd": row["dpd"],
        }  # fmt: skip
        want = {
            "status": ref.status, "principal_outstanding": ref.principal_outstanding,
            "interest_accrued": ref.interest_accrued, "credit": ref.credit,
            "principal_repaid": ref.principal_repaid, "principal_written_off": ref.principal_written_off,
            "principal_due": ref.due("principal"), "interest_due": ref.due("interest"),
            "fee_due": ref.due("fee"), "penalty_due": ref.due("penalty"), "dpd": ref.dpd,
        }  # fmt: skip
        if got != want:
            mismatches.append((row["loan_id"], {k: (got[k], want[k]) for k in got if got[k] != want[k]}))
    assert not mismatches, mismatches[:5]
    got_posts = {
        (r[0], r[1], r[2]): r[3] for r in postings.select(pl.col("loan_id"), "posted_on", pl.col("kind").cast(pl.String), "amount").iter_rows()
    }  # fmt: skip
    want_posts = {
        (loan_id, d, k): v for loan_id, ref in expected.items() for (d, k), v in ref.postings.items()
    }
    diff = {k: (got_posts.get(k), want_posts.get(k)) for k in got_posts.keys() | want_posts.keys()
            if got_posts.get(k) != want_posts.get(k)}  # fmt: skip
    assert not diff, sorted(diff.items())[:10]
    assert sum(want_posts.values(), Decimal(0)) != 0


def test_accrue_matches_reference():
    compare(300, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(2, 6))
def test_accrue_matches_reference_more(seed):
    compare(1500, seed)
