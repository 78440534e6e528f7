"""Stable chunk ids: the same passage keeps its id across re-indexing (vectors are keyed in fingerprint.py)."""

from __future__ import annotations

import hashlib

from ..types import Chunk

_MASK = (1 << 63) - 1  # non-negative int64: FAISS, numpy, SQLite and Milvus all take it


def int63(text: str) -> int:
    """A 63-bit hash of a text (BLAKE2b): collisions are negligible below billions of keys."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big") & _MASK


def chunk_id(chunk: Chunk) -> int:
    """Stable id of a chunk: its document and exact span and text, so the same passage keeps its
    id across re-indexing and any change to it (or to where it stands) makes a new one."""
    return int63(f"{chunk.source}\0{chunk.start}\0{chunk.end}\0{chunk.text}")


def id_text(chunk_id_value: int) -> str:
    """The id as 16 hex digits for JSON (JavaScript numbers lose precision past 2**53)."""
    return f"{chunk_id_value:016x}"
