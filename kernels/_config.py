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
- Every kernel's cache is stamped with the sources of *all* the kernels, not only its own file.
  Numba compiles a kernel's callees into its cached code but checks only the kernel's own file,
  so after a change to a helper in another file (an upgrade, a `git pull`) it would go on running
  the helper's old code (numba#1833): silently wrong money. A change to any kernel file now
  recompiles them all, once.
"""

import functools
import hashlib
import os

from numba import njit
from numba.core import caching

KERNELS = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _digest(directory: str, stats: tuple) -> bytes:
    # keyed on each file's (name, mtime, size), so a file that changes in a running process is read again
    digest = hashlib.sha256()
    for name, _, _ in stats:
        with open(os.path.join(directory, name), "rb") as source:
            digest.update(name.encode() + b"\0" + source.read())
    return digest.digest()


def sources_stamp(directory: str = KERNELS) -> bytes:
    """A digest of every Python source in `directory`: the cache stamp of every kernel in it.

    >>> sources_stamp() == sources_stamp()
    True
    """
    names = sorted(name for name in os.listdir(directory) if name.endswith(".py"))
    stats = tuple(
        (name, st.st_mtime_ns, st.st_size)
        for name in names
        for st in [os.stat(os.path.join(directory, name))]
    )
    return _digest(directory, stats)


class _AllKernelSources:
    """Cache locator mixin: kernels (functions defined in `KERNELS`) stamped by `sources_stamp`."""

    def get_source_stamp(self) -> bytes:
        return sources_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):  # type: ignore[no-untyped-def]
        if os.path.dirname(os.path.abspath(py_file)) != KERNELS:
            return None  # (anything else: Numba's own locators)
        return super().from_function(py_func, py_file)  # type: ignore[misc]


class KernelsInTree(_AllKernelSources, caching.InTreeCacheLocator):
    """The kernels' cache in their `__pycache__`, as Numba keeps it."""


class KernelsInCacheDir(_AllKernelSources, caching.UserProvidedCacheLocator):
    """The kernels' cache under `NUMBA_CACHE_DIR`, when it is set."""


class KernelsUserWide(_AllKernelSources, caching.UserWideCacheLocator):
    """The kernels' cache in the user's cache directory, when their `__pycache__` is read-only."""


LOCATORS = (KernelsInCacheDir, KernelsInTree, KernelsUserWide)
# Ahead of Numba's own locators, in Numba's order (a user's NUMBA_CACHE_DIR first).
caching.CacheImpl._locator_classes[:0] = LOCATORS

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
