"""pytest-benchmark: stress simulation (Monte Carlo and expected) at 10k and 1M loans.

The NumPy Monte Carlo peer and the ratio are in `bench/peers.py --only stress`. `make test`
runs each once with --benchmark-disable, as a smoke test.
"""

import accrual as ac
from accrual.stress import SCENARIOS
from bench.peers import numpy_stress, stress_inputs

BASELINE = SCENARIOS.head(1)


def test_monte_carlo_100_paths(benchmark, book):
    benchmark.pedantic(ac.stress, args=(book, BASELINE), kwargs={"months": 36, "paths": 100}, rounds=2,
                       warmup_rounds=1)  # fmt: skip


def test_expected(benchmark, book):
    benchmark.pedantic(ac.stress, args=(book,), kwargs={"months": 36, "method": "expected"}, rounds=2,
                       warmup_rounds=1)  # fmt: skip


def test_numpy_peer_agrees_on_the_mean(book):
    """The peer simulates the same model: its mean balance path matches ours within noise."""
    small = book.head(5_000)
    scenario = SCENARIOS.row(0, named=True)
    theirs = numpy_stress(stress_inputs(small, 12, scenario), 200, 12, scenario)[:, 1:, 0].mean(axis=0) / 100
    ours = ac.stress(small, BASELINE, months=12, method="expected").monthly["balance"].to_numpy()
    assert abs(theirs - ours).max() <= 0.01 * ours.max()
