"""Offline question answering over a folder of documents, with exact citations."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Assistant", "Passage", "Reply", "AssistantError", "__version__"]


def __getattr__(name: str):
    # Lazy, so `assistant --help` answers at once without importing torch.
    if name == "Assistant":
        from .api import Assistant

        return Assistant
    if name in ("Passage", "Reply"):
        from . import types

        return getattr(types, name)
    if name == "AssistantError":
        from .errors import AssistantError

        return AssistantError
    raise AttributeError(name)
