"""Compile policy for every kernel, in one place.

- `cache=True`: compiled machine code is kept beside the sources, so a notebook or CLI pays
  the compile once per machine, not once per process.
- `fastmath=False`: never on money; reassociation would change roundings.
- `error_model="numpy"`: no Python exception checks on integer division; kernels guarantee
  non-zero denominators themselves (validation rejects the inputs that could make one).
- `parallel=True` for loan-parallel kernels; `ACCRUAL_PARALLEL=0` turns it off, and the chunk
  threads of `accrual.threads` too (for profiling or for platforms without a threading layer);
  `ACCRUAL_NUMBA_CACHE=0` turns caching off.
  Serial builds of the parallel kernels are never cached: Numba's cache key does not hold the
  `parallel` flag, so a cached parallel build would be loaded in their place.
"""

import os

from numba import njit

CACHE = os.environ.get("ACCRUAL_NUMBA_CACHE", "1") != "0"
PARALLEL = os.environ.get("ACCRUAL_PARALLEL", "1") != "0"

_COMMON = {"cache": CACHE, "fastmath": False, "nogil": True, "error_model": "numpy"}


def jit(fn):
    """Compile a scalar helper (inlined into the kernels that call it), or a serial kernel."""
    return njit(**_COMMON)(fn)


def inline_jit(fn):
    """Compile a helper inlined into its caller's IR: no call, and the caller's constants fold
    through it. Each *array* argument of an inlined helper, and each view of an array (`a[k]`),
    may cost an atomic reference-count increment and decrement per call, on a counter every
    thread shares: Numba's refcount pruning removes them in small straight code but often not
    across the branches of a big kernel. A real call's callee increfs its array arguments at entry
    the same way, pruned only when it is small. So hot per-loan helpers take scalars, or loop
    over a block of loans inside one call; check the IR (`inspect_llvm`) for `NRT_incref`."""
    return njit(inline="always", **_COMMON)(fn)


def parallel_jit(fn):
    """Compile a loan-parallel kernel: its `prange` loops run on all cores."""
    return njit(parallel=PARALLEL, **{**_COMMON, "cache": CACHE and PARALLEL})(fn)
