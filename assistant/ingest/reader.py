"""Reading documents: find files under a corpus folder, decode them, pick a title.

Reading is one small replaceable step so that other formats (PDF, HTML) can be added
later as readers that return the same `Document`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..config import MAX_FILE_BYTES
from ..errors import AssistantError
from ..text import SURROGATE
from ..types import Document, Skipped
from .readers import DECODED, SUFFIXES, extract_structured, format_of
from .structure import file_name_title, file_name_words, text_title

__all__ = ["decode", "file_name_title", "file_name_words", "file_sha256", "find_title", "iter_files",
           "read_document", "read_regular_file"]



def iter_files(corpus: Path) -> Iterator[tuple[str, Path | None, str | None]]:
    """Yield (relative source, path, None) for candidate files or (source, None, reason) to skip.

    Symbolic links (to files or folders) are not followed: a link could point outside the
    corpus, and a citation must always name a file the user put in the corpus folder.
    Hidden names (starting with ".") are ignored. Files come before subfolders, both sorted.
    """
    if not corpus.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus}")
    yield from _walk(corpus, corpus)


def _walk(folder: Path, corpus: Path) -> Iterator[tuple[str, Path | None, str | None]]:
    try:
        with os.scandir(folder) as scan:
            entries = sorted((e for e in scan if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        yield _printable(folder.relative_to(corpus).as_posix() + "/"), None, f"unreadable folder ({exc.strerror})"
        return
    folders = []
    for entry in entries:
        path = Path(entry.path)
        source = path.relative_to(corpus).as_posix()
        try:
            link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file(follow_symlinks=False)
        except OSError as exc:
            yield _printable(source), None, f"unreadable ({exc.strerror})"
            continue
        if _printable(source) != source:
            yield _printable(source), None, "file name is not valid UTF-8"
        elif link:
            yield source, None, "symbolic link (not followed)"
        elif is_dir:
            folders.append(path)
        elif not is_file:
            yield source, None, "not a regular file"
        elif path.suffix.lower() not in SUFFIXES:
            yield source, None, f"unsupported file type '{path.suffix or entry.name}'"
        else:
            yield source, path, None
    for path in folders:
        yield from _walk(path, corpus)


def _printable(name: str) -> str:
    """A file name that was not valid UTF-8 (undecodable bytes) shown with \\x escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_document(path: Path, source: str, allow_hard_links: bool = False) -> Document | Skipped:
    """Decode one file; anything that is not usable text becomes a `Skipped` with the reason.

    A regular file with more than one name (a hard link) is skipped unless allowed: another
    name of the same file can live outside the corpus (`ln /etc/passwd corpus/notes.txt`), and
    nothing in the corpus folder tells the two cases apart.
    """
    raw = read_regular_file(path, allow_hard_links)
    if isinstance(raw, str):
        return Skipped(source, raw)
    kind = format_of(Path(source).suffix) or "text"
    if kind not in DECODED:
        return _structured(kind, raw, source)
    text, encoding = decode(raw)
    if text is None:
        return Skipped(source, "binary file", _sha256(raw))
    if not text.strip():
        return Skipped(source, "empty file", _sha256(raw))
    return _structured(kind, raw, source, text, encoding)


def _structured(kind: str, raw: bytes, source: str, decoded: str | None = None,
                encoding: str | None = None) -> Document | Skipped:
    """A file through its format's reader; the reason it failed becomes the skip reason."""
    try:
        result = extract_structured(kind, raw if decoded is None else decoded, source)
    except MemoryError:
        raise  # the sandbox's memory limit: its worker names the limit (sandbox.py)
    except Exception as exc:  # noqa: BLE001 - a reader library's own bug must skip the file, not stop the run
        result = f"unreadable {kind} file ({exc.__class__.__name__})"
    if isinstance(result, str):
        return Skipped(source, result, _sha256(raw))
    builder, title = result
    # A surrogate a reader returns (PDFium's unpaired half of a glyph outside the BMP: Gothic letters in
    # Tika's testPDFVarious.pdf) made the tokenizer refuse the batch and end the run: each becomes
    # U+FFFD, one for one as pdftotext prints it, so every offset (char maps, blocks, pages) holds.
    text = SURROGATE.sub("\ufffd", builder.text())
    title = SURROGATE.sub("\ufffd", title) if title else title
    if not text.strip():
        return Skipped(source, "no text in this file", _sha256(raw))
    return Document(
        source=source, text=text, title=title or file_name_title(source),
        sha256=_sha256(raw), encoding=encoding or kind, format=kind,
        blocks=tuple(builder.blocks), pages=tuple(builder.pages), spans=tuple(builder.spans),
    )


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def file_sha256(path: Path, allow_hard_links: bool = False) -> str | None:
    """SHA-256 of a corpus file's bytes, opened with the same checks as for reading; None if it cannot be.

    Hashing parses nothing, so the indexing process may do it itself: it tells an unchanged file
    whose timestamp is not to be trusted from a changed one without handing it to a reader.
    """
    raw = read_regular_file(path, allow_hard_links)
    return None if isinstance(raw, str) else _sha256(raw)


def read_regular_file(path: Path, allow_hard_links: bool = False) -> bytes | str:
    """The file's bytes, or the reason it cannot be read.

    The checks are made on the opened file, not on its name, so a file swapped for a link,
    a pipe or a huge file after the folder was listed is still refused: O_NOFOLLOW refuses
    links, O_NONBLOCK stops a FIFO from blocking the open, and at most one byte more than the
    limit is ever read. The text and its SHA-256 come from the same bytes, so a file that
    changes while it is read is indexed as read and picked up by the next run.
    """
    limit = MAX_FILE_BYTES // (1024 * 1024)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return "vanished while indexing"
    except OSError as exc:
        return "symbolic link (not followed)" if os.path.islink(path) else f"unreadable ({exc.strerror or exc})"
    with open(fd, "rb") as handle:
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return "not a regular file"
            if info.st_nlink > 1 and not allow_hard_links:
                return (f"hard link (the file has {info.st_nlink} names; it may live outside the corpus; "
                        "--allow-hard-links indexes it)")
            if info.st_size > MAX_FILE_BYTES:
                return f"too large ({info.st_size / (1024 * 1024):.1f} MiB; the limit is {limit} MiB)"
            raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"
    if len(raw) > MAX_FILE_BYTES:
        return f"too large (grew past the {limit} MiB limit while being read)"
    return raw


def decode(raw: bytes) -> tuple[str | None, str]:
    """UTF-8 first, UTF-16/32 by BOM, UTF-16 by its NUL bytes, then a legacy 8-bit encoding; None for binary data."""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError:
                return None, codec
    if b"\x00" in raw[:8192]:
        return _bomless_utf16(raw)
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


def _bomless_utf16(raw: bytes) -> tuple[str | None, str]:
    """UTF-16 without a byte-order mark (Windows tools write it): mostly-ASCII text has a NUL in every
    other byte, at odd offsets for little-endian and even ones for big-endian. Else binary."""
    sample = raw[:8192 - 8192 % 2]
    pairs = len(sample) // 2
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    for codec, nuls, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if pairs >= 2 and len(raw) % 2 == 0 and nuls >= 0.3 * pairs and other <= 0.02 * pairs:
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None, "binary"
            controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
            return (None, "binary") if controls > 0.05 * min(len(text), 4096) else (text, codec)
    return None, "binary"


def find_title(text: str, source: str) -> str:
    """The document's own title (see structure.text_title), else one from the file name."""
    return text_title(text) or file_name_title(source)
