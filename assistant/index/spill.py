"""Vectors of a build kept on disk, not in memory: a first build's memory does not grow with its corpus.

A `RowFile` is an ordinary `.npy` file (numpy's open format, readable with `np.load`) written row
by row as the encoder produces vectors and read back a bounded batch at a time by whoever commits
them (the local segment writer, the Milvus writer). Rows go through plain `pwrite`/`pread`, not a
memory map: a map's touched pages count as the process's resident memory until it is closed, so a
mapped spill of a million vectors would look (and, under pressure, act) like holding them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import AssistantError

BATCH_ROWS = 4096  # rows read back at once: 6 MiB of float32 vectors at dimension 384


class SpillError(OSError):
    """Writing the spill failed (a full disk, a read-only folder): the build stops, the index is untouched."""


@contextlib.contextmanager
def spill_folder(parent: Path | None, index: object) -> Iterator[Path]:
    """A new `spill-*.tmp` folder in `parent` (the system's temporary folder when None), removed after;
    a SpillError inside is reported as the index at `index` not written, and unchanged.

    In an index folder the name ends in `.tmp`, so a killed build's leftover is removed by the
    next commit's clean-up like any unfinished segment; readers never look at it.
    """
    folder = None
    try:
        try:
            folder = Path(tempfile.mkdtemp(prefix="spill-", suffix=".tmp", dir=parent))
        except OSError as exc:
            raise SpillError(exc.errno, exc.strerror, exc.filename) from exc
        yield folder
    except SpillError as exc:
        raise AssistantError(f"could not write the index at {index} ({exc.strerror or exc}); "
                             "the previous index is unchanged") from exc
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


class RowFile:
    """A (rows, width) array in an `.npy` file, filled by row and read back by ranges of rows."""

    def __init__(self, path: Path, rows: int, width: int, dtype) -> None:
        """Create the file at `path`, all zeros (a sparse file: the rows cost no disk until written)."""
        self.path, self.dtype = Path(path), np.dtype(dtype)
        self.shape = (int(rows), int(width)) if width else (int(rows),)
        self.row_bytes = self.dtype.itemsize * max(int(width), 1)
        self._fd = -1
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
        try:
            with open(self.path, "wb") as handle:
                np.lib.format.write_array_header_1_0(handle, header)
                self.offset = handle.tell()
                handle.truncate(self.offset + int(rows) * self.row_bytes)
            self._fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise SpillError(exc.errno, exc.strerror, exc.filename) from exc

    def __len__(self) -> int:
        return self.shape[0]

    def write(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Put `values[i]` at row `rows[i]` (runs of consecutive rows in one write each)."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        values = np.ascontiguousarray(values, dtype=self.dtype).reshape(len(rows), *self.shape[1:])
        order = np.argsort(rows, kind="stable")
        rows, values = rows[order], values[order]
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, len(rows)], strict=True):
            if hi > lo:
                data = values[lo:hi].tobytes()
                try:
                    written = os.pwrite(self._fd, data, self.offset + int(rows[lo]) * self.row_bytes)
                except OSError as exc:
                    raise SpillError(exc.errno, exc.strerror, str(self.path)) from exc
                if written != len(data):
                    raise SpillError(28, "short write (is the disk full?)", str(self.path))

    def __getitem__(self, key) -> np.ndarray:
        """Rows `lo:hi` (a slice with step 1) or one row (an int), read from the file into a new array."""
        if isinstance(key, slice):
            lo, hi, step = key.indices(len(self))
            if step != 1:
                raise ValueError("a RowFile reads ranges of rows only")
        else:
            lo = int(key) + (len(self) if int(key) < 0 else 0)
            return self[lo:lo + 1][0]
        n = max(hi - lo, 0)
        data = os.pread(self._fd, n * self.row_bytes, self.offset + lo * self.row_bytes)
        return np.frombuffer(bytearray(data), dtype=self.dtype).reshape(n, *self.shape[1:])

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The given rows (sorted or not; scattered, as an IVF training sample), one read each."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((len(rows), *self.shape[1:]), self.dtype)
        for n, row in enumerate(rows):
            out[n] = self[int(row)]
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()


def batches(rows, size: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) of an in-memory array or a RowFile, `size` (BATCH_ROWS) rows at a time."""
    size = size or BATCH_ROWS
    for lo in range(0, len(rows), size):
        yield lo, np.asarray(rows[lo:lo + size])


def each_row(rows, size: int | None = None) -> Iterator[np.ndarray]:
    """The rows one by one, read `size` at a time (a RowFile is not read a row per call)."""
    for _, part in batches(rows, size):
        yield from part


def save_rows(path: Path, rows, dtype) -> None:
    """`np.save` of an in-memory array or a RowFile, written a batch at a time."""
    dtype = np.dtype(dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": (len(rows), *np.shape(rows[0:0])[1:])}
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        for _, part in batches(rows):
            handle.write(np.ascontiguousarray(part, dtype=dtype).tobytes())
