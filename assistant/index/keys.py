"""Every key the index stores, in one family: chunk ids, the store's row keys, and content keys.

Ids and row keys are 63-bit BLAKE2b hashes of a text naming the thing (`int63`): a chunk by its
document, span and text, so the same passage keeps its id across re-indexing; a document, a
blob, a chunk's n-th sentence or a blob's n-th part by their own names. Content keys are SHA-256
of the exact string given to the encoder (`content_hash`), so a vector can be reused whenever
that string recurs (ingest/fingerprint.py makes the string).
"""

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


def doc_key(source: str) -> int:
    """A document's key in a store's rows (Milvus: its chunks' `doc` field and its blob)."""
    return int63(f"doc\0{source}")


def chunk_blob_key(chunk_id_value: int) -> int:
    """The key of a chunk body too long for its row, stored as a blob instead."""
    return int63(f"chunk\0{chunk_id_value}")


def nth_key(key: int, n: int) -> int:
    """The key of the n-th row belonging to `key`: a chunk's n-th sentence, a blob's n-th part."""
    return int63(f"{key}\0{n}")


MANIFEST_KEY = int63("manifest\0")


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of a string given to the encoder: its vector's key.

    The encoder is deterministic on its input string (tokenizing, truncating at the model's
    length, pooling and normalizing all happen inside it), so two equal strings have the same
    vector under the same encoder; the key says nothing about the encoder, whose identity the
    manifest checks before anything is reused.
    """
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def content_hash64(text: str) -> int:
    """The first 8 bytes of `content_hash` as a signed int64, for a compact numpy column of keys.

    Two different texts share a key with probability about n^2 / 2^65: about one in a million
    for six million texts (a million chunks and their sentences). Use `content_hash` where a
    wrong vector must be impossible rather than unlikely.
    """
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little", signed=True)
