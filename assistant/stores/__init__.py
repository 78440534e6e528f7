"""Index stores behind one interface (base.Store): local files today, a Milvus collection next.

`open_store` is the one place that turns an index location into a store, so the CLI, the
Python API and the app take any location the same way.
"""

from __future__ import annotations

import os
from pathlib import Path


def open_store(location: str | os.PathLike, for_update: bool = False):
    """The store at `location` (an index folder)."""
    from .local import LocalStore

    return LocalStore.open(Path(location), for_update=for_update)
