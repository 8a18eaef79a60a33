"""Chunks of loans on all cores, from Python threads: every kernel releases the GIL (`nogil`).

The big per-loan kernels (`fill_schedule`, `fill_remaining`, `service_chunk`, `fill_cost`,
`fill_smart_prepay`, and the stress kernels over chunks or path groups) are serial over a range,
and run here chunk by chunk. A `prange` over the chunks would do the same
work, but Numba optimises a parallel kernel's module again with every function inlined into
it: ≈ 7 s of `accrue`'s 22–24 s first-call compile, ≈ 0.4 s of `schedule`'s 8 s, for no speed.
`ACCRUAL_PARALLEL=0` runs the chunks in turn on the calling thread.

>>> from accrual.threads import over_chunks
>>> over_chunks(lambda lo, hi, scale: int(hi - lo) * scale, 3, 10)  # 3 loans: a chunk each
[10, 10, 10]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numba
import numpy as np

from accrual.kernels._config import PARALLEL

T = TypeVar("T")


@functools.cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="accrual")


def in_parallel(work: Callable[[int], T], count: int) -> list[T]:
    """[work(0), …, work(count - 1)], run on `numba.get_num_threads()` threads."""
    workers = min(count, numba.get_num_threads()) if PARALLEL else 1
    if workers <= 1:
        return [work(c) for c in range(count)]
    return list(_pool(workers).map(work, range(count)))


def behind(pool: ThreadPoolExecutor, work: Callable[..., T], *arguments: object) -> Future[T]:
    """work(*arguments) on `pool`, with the calling thread's Numba thread count (it is per thread:
    a pool thread would otherwise take every core whatever the caller set)."""
    threads = numba.get_num_threads()

    def run() -> T:
        numba.set_num_threads(threads)
        return work(*arguments)

    return pool.submit(run)


def chunk_bounds(n: int) -> np.ndarray:
    """Bounds of the chunks of n loans: a few per thread, so uneven loans balance out."""
    count = max(1, min(n, 8 * numba.get_num_threads()))
    return np.linspace(0, n, count + 1).astype(np.int64)


def over_chunks(kernel: Callable[..., T], n: int, *arguments: object) -> list[T]:
    """kernel(lo, hi, *arguments) for the chunks lo:hi of n loans, on all cores."""
    bounds = chunk_bounds(n)
    return in_parallel(lambda c: kernel(bounds[c], bounds[c + 1], *arguments), bounds.shape[0] - 1)
