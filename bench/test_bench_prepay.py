"""pytest-benchmark: smart-prepay recommendations over a serviced book at 10k and 1M loans.

The floor beside it is in `bench/peers.py --only prepay`. `make test` runs each once with
--benchmark-disable, as a smoke test.
"""

from bench.peers import EOD_DAY, demo_wallets
from bench.registry import COMPARISONS

smart_prepay = COMPARISONS["smart_prepay"]["accrual"]


def test_smart_prepay(benchmark, serviced):
    book = serviced[0]
    wallets = demo_wallets(book)
    result = benchmark.pedantic(
        smart_prepay, args=(book, wallets, EOD_DAY), kwargs={"buffer": 500, "min_amount": 100}, rounds=5,
        warmup_rounds=1,
    )  # fmt: skip
    assert result.height > 0
