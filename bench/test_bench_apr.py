"""pytest-benchmark: the IRR-annualised cost (`apr`) at 10k and 1M loans, and the pyxirr peer.

Warm-up is on, so compile time is out (it is measured in `bench/peers.py`, which also prints the
ratio against pyxirr in one run). `make test` runs each once with --benchmark-disable.
"""

import numpy as np
import pytest

import accrual as ac
from bench.peers import irr_inputs
from bench.registry import COMPARISONS

APR = COMPARISONS["apr"]


def test_apr(benchmark, book):
    benchmark.pedantic(APR["accrual"], args=(book,), rounds=5, warmup_rounds=1)


@pytest.fixture(scope="module")
def sample():
    return ac.generate(5_000, seed=2)


def test_pyxirr_per_loan(benchmark, sample):
    benchmark.pedantic(APR["peers"]["pyxirr"], args=(irr_inputs(sample),), rounds=1, warmup_rounds=0)


def test_peer_computes_the_same_rate(sample):
    """The peer is only a fair comparison if it answers the same question."""
    ours = APR["accrual"](sample)["irr_annual"].to_numpy()
    theirs = APR["peers"]["pyxirr"](irr_inputs(sample))
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-7)
