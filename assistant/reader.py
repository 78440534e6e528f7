"""Reading documents: find files under a corpus folder, decode them, pick a title.

Reading is one small replaceable step so that other formats (PDF, HTML) can be added
later as readers that return the same `Document`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .errors import AssistantError
from .types import Document, Skipped

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".rst"})
MAX_FILE_BYTES = 20 * 1024 * 1024  # larger files are skipped with a reason, not read into memory

_WIKI_TITLE = re.compile(r"^\s*=\s*([^=\n].*?)\s*=\s*$")
_MD_TITLE = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$")


def iter_files(corpus: Path) -> Iterator[tuple[str, Path | None, str | None]]:
    """Yield (relative source, path, None) for candidate files or (source, None, reason) to skip.

    Symlinks are not followed: a link could point outside the corpus, and a citation must
    always name a file the user put in the corpus folder.
    """
    if not corpus.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus}")
    for root, dirs, files in os.walk(corpus, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(root) / name
            source = path.relative_to(corpus).as_posix()
            if path.is_symlink():
                yield source, None, "symbolic link (not followed)"
            elif path.suffix.lower() not in TEXT_SUFFIXES:
                yield source, None, f"unsupported file type '{path.suffix or name}'"
            else:
                yield source, path, None


def read_document(path: Path, source: str) -> Document | Skipped:
    """Decode one file; anything that is not usable text becomes a `Skipped` with the reason."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return Skipped(source, f"too large ({size // (1024 * 1024)} MiB > {MAX_FILE_BYTES // (1024 * 1024)} MiB limit)")
        raw = path.read_bytes()
    except FileNotFoundError:
        return Skipped(source, "vanished while indexing")
    except OSError as exc:
        return Skipped(source, f"unreadable ({exc.strerror or exc})")
    text, encoding = decode(raw)
    if text is None:
        return Skipped(source, "binary file")
    if not text.strip():
        return Skipped(source, "empty file")
    return Document(
        source=source,
        text=text,
        title=find_title(text, source),
        sha256=hashlib.sha256(raw).hexdigest(),
        encoding=encoding,
    )


def decode(raw: bytes) -> tuple[str | None, str]:
    """UTF-8 first, UTF-16/32 by BOM, then a legacy 8-bit encoding; None for binary data."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError:
                return None, codec
    if b"\x00" in raw[:8192]:
        return None, "binary"
    try:
        text, codec = raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, codec = raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, codec = raw.decode("latin-1"), "latin-1"
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls > 0.05 * min(len(text), 8192):
        return None, "binary"
    return text, codec


def find_title(text: str, source: str) -> str:
    """The document's own title line (`= Title =` or `# Title`), else a title from the file name."""
    for line in text.lstrip("\ufeff").splitlines()[:5]:
        if not line.strip():
            continue
        match = _WIKI_TITLE.match(line) or _MD_TITLE.match(line)
        if match and not line.lstrip().startswith("=="):
            return match.group(1).strip()
        break
    stem = Path(source).stem
    words = re.sub(r"[_\-]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else source
