"""Old import path of the ONNX encoder's names (now onnx_encoder.py, and ENCODER_ENV in
registry.py), kept so existing code keeps working. New code imports those modules."""

from __future__ import annotations

from .onnx_encoder import CACHE_ENV, EXPORTER_VERSION, MAX_TOKENS, VARIANTS, OnnxEncoder, cache_dir, ensure_export
from .registry import ENCODER_ENV

__all__ = ["CACHE_ENV", "ENCODER_ENV", "EXPORTER_VERSION", "MAX_TOKENS", "VARIANTS", "OnnxEncoder", "cache_dir",
           "ensure_export"]
