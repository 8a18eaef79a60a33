"""Parquet in and out: streaming record batches, atomic writes.

Outputs are written to a temporary file beside the target and renamed over it only when
complete, so an interrupted run leaves the previous file intact. Inputs are read file by file
in record batches (`ParquetFile.iter_batches`), so a book larger than memory streams through
with bounded memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import mmap
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

DEFAULT_BATCH_ROWS = 1_000_000


def iter_batches(
    path: str | os.PathLike[str], batch_rows: int = DEFAULT_BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """The rows of a Parquet file as polars DataFrames of at most `batch_rows` rows."""
    with pq.ParquetFile(path) as source:
        for batch in source.iter_batches(batch_size=batch_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame


def count_rows(path: str | os.PathLike[str]) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over it when the block ends without an error."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


class ParquetSink:
    """Appends DataFrames to one Parquet file, written atomically when closed without error."""

    def __init__(self, path: str | os.PathLike[str]):
        self._atomic = atomic_path(path)
        self._temporary = self._atomic.__enter__()
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, frame: pl.DataFrame) -> None:
        table = frame.to_arrow()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._temporary, table.schema)
        self._writer.write_table(table)
        self.rows += frame.height

    def close(self, error: BaseException | None = None) -> None:
        if self._writer is None and error is None:
            error = ValueError("nothing was written: the file would have no columns")
        if self._writer is not None:
            self._writer.close()
        if error is None:
            self._atomic.__exit__(None, None, None)
        elif not self._atomic.__exit__(type(error), error, error.__traceback__):
            raise error

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        self.close(error)


def write_parquet(frame: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write one DataFrame to Parquet atomically."""
    with atomic_path(path) as temporary:
        frame.write_parquet(temporary)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:  # pragma: no cover
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Give freed heap memory back to the OS (glibc `malloc_trim`); a no-op elsewhere.

    Arrays of a few MB come from the heap, and glibc keeps freed heap pages resident, so a big
    call's temporaries would otherwise add to the peak of everything allocated after them. Kept
    pages are what the next allocations reuse, though: a page handed back and touched again is a
    fresh page the OS must zero (on a VM that reports free memory to its host, as this
    project's does, after a host fault), so callers trim only after temporaries too large to keep.
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def huge_page_switch() -> Callable[[bool], bool] | None:
    """NumPy's switch for its huge-page advice (sets it, returns the setting before), where
    this NumPy has one: what `NUMPY_MADVISE_HUGEPAGE` sets at import."""
    core = np._core if hasattr(np, "_core") else np.core  # NumPy 2 / 1.26
    return getattr(core.multiarray, "_set_madvise_hugepage", None)


@contextlib.contextmanager
def small_pages() -> Iterator[None]:
    """NumPy's request for transparent huge pages on large arrays switched off inside the block
    (process-wide, as NumPy's own switch is), then restored.

    For a call whose outputs accumulate past what any earlier call freed (a book of more than
    `accrual.eod.SLICE_LOANS` loans): its pages are cold ones the OS must find and zero, and on a
    VM that reports free memory to its host, as this project's does, a cold huge page cost ≈ 3×
    a cold 4 KiB page per byte (a 10M-loan day: 4.7–5.0 s against 2.6–2.8 s, alternating).
    Memory recycled at once is the other way round (a huge page ≈ 4× cheaper), so calls of one
    slice keep NumPy's default.
    """
    switch = huge_page_switch()
    if switch is None:  # pragma: no cover - an older or newer NumPy without the switch
        yield
        return
    before = switch(False)
    try:
        yield
    finally:
        switch(before)


def sparse_empty(shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """An uninitialised array in its own anonymous mapping, for buffers sized by a generous
    estimate: pages never written are never allocated. (NumPy asks for transparent huge pages
    on large arrays, which would make every touched 2 MB resident.) Private, not the default
    shared mapping: its first writes fault in ≈ 35% faster (0.50 against 0.77 ms a MB here)."""
    count = int(np.prod(shape))
    nbytes = max(count * np.dtype(dtype).itemsize, 1)
    private = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_PRIVATE") else {}
    return np.frombuffer(mmap.mmap(-1, nbytes, **private), dtype=dtype, count=count).reshape(shape)
