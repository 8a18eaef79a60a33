"""Books the benchmarks share: generated loans, and a serviced book with its later payments,
at 10k loans (the `make test` smoke run) and 1M (marked slow)."""

import pytest

import accrual as ac
from bench.peers import eod_book

SIZES = [10_000, pytest.param(1_000_000, marks=pytest.mark.slow)]


@pytest.fixture(scope="session", params=SIZES, ids=["10k", "1M"])
def book(request):
    return ac.generate(request.param, seed=1)


@pytest.fixture(scope="session", params=SIZES, ids=["10k", "1M"])
def serviced(request):
    return eod_book(request.param)
