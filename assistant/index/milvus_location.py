"""Where a Milvus store lives: `milvus://HOST:PORT/COLLECTION` or `milvus-lite:PATH.db/COLLECTION`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import AssistantError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,180}")


@dataclass(frozen=True)
class MilvusLocation:
    """Where a Milvus store lives: a server URI (or a Milvus Lite `.db` file) and a collection name."""

    uri: str
    collection: str
    lite: bool

    def __str__(self) -> str:
        return f"milvus-lite:{self.uri}/{self.collection}" if self.lite else \
            f"milvus://{self.uri.removeprefix('http://')}/{self.collection}"


def parse_location(text: str) -> MilvusLocation | None:
    """`milvus://HOST:PORT/COLLECTION` or `milvus-lite:PATH.db/COLLECTION`; None for anything else
    (an index folder). A single slash after `milvus:` is accepted too, as a Path turns `//` into `/`."""
    if text.startswith("milvus-lite:"):
        path, _, name = text[len("milvus-lite:"):].rpartition("/")
        if not path.endswith(".db"):
            raise AssistantError(f"not a Milvus Lite location: {text!r} (expected milvus-lite:PATH.db/COLLECTION)")
        return MilvusLocation(path, _collection(name, text), lite=True)
    match = re.fullmatch(r"milvus:/{1,2}([^/]+)/([^/]*)", text)
    if text.startswith("milvus:"):
        if not match:
            raise AssistantError(f"not a Milvus location: {text!r} (expected milvus://HOST:PORT/COLLECTION)")
        host = match.group(1) if ":" in match.group(1) else f"{match.group(1)}:19530"
        return MilvusLocation(f"http://{host}", _collection(match.group(2), text), lite=False)
    return None


def _collection(name: str, text: str) -> str:
    if not _NAME.fullmatch(name):
        raise AssistantError(f"bad collection name in {text!r}: letters, digits and _ only, not starting with a digit")
    return name
