"""Index stores behind one interface (base.Store): an index folder, or a Milvus collection.

`open_store` is the one place that turns an index location into a store, so the CLI, the
Python API and the app take any location the same way; `open_writer` and `writing` do the same
for the indexer. Locations:
- a folder (the default `./index`): assistant/index/local.py;
- `milvus://HOST:PORT/COLLECTION`: a Milvus server or cluster (assistant/index/milvus.py);
- `milvus-lite:PATH.db/COLLECTION`: Milvus Lite, in this process, on one machine.
Milvus needs the optional extra: pip install 'assistant[cluster]'.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def milvus_location(location: str | os.PathLike):
    """The Milvus location named, or None for an index folder."""
    text = os.fspath(location)
    if not text.startswith(("milvus:", "milvus-lite:")):
        return None
    from .milvus_location import parse_location

    return parse_location(text)


def open_store(location: str | os.PathLike, for_update: bool = False):
    """The store at `location` (an index folder or a Milvus location)."""
    milvus = milvus_location(location)
    if milvus is not None:
        from .milvus import MilvusStore

        return MilvusStore.open(milvus, for_update=for_update)
    from .local import LocalStore

    return LocalStore.open(Path(location), for_update=for_update)


def open_writer(location: str | os.PathLike, base):
    """A writer for one commit to the store at `location`; `base` is its committed state or None."""
    milvus = milvus_location(location)
    if milvus is not None:
        from .milvus_writer import MilvusWriter

        return MilvusWriter(milvus, base)
    from .writer import LocalWriter

    return LocalWriter(Path(location), base)


def writing(location: str | os.PathLike):
    """Held while an indexer writes: the folder's lock. Milvus Lite locks its own data folder; a
    Milvus server takes one indexer at a time by convention (README)."""
    if milvus_location(location) is not None:
        return contextlib.nullcontext()
    from .folder import write_lock

    return write_lock(Path(location))


def verify(location: str | os.PathLike) -> dict:
    """Check every byte (a folder) or every row (Milvus) of the index; returns counts."""
    milvus = milvus_location(location)
    if milvus is not None:
        from .milvus_check import verify as verify_milvus

        return verify_milvus(milvus)
    from .local import verify as verify_local

    return verify_local(Path(location))
