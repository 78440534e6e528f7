"""The dense vector index of one segment: exact below a measured size, IVF above it.

Both kinds keep ONE compressed copy of the vectors (8-bit scalar quantization, 384 bytes a
vector at dimension 384) and nothing else, so `reconstruct` gives the vectors back for exact
re-scoring of keyword candidates and for merging segments. Labels are row positions 0..n-1;
mapping rows to stable chunk ids is the store's job. The choice of kind and parameters is
measured in BENCHMARKS.md ("Approximate dense search", made by eval/ann_sweep.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..config import QUANTIZERS, DenseSettings  # noqa: F401 - QUANTIZERS: importable from here as before
from .spill import RowFile, batches

# After faiss's bytes: a magic and their length, so a truncated file is caught at open without reading it.
_FOOTER_MAGIC = b"ASSTDNS1"
_FOOTER_SIZE = 16


def _faiss():
    import faiss  # heavy: imported only when an index is built or opened

    return faiss


class DenseIndex:
    """One segment's vectors behind a faiss index; rows are labels 0..ntotal-1."""

    def __init__(self, index, kind: str) -> None:
        self.index = index
        self.kind = kind

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    def describe(self) -> dict:
        """Kind and the parameters that decide search cost and recall, for the manifest."""
        info = {"kind": self.kind, "ntotal": self.ntotal, "dimension": self.dimension}
        if self.kind.startswith("ivf"):
            info.update(nlist=int(self.index.nlist), nprobe=int(self.index.nprobe))
        return info

    def search(self, query: np.ndarray, k: int, exclude: np.ndarray | None = None,
               nprobe: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows and inner-product scores, best first; rows marked True in `exclude` never come back."""
        faiss = _faiss()
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        k = min(int(k), self.ntotal)
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        kwargs = {}
        bitmap = None
        if exclude is not None:
            exclude = np.asarray(exclude, dtype=bool)
            if exclude.shape != (self.ntotal,):
                raise ValueError(f"exclude has {exclude.shape[0]} flags for {self.ntotal} rows")
            if exclude.any():
                # The bitmap selects the rows that may be returned (bit set = kept), little-endian bits.
                bitmap = np.packbits(~exclude, bitorder="little")
                kwargs["sel"] = faiss.IDSelectorBitmap(self.ntotal, faiss.swig_ptr(bitmap))
        if self.kind.startswith("ivf"):
            if nprobe is not None:
                kwargs["nprobe"] = int(nprobe)
            params = faiss.SearchParametersIVF(**kwargs) if kwargs else None
        else:
            params = faiss.SearchParameters(**kwargs) if kwargs else None
        scores, rows = self.index.search(query, k, params=params)
        del bitmap  # the selector points into it: kept alive until the search is done
        keep = rows[0] >= 0
        return rows[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        """The stored (SQ8-decoded) vectors of `rows`, float32 (len(rows), d)."""
        rows = np.ascontiguousarray(rows, dtype=np.int64).reshape(-1)
        if rows.size == 0:
            return np.empty((0, self.dimension), np.float32)
        if rows.min() < 0 or rows.max() >= self.ntotal:
            raise IndexError(f"row out of range 0..{self.ntotal - 1}")
        return np.asarray(self.index.reconstruct_batch(rows), dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write the index to `path` through a Python file handle, so a failed write is an OSError."""
        data = _faiss().serialize_index(self.index)
        with open(path, "wb") as handle:
            handle.write(memoryview(data))
            handle.write(_FOOTER_MAGIC + len(data).to_bytes(8, "little"))

    @classmethod
    def load(cls, path: Path, mmap: bool = True) -> DenseIndex:
        """Open a saved index; the codes stay memory-mapped where faiss allows it (fast open, little RSS).

        A truncated or corrupt file raises RuntimeError (from faiss) or ValueError.
        """
        faiss = _faiss()
        path = Path(path)
        _check_footer(path)
        index = None
        if mmap:
            try:
                index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
            except RuntimeError:
                index = None  # this faiss cannot map the type (or the file is bad: the plain read says which)
        if index is None:
            index = faiss.read_index(str(path), faiss.IO_FLAG_READ_ONLY)
        return cls(index, _kind_of(faiss, index))


def _check_footer(path: Path) -> None:
    """Refuse a truncated file before faiss sees it: faiss's mapped reader accepts a few missing bytes."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size >= _FOOTER_SIZE:
            handle.seek(size - _FOOTER_SIZE)
        footer = handle.read(_FOOTER_SIZE)
    if (len(footer) != _FOOTER_SIZE or footer[:8] != _FOOTER_MAGIC
            or int.from_bytes(footer[8:], "little") != size - _FOOTER_SIZE):
        raise ValueError(f"{path.name} is truncated or not a dense index file ({size} bytes)")


def _kind_of(faiss, index) -> str:
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return "ivf-sq8"
    if isinstance(index, faiss.IndexIVFPQ):
        return "ivf-pq"
    if isinstance(index, faiss.IndexScalarQuantizer):
        return "flat-sq8"
    if isinstance(index, faiss.IndexFlat):
        return "flat"
    raise ValueError(f"unsupported dense index type {type(index).__name__}")


def build_dense(vectors, settings: DenseSettings | None = None) -> DenseIndex:
    """Index unit rows for inner-product search: exact flat SQ8 below `exact_below`, else IVF.

    `vectors` is an array or a spill.RowFile; either is read a batch at a time, so building holds
    the index's codes (384 bytes a vector) and one batch, never every float32 vector at once.
    """
    faiss = _faiss()
    settings = settings or DenseSettings()
    n, d = len(vectors), int(np.shape(vectors[0:0])[1])
    metric = faiss.METRIC_INNER_PRODUCT
    nlist = settings.nlist(n)
    if n < max(settings.exact_below, 40 * nlist):  # k-means needs ~40 points a list to be worth it
        index = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, metric)
        if n:
            # SQ8 trains each dimension's range (min, max) only: two rows holding the column minima
            # and maxima train it exactly as all n rows do (same bytes), without holding them.
            low, high = np.full(d, np.inf, np.float32), np.full(d, -np.inf, np.float32)
            for _, part in batches(vectors):
                low, high = np.minimum(low, part.min(axis=0)), np.maximum(high, part.max(axis=0))
            index.train(np.stack([low, high]))
            _add(index, vectors)
        return DenseIndex(index, "flat-sq8")
    coarse = faiss.IndexFlatIP(d)
    if settings.quantizer == "sq8":
        index = faiss.IndexIVFScalarQuantizer(coarse, d, nlist, faiss.ScalarQuantizer.QT_8bit, metric)
    else:
        index = faiss.IndexIVFPQ(coarse, d, nlist, settings.pq_m, 8, metric)
    index.own_fields = True
    coarse.this.disown()
    index.cp.seed = settings.seed
    rng = np.random.default_rng(settings.seed)
    sample = np.sort(rng.choice(n, size=settings.train_size(n), replace=False))  # at most train_max rows
    index.train(vectors.take(sample) if isinstance(vectors, RowFile) else np.asarray(vectors[sample], np.float32))
    _add(index, vectors)
    index.nprobe = min(settings.nprobe, nlist)
    index.make_direct_map()  # reconstruct by row; serialized with the index
    return DenseIndex(index, "ivf-sq8" if settings.quantizer == "sq8" else "ivf-pq")


def _add(index, vectors) -> None:
    """Add every row a batch at a time (each row's code depends only on the row: same bytes as at once)."""
    for _, part in batches(vectors):
        index.add(np.ascontiguousarray(part, dtype=np.float32))


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes with one symmetric scale per row (max |x| / 127): 384 + 4 bytes a sentence vector."""
    x = np.asarray(x, dtype=np.float32)
    scales = np.abs(x).max(axis=1) / 127.0 if x.size else np.zeros(len(x), np.float32)
    safe = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return codes, scales.astype(np.float32)


def dequantize_rows(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.asarray(codes, dtype=np.float32) * np.asarray(scales, dtype=np.float32)[:, None]


def synthetic_vectors(n: int, seed: int, base: np.ndarray, noise: float = 0.35, mix: float = 0.6,
                      block: int = 100_000) -> np.ndarray:
    """n realistic unit vectors from real embeddings `base`: normalize(a + t*b + noise), t in [0, mix).

    Each is a point between two real vectors, blurred, so the set has the topical cluster
    structure of real text (pure Gaussian noise has none and makes IVF look far worse than it
    is). Queries are drawn the same way with another seed.
    """
    rng = np.random.default_rng(seed)
    base = np.asarray(base, dtype=np.float32)
    out = np.empty((n, base.shape[1]), np.float32)
    for lo in range(0, n, block):
        m = min(block, n - lo)
        a = base[rng.integers(0, len(base), m)]
        b = base[rng.integers(0, len(base), m)]
        t = rng.uniform(0.0, mix, (m, 1)).astype(np.float32)
        g = rng.standard_normal((m, base.shape[1]), dtype=np.float32) * (noise / math.sqrt(base.shape[1]))
        x = a + t * b + g
        out[lo:lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out
