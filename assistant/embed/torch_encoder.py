"""The torch encoder (sentence-transformers): the reference the ONNX export is checked against,
and a fallback (`ASSISTANT_ENCODER=torch`). Importing torch costs seconds and hundreds of MiB,
so nothing on the query path uses it unless asked to."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ..errors import AssistantError
from .base import DIMENSION, MODEL_NAME, MODEL_SHA256, WEIGHTS, check_weights, model_dir


class TorchEncoder:
    """Normalized sentence embeddings with torch; `encode` is safe to call from many threads."""

    name = MODEL_NAME
    sha256 = MODEL_SHA256
    dimension = DIMENSION
    variant = "torch"

    def __init__(self, path: Path | None = None) -> None:
        path = path or model_dir()
        weights = path / WEIGHTS
        if not weights.is_file():
            raise AssistantError(f"model weights not found at {weights}")
        check_weights(weights)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # "Loading weights" bars are noise in a CLI
        hf_logging.set_verbosity_error()

        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """float32 array (n, 384) of unit vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:  # torch modules are not re-entrant across threads
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
