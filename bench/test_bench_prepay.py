"""pytest-benchmark: smart-prepay recommendations over a serviced book at 10k and 1M loans.

The floor beside it is in `bench/peers.py --only prepay`. `make test` runs each once with
--benchmark-disable, as a smoke test.
"""

import pytest

from bench.peers import EOD_DAY, demo_wallets, eod_book
from bench.registry import COMPARISONS

smart_prepay = COMPARISONS["smart_prepay"]["accrual"]


@pytest.fixture(
    scope="module",
    params=[10_000, pytest.param(1_000_000, marks=pytest.mark.slow)],
    ids=["10k", "1M"],
)
def book(request):
    return eod_book(request.param)[0]


def test_smart_prepay(benchmark, book):
    wallets = demo_wallets(book)
    result = benchmark.pedantic(
        smart_prepay, args=(book, wallets, EOD_DAY), kwargs={"buffer": 500, "min_amount": 100}, rounds=5,
        warmup_rounds=1,
    )  # fmt: skip
    assert result.height > 0
