"""The manifest: the one file that says what the index is, and its only commit point.

`manifest.json` names the live segments (assistant/index/segment.py), the documents deleted from
each, every file's size and checksums, and what built it (model, encoder, chunking fingerprint,
keyword and dense settings, the reading worker's limits: assistant/config.py). Fields are only
ever added, and read with .get(), so an older manifest without one still opens. A writer
replaces it with `os.replace`, so a reader sees the old index or the new one, never a mix. It
carries its own SHA-256.

Integrity at open costs no more than a few megabytes of reading whatever the index size: every
file's size, and the SHA-256 of files up to FULL_CHECK_BYTES or of the first and last
EDGE_BYTES of larger ones (a truncated, extended or torn file shows there). `verify` reads
every byte, as `assistant verify` and the app's background check do.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..embed.embedder import MODEL_NAME, MODEL_SHA256, file_sha256
from ..errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from .folder import MANIFEST

FORMAT = "assistant-index"
FORMAT_VERSION = 3
REBUILD_HINT = "rebuild it with: assistant index --corpus CORPUS --index {index}"
FULL_CHECK_BYTES = 16 << 20
EDGE_BYTES = 1 << 20
SEGMENT = re.compile(r"seg-[0-9A-Za-z-]+")


def manifest_sha256(manifest: dict) -> str:
    """Checksum of the manifest's own content (every key but this one), canonical JSON."""
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def edges_sha256(path: Path, size: int) -> str:
    """SHA-256 of a file's first and last EDGE_BYTES (the whole file when it is small)."""
    if size <= FULL_CHECK_BYTES:
        return file_sha256(path)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        digest.update(handle.read(EDGE_BYTES))
        handle.seek(size - EDGE_BYTES)
        digest.update(handle.read(EDGE_BYTES))
    return digest.hexdigest()


def file_entry(path: Path) -> dict:
    size = path.stat().st_size
    entry = {"bytes": size, "sha256": file_sha256(path)}
    if size > FULL_CHECK_BYTES:
        entry["edges_sha256"] = edges_sha256(path, size)
    return entry


def read_manifest(index_dir: Path) -> dict:
    """The committed manifest, checked for format, model and its own checksum."""
    hint = REBUILD_HINT.format(index=index_dir)
    path = index_dir / MANIFEST
    if not index_dir.is_dir():
        raise IndexMissingError(f"no index at {index_dir}: {hint}")
    if not path.is_file():
        raise IndexMissingError(f"no index at {index_dir} (manifest.json missing): {hint}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"index manifest {path} is unreadable ({exc.__class__.__name__}): {hint}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{path} is not an assistant index manifest: {hint}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format version {manifest.get('format_version')}, "
            f"this assistant reads version {FORMAT_VERSION}: {hint}")
    model = manifest.get("model") or {}
    if model.get("name") != MODEL_NAME or model.get("sha256") != MODEL_SHA256:
        raise IndexMismatchError(
            f"index at {index_dir} was built with model {model.get('name')} "
            f"({str(model.get('sha256'))[:12]}…), not {MODEL_NAME}: {hint}")
    if "manifest_sha256" not in manifest:
        raise IndexCorruptError(f"index manifest {path} has no checksum (written by an older assistant): {hint}")
    if manifest["manifest_sha256"] != manifest_sha256(manifest):
        raise IndexCorruptError(f"index manifest {path} is corrupt (checksum mismatch): {hint}")
    segments, files = manifest.get("segments"), manifest.get("files")
    if not isinstance(segments, list) or not isinstance(files, dict) or not all(
            isinstance(s, dict) and SEGMENT.fullmatch(str(s.get("name"))) for s in segments):
        raise IndexCorruptError(f"index manifest {path} does not describe a complete index: {hint}")
    names = {s["name"] for s in segments}
    if any(name.split("/")[0] not in names or name.count("/") != 1 for name in files) or any(
            f"{s['name']}/table.sqlite" not in files for s in segments):
        raise IndexCorruptError(f"index manifest {path} does not describe a complete index: {hint}")
    return manifest


def check_files(index_dir: Path, manifest: dict, full: bool = False) -> None:
    """Sizes and edge checksums of every file (every byte when `full`); raises IndexCorruptError."""
    hint = REBUILD_HINT.format(index=index_dir)
    for name, meta in manifest["files"].items():
        path = index_dir / name
        try:
            size = path.stat().st_size
            ok = size == meta.get("bytes")
            if ok:
                if full or size <= FULL_CHECK_BYTES:
                    ok = file_sha256(path) == meta.get("sha256")
                else:
                    ok = edges_sha256(path, size) == meta.get("edges_sha256")
        except FileNotFoundError:
            raise IndexCorruptError(f"index file {path} is missing: {hint}") from None
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc.strerror}): {hint}") from exc
        if not ok:
            raise IndexCorruptError(f"index file {path} is corrupt (checksum mismatch): {hint}")


def write_manifest(path: Path, manifest: dict) -> None:
    """Write (not yet commit) a manifest with its checksum, flushed to disk."""
    manifest["manifest_sha256"] = manifest_sha256(manifest)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """Cheap change detector for the commit point (inode, mtime), None when absent."""
    try:
        st = os.stat(index_dir / MANIFEST)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns
