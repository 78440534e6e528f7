"""A build's vectors in the new segment's order, on disk as they are made (assistant/index/spill.py).

Chunk vectors (float32) and sentence codes (int8, quantized as each batch arrives) are written to
row files in a scratch folder: reused vectors first, copied a batch at a time from the base index,
then each batch the encoder returns. The writer reads them back a batch at a time, so a first
build holds one batch of vectors, not ~3 kB a passage until the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..embed.base import DIMENSION
from ..index.base import VectorsByContent
from ..index.dense import quantize_rows
from ..index.spill import BATCH_ROWS, RowFile, batches


@dataclass
class BuildVectors:
    """Row files of one commit's chunk vectors and sentence codes, and where embedded texts go in them.

    Texts to embed are numbered as embed_all numbers them: the chunk texts (`chunk_rows` says
    which chunk each one is), then the sentences (`sentence_rows`).
    """

    vectors: RowFile  # float32 (chunks, dim), chunk order
    codes: RowFile  # int8 (sentences, dim), sentence order
    scales: np.ndarray  # float32 (sentences,): 4 bytes a sentence, kept in memory
    chunk_rows: np.ndarray
    sentence_rows: np.ndarray

    @classmethod
    def create(cls, folder: Path, reuse: VectorsByContent, vec_keys: list[int], sentence_keys: list[int],
               chunk_todo: list[int], sentence_todo: list[int]) -> BuildVectors:
        """Row files in `folder`, holding already the vectors `reuse` keeps for unchanged texts."""
        out = cls(RowFile(folder / "vectors.npy", len(vec_keys), DIMENSION, np.float32),
                  RowFile(folder / "sentences.npy", len(sentence_keys), DIMENSION, np.int8),
                  np.ones(len(sentence_keys), np.float32), np.asarray(chunk_todo, np.int64),
                  np.asarray(sentence_todo, np.int64))
        for lo in range(0, len(vec_keys), BATCH_ROWS):
            keys = vec_keys[lo:lo + BATCH_ROWS]
            found = [n for n, key in enumerate(keys) if reuse.has_chunk(key)]
            if found:
                out.vectors.write(lo + np.array(found), reuse.chunk_vectors([keys[n] for n in found]))
        for lo in range(0, len(sentence_keys), BATCH_ROWS):
            keys = sentence_keys[lo:lo + BATCH_ROWS]
            found = [n for n, key in enumerate(keys) if reuse.has_sentence(key)]
            if found:
                codes, scales = reuse.sentence_codes([keys[n] for n in found])
                out.codes.write(lo + np.array(found), codes)
                out.scales[lo + np.array(found)] = scales
        return out

    def put(self, rows: np.ndarray, fresh: np.ndarray) -> None:
        """Store the vectors of embedded texts `rows` (embed_all's numbering) where they belong."""
        rows, fresh = np.asarray(rows, np.int64), np.asarray(fresh, np.float32)
        chunk = rows < len(self.chunk_rows)
        if chunk.any():
            self.vectors.write(self.chunk_rows[rows[chunk]], fresh[chunk])
        if not chunk.all():
            codes, scales = quantize_rows(fresh[~chunk])
            where = self.sentence_rows[rows[~chunk] - len(self.chunk_rows)]
            self.codes.write(where, codes)
            self.scales[where] = scales

    def put_all(self, fresh) -> None:
        """Every embedded text's vector, in order (an engine's whole output), a batch at a time."""
        for lo, part in batches(fresh):
            self.put(np.arange(lo, lo + len(part)), part)

    def close(self) -> None:
        self.vectors.close()
        self.codes.close()
