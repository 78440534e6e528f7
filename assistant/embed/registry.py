"""Which encoder a variant name means, and which variants make the same vectors.

The one place encoders are registered: `ENCODER_CLASSES` maps a variant (one of config.ENCODERS:
what the manifest records and `ASSISTANT_ENCODER` chooses) to the class that makes it, and `get_encoder` keeps one loaded
encoder per variant for the whole process, shared by all threads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial

from ..config import ENCODERS, env
from ..errors import AssistantError
from .base import Encoder
from .onnx_encoder import OnnxEncoder
from .torch_encoder import TorchEncoder

ENCODER_ENV = "ASSISTANT_ENCODER"  # fp32 (default), int8, or torch
ENCODER_CLASSES: dict[str, Callable[[], Encoder]] = {  # one for each name in config.ENCODERS
    "fp32": partial(OnnxEncoder, "fp32"),
    "int8": partial(OnnxEncoder, "int8"),
    "torch": TorchEncoder,
}
# fp32 ONNX gives the torch model's vectors (cosine 1.0000), so indexes of either serve questions
# encoded by the other; int8 vectors differ slightly and need an index built by int8.
FAMILY = {"torch": "fp32", "fp32": "fp32", "int8": "int8"}


def default_variant() -> str:
    variant = env(ENCODER_ENV)
    if variant not in ENCODER_CLASSES:
        raise AssistantError(f"{ENCODER_ENV}={variant!r} is not an encoder: choose {', '.join(ENCODERS[:-1])} or {ENCODERS[-1]}")
    return variant


def compatible(built_by: str, encoder_variant: str) -> bool:
    """Whether questions encoded by `encoder_variant` match vectors of an index built by `built_by`."""
    return FAMILY.get(built_by) == FAMILY.get(encoder_variant)


def get_encoder(variant: str | None = None) -> Encoder:
    """The one cached encoder of the process for this variant (default $ASSISTANT_ENCODER, else fp32)."""
    return _encoder(variant or default_variant())


@cache
def _encoder(variant: str) -> Encoder:
    if variant not in ENCODER_CLASSES:
        raise AssistantError(f"unknown encoder variant {variant!r}: choose one of {', '.join(ENCODERS)}")
    return ENCODER_CLASSES[variant]()
