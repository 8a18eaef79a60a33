"""Chunks of loans on all cores, from Python threads: every kernel releases the GIL (`nogil`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numba

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
