"""PLACEHOLDER until the `ann` branch lands: exact flat SQ8 index with the agreed interface."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

DIM = 384


@dataclass(frozen=True)
class DenseSettings:
    exact_below: int = 50_000

    def to_dict(self) -> dict:
        return asdict(self)


class DenseIndex:
    def __init__(self, index) -> None:
        self.index = index

    @property
    def kind(self) -> str:
        return "flat-sq8"

    @property
    def ntotal(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int, exclude: np.ndarray | None = None):
        import faiss

        params = None
        if exclude is not None and exclude.any():
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.flatnonzero(exclude).astype(np.int64)))
        k = min(k, self.ntotal)
        if k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores, rows = self.index.search(np.asarray(query, np.float32).reshape(1, -1), k, params=params)
        keep = rows[0] >= 0
        if exclude is not None and exclude.any():
            keep &= ~exclude[np.maximum(rows[0], 0)]
        return rows[0][keep].astype(np.int64), scores[0][keep]

    def reconstruct(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, DIM), np.float32)
        return self.index.reconstruct_batch(rows)

    def save(self, path: Path) -> None:
        import faiss

        with open(path, "wb") as handle:
            handle.write(faiss.serialize_index(self.index).tobytes())

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        import faiss

        return cls(faiss.read_index(str(path)))


def build_dense(vectors: np.ndarray, settings: DenseSettings = DenseSettings()) -> DenseIndex:
    import faiss

    index = faiss.IndexScalarQuantizer(DIM, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(vectors):
        index.train(vectors)
        index.add(vectors)
    return DenseIndex(index)


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float32)
    scale = np.abs(x).max(axis=1) / 127.0 if len(x) else np.zeros(0, np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    return np.round(x / scale[:, None]).astype(np.int8), scale


def dequantize_rows(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.asarray(codes, dtype=np.float32) * np.asarray(scales, dtype=np.float32)[:, None]
