"""The kernels' Numba cache is stamped with every kernel source: a change to a helper in one file
must recompile the kernels in other files that have its old code compiled in (numba#1833)."""

from __future__ import annotations

import importlib
import pkgutil

import accrual.kernels
import pytest
from accrual.kernels import _config
from accrual.kernels._config import LOCATORS, sources_stamp
from numba.core.dispatcher import Dispatcher


def kernels() -> list[Dispatcher]:
    found = []
    for module in pkgutil.iter_modules(accrual.kernels.__path__):
        loaded = importlib.import_module(f"accrual.kernels.{module.name}")
        found += [
            f for f in vars(loaded).values() if isinstance(f, Dispatcher) and f.__module__ == loaded.__name__
        ]
    return found


@pytest.mark.skipif(not _config.CACHE, reason="caching is off (ACCRUAL_NUMBA_CACHE=0)")
def test_every_kernel_cache_is_stamped_with_all_kernel_sources():
    every = kernels()
    assert len(every) > 50  # (all of them, not a handful)
    for kernel in every:
        locator = kernel._cache._impl.locator
        assert isinstance(locator, LOCATORS), kernel
        assert locator.get_source_stamp() == sources_stamp()


def test_the_stamp_changes_with_any_source(tmp_path):
    (tmp_path / "amortize.py").write_text("def step(): return 1\n")
    (tmp_path / "irr.py").write_text("from .amortize import step\n")
    (tmp_path / "notes.txt").write_text("not a source\n")
    first = sources_stamp(str(tmp_path))
    assert sources_stamp(str(tmp_path)) == first
    (tmp_path / "notes.txt").write_text("still not a source\n")
    assert sources_stamp(str(tmp_path)) == first
    (tmp_path / "amortize.py").write_text("def step(): return 2\n")  # the helper, not its caller's file
    second = sources_stamp(str(tmp_path))
    assert second != first
    (tmp_path / "dates.py").write_text("")
    assert sources_stamp(str(tmp_path)) not in (first, second)
