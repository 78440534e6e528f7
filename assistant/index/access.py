"""Collections and who may read them: each top-level folder of the corpus is a collection, files
at its root are in `shared`.

Ingest, the stores and the API all name a document's collection with `collection_of`, so there
is one rule. An `Allowed` is the set of collections a caller may read; the stores apply it inside
search (index/base.py), so the top k are filled from permitted documents and nothing of another
collection reaches scores, statistics or messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import AssistantError

SHARED = "shared"  # the collection of files at the corpus root
VIEWS = 64  # what is made per Allowed (a view, its keyword search, its sources) is kept for this many sets


def collection_of(source: str) -> str:
    """The collection of a corpus-relative source ("hr/pay/2024.pdf" -> "hr", "notes.md" -> "shared")."""
    head, slash, _ = source.partition("/")
    return head if slash else SHARED


@dataclass(frozen=True)
class Allowed:
    """The collections a caller may read; hashable, so stores cache what they compute for it."""

    collections: frozenset[str]

    def permits(self, source: str) -> bool:
        return collection_of(source) in self.collections


def allowed_from(collections: Iterable[str] | None) -> Allowed | None:
    """An Allowed from collection names (None: everything, no filter); bad input is an AssistantError.

    A name with no documents is accepted and simply permits nothing, so a person granted a
    collection that is empty today is not told an error.
    """
    if collections is None:
        return None
    if isinstance(collections, (str, bytes)) or not isinstance(collections, Iterable):
        raise AssistantError("collections must be a list of collection names")
    names = set()
    for name in collections:
        if not isinstance(name, str) or not name.strip() or "/" in name or "\\" in name:
            raise AssistantError(f"not a collection name: {str(name)[:100]!r} (a top-level folder, or {SHARED!r})")
        names.add(name.strip())
    return Allowed(frozenset(names))


def parse_collections(text: str | None) -> Allowed | None:
    """`--collections hr,shared` as the CLI takes it (None: every collection)."""
    if text is None:
        return None
    return allowed_from([name for name in text.split(",") if name.strip()] or [""])
