"""pytest-benchmark: schedules at 10k and 1M loans, against the floor and the NumPy peer.

Warm-up is on, so compile time is out (it is measured in `bench/peers.py`).
`make test` runs each of these once with --benchmark-disable, as a smoke test.
"""

import pytest

import accrual as ac
from bench.peers import annuity_book, floor_ratios_in_processes
from bench.registry import COMPARISONS

PEERS = COMPARISONS["schedule"]["peers"]
numpy_schedule = PEERS["numpy"]


def test_schedule(benchmark, book):
    benchmark.pedantic(COMPARISONS["schedule"]["accrual"], args=(book,), rounds=5, warmup_rounds=1)


@pytest.fixture(
    scope="module",
    params=[10_000, pytest.param(1_000_000, marks=pytest.mark.slow)],
    ids=["10k", "1M"],
)
def annuities(request):
    return annuity_book(request.param)


def test_schedule_annuities(benchmark, annuities):
    benchmark.pedantic(COMPARISONS["schedule"]["accrual"], args=(annuities,), rounds=5, warmup_rounds=1)


def test_amortization_peer(benchmark, annuities):
    sample = annuities.head(2000)  # per-loan Python: a sample keeps the suite short
    benchmark.pedantic(PEERS["amortization"], args=(sample,), rounds=1, warmup_rounds=0)


def test_numpy_peer(benchmark, annuities):
    benchmark.pedantic(numpy_schedule, args=(annuities,), rounds=3, warmup_rounds=1)


def test_numpy_peer_does_the_same_work(annuities):
    """The peer computes the same schedules up to float rounding: each interest within a fen of
    ours, the principal repaid in full. (It is not exact: x.5-fen ties computed in float land on
    either side, which is why money in accrual is integer fen.)"""
    loans = annuities.head(2000)
    interest, principal, _ = numpy_schedule(loans)
    ours = ac.schedule(loans).group_by("loan_id", maintain_order=True).agg("interest", "principal")
    for i, (interest_ours, principal_ours) in enumerate(
        zip(ours["interest"], ours["principal"], strict=True)
    ):
        n = len(interest_ours)
        assert max(abs(int(x * 100) - y) for x, y in zip(interest_ours, interest[:n, i], strict=True)) <= 1
        assert sum(int(x * 100) for x in principal_ours) == int(principal[:n, i].sum())


def test_floor_ratios_in_fresh_processes():
    """`make peers`' `--processes` rows: each fresh process's two floor ratios come back. (At a
    few thousand loans one timing of the floor, ≈ 0.1 ms, is noise: its value is not checked.)"""
    ratios = floor_ratios_in_processes(2_000, repeat=1, processes=2)
    assert {name: len(values) for name, values in ratios.items()} == {"generated": 2, "annuity": 2}
    assert all(0 < value < float("inf") for values in ratios.values() for value in values)
