"""Old import path of the encoders' names, kept so existing code keeps working.

`get_embedder` gives the ONNX encoder and `Embedder` was the torch one: the honest names are
`registry.get_encoder`, `torch_encoder.TorchEncoder` and `onnx_encoder.OnnxEncoder`, behind the
`base.Encoder` interface. New code imports those.
"""

from __future__ import annotations

from .base import DIMENSION, MODEL_NAME, MODEL_SHA256, Encoder, file_sha256, model_dir
from .registry import FAMILY, compatible, default_variant, get_encoder
from .torch_encoder import TorchEncoder

Embedder = TorchEncoder
get_embedder = get_encoder

__all__ = ["DIMENSION", "FAMILY", "MODEL_NAME", "MODEL_SHA256", "Embedder", "Encoder", "compatible",
           "default_variant", "file_sha256", "get_embedder", "model_dir"]
