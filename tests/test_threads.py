"""Pieces of a job side by side: in order, on the caller's thread count and context."""

import contextvars
import threading
import time

import numba
import pytest

from accrual.threads import side_by_side

ASKED = contextvars.ContextVar("asked", default="unset")


def test_pieces_run_at_once_in_order_with_the_callers_settings():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    threads = numba.get_num_threads()
    numba.set_num_threads(2)
    token = ASKED.set("caller")
    running, most = [0], [0]
    lock = threading.Lock()

    def piece(k: int) -> tuple[int, int, str, str]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # long enough for the other lane to start
        with lock:
            running[0] -= 1
        return k, numba.get_num_threads(), ASKED.get(), threading.current_thread().name

    try:
        out = side_by_side(piece, 5, lanes=2)
    finally:
        ASKED.reset(token)
        numba.set_num_threads(threads)
    assert [k for k, *_ in out] == list(range(5))
    assert all(n == 2 and asked == "caller" for _, n, asked, _ in out)
    assert most[0] == 2 and all(name.startswith("accrual-piece") for *_, name in out)


def test_one_thread_runs_the_pieces_in_turn_on_the_caller():
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        names = side_by_side(lambda k: threading.current_thread().name, 3)
    finally:
        numba.set_num_threads(threads)
    assert names == [threading.current_thread().name] * 3
