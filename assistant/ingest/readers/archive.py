"""Zip containers (DOCX, XLSX, PPTX, ODF, EPUB) checked before any parser inflates them.

A 3 MB Word file can hold a `document.xml` that inflates to 1 GB, and a parser handed it
builds a tree many times that size. The zip's central directory states every member's size;
Python's `zipfile` (which python-docx, python-pptx and openpyxl read through) never returns
more bytes than the size stated, so checking the stated sizes bounds what any parser sees.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from ...config import MAX_EXPANDED_BYTES, MAX_MEMBERS, MAX_RATIO, RATIO_FLOOR

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: how Office stores a password-protected DOCX/XLSX/PPTX


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def zip_problem(raw: bytes, kind: str) -> str | None:
    """Why a zip-based file must not be parsed (encrypted, a bomb, too many members, not a zip), or None."""
    if raw.startswith(OLE_MAGIC) and "EncryptedPackage".encode("utf-16-le") in raw:
        return f"encrypted {kind} file (password-protected; save it without a password to index it)"
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return f"unreadable {kind} file (not a valid zip container)"
    if len(members) > MAX_MEMBERS:
        return f"unreadable {kind} file ({len(members):,} parts; the limit is {MAX_MEMBERS:,})"
    total = sum(m.file_size for m in members)
    if total > MAX_EXPANDED_BYTES:
        return f"expands past {_size(MAX_EXPANDED_BYTES)} ({_size(total)} inflated from {_size(len(raw))}; a zip bomb?)"
    for m in members:
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_RATIO * max(m.compress_size, 1):
            return (f"{m.filename[:80]} inflates {m.file_size // max(m.compress_size, 1):,} times "
                    f"(to {_size(m.file_size)}; the limit is {MAX_RATIO} times above {_size(RATIO_FLOOR)}): a zip bomb?")
    if any(m.flag_bits & 0x1 for m in members) or _odf_encrypted(raw, members):
        return f"encrypted {kind} file (password-protected; save it without a password to index it)"
    return None


def _odf_encrypted(raw: bytes, members: list[zipfile.ZipInfo]) -> bool:
    """Whether an OpenDocument file's manifest says its parts are encrypted (ODF encrypts inside the zip)."""
    manifest = next((m for m in members if m.filename == "META-INF/manifest.xml"), None)
    if manifest is None or manifest.file_size > 4 * 1024 * 1024:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return b"encryption-data" in archive.read(manifest)
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError, zlib.error):
        return False
