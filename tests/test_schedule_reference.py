"""The schedule kernel against the naive Decimal reference, loan by loan, to the fen."""

import pytest

from bench.registry import COMPARISONS
from tests.loans import as_tuples, random_loans, to_frame

SCHEDULE = COMPARISONS["schedule"]


def _compare(rows: list[dict]) -> None:
    got = as_tuples(SCHEDULE["accrual"](to_frame(rows)))
    want = SCHEDULE["reference"](rows)
    assert len(got) == len(want)
    mismatched = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert not mismatched, f"{len(mismatched)} rows differ, first: {mismatched[:3]}"


def test_random_loans_match_reference():
    _compare(random_loans(3000, seed=20261124))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_random_loans_match_reference_more(seed):
    _compare(random_loans(20000, seed=seed))


def test_every_convention_is_covered():
    rows = random_loans(3000, seed=20261124)
    combos = {(r["method"], r["interest_basis"], r["day_count"], r["rounding"]) for r in rows}
    assert len(combos) == 4 * 2 * 3 * 2
