"""The index folder on disk: a manifest plus one open-format file per component.

Layout: `manifest.json` names the current generation folder (`gen-*`) that holds
`documents.jsonl`, `chunks.jsonl`, `embeddings.npy` (one vector per chunk), `sentences.npy`
(one per sentence of every chunk, in chunk order), `dense.faiss`, `keyword.npz` and
`keyword_vocab.json`. A new generation is written and fsynced beside the old one, and
`os.replace` of the manifest is the single commit point, so a reader (or a crash) only ever
sees a whole index. Every file's SHA-256 is in the manifest, the manifest carries its own,
and all are checked at open.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .embedder import DIMENSION, MODEL_NAME, MODEL_SHA256, file_sha256
from .errors import AssistantError, IndexCorruptError, IndexMismatchError, IndexMissingError
from .folder import MANIFEST, fault_point, fsync_dir
from .keyword import K1, TOKENIZER, B, KeywordIndex
from .types import Chunk, Document

FORMAT = "assistant-index"
FORMAT_VERSION = 2
FILES = ("documents.jsonl", "chunks.jsonl", "embeddings.npy", "sentences.npy", "dense.faiss", "keyword.npz",
         "keyword_vocab.json")
REBUILD_HINT = "rebuild it with: assistant index --corpus CORPUS --index {index}"
_GENERATION = re.compile(r"gen-[0-9A-Za-z-]+")


@dataclass
class IndexData:
    """Everything a searcher needs, loaded from one generation."""

    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    embeddings: np.ndarray
    dense: object  # faiss.Index
    keyword: KeywordIndex
    sentence_vectors: np.ndarray  # float16 (float32 before), rows in chunk order: chunk i owns offsets[i]:offsets[i+1]
    sentence_offsets: np.ndarray

    def sentences_of(self, row: int) -> tuple[list[tuple[int, int]], np.ndarray]:
        """Spans and float32 vectors of one chunk's sentences (stored as float16 to halve their bytes)."""
        lo, hi = self.sentence_offsets[row], self.sentence_offsets[row + 1]
        return [tuple(span) for span in self.chunks[row].sentences], np.asarray(self.sentence_vectors[lo:hi], np.float32)


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _manifest_sha256(manifest: dict) -> str:
    """Checksum of the manifest's own content (every key but this one), canonical JSON."""
    body = {key: value for key, value in manifest.items() if key != "manifest_sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def write_index(index_dir: Path, documents: list[Document], chunks: list[Chunk], embeddings: np.ndarray,
                sentence_vectors: np.ndarray, settings: dict, skipped: list[dict], corpus: Path,
                encoder: dict | None = None) -> dict:
    """Write a new generation and commit it by replacing the manifest; returns the manifest.

    Any failure before the commit (full disk, read-only folder) removes what this run wrote
    and raises an AssistantError; the committed index is never touched.
    """
    generation = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp, final = index_dir / f"{generation}.tmp", index_dir / generation
    tmp_manifest = index_dir / f"{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        manifest = _write_generation(index_dir, tmp, final, tmp_manifest, documents, chunks, embeddings,
                                     sentence_vectors, settings, skipped, corpus, encoder)
        os.replace(tmp_manifest, index_dir / MANIFEST)  # the commit point
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        with contextlib.suppress(OSError):
            tmp_manifest.unlink()
        raise AssistantError(f"could not write the index at {index_dir} ({exc.strerror or exc}); "
                             "the previous index is unchanged") from exc
    fault_point("committed")
    with contextlib.suppress(OSError):  # committed already; this only hurries durability
        fsync_dir(index_dir)
    return manifest


def _write_generation(index_dir: Path, tmp: Path, final: Path, tmp_manifest: Path, documents: list[Document],
                      chunks: list[Chunk], embeddings: np.ndarray, sentence_vectors: np.ndarray, settings: dict,
                      skipped: list[dict], corpus: Path, encoder: dict | None) -> dict:
    import faiss

    tmp.mkdir()
    fault_point("started")
    _write_jsonl(tmp / "documents.jsonl",
                 (d.to_row() for d in documents))
    fault_point("documents-written")
    _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in chunks))
    np.save(tmp / "embeddings.npy", np.ascontiguousarray(embeddings, dtype=np.float32), allow_pickle=False)
    # Half precision: sentence vectors are half the index, and fp16 moves their cosines by < 1e-4.
    np.save(tmp / "sentences.npy", np.ascontiguousarray(sentence_vectors, dtype=np.float16), allow_pickle=False)
    dense = faiss.IndexFlatIP(DIMENSION)
    if len(embeddings):
        dense.add(np.ascontiguousarray(embeddings, dtype=np.float32))
    # FAISS's own format, written by Python so that a write error is an OSError with its errno.
    with open(tmp / "dense.faiss", "wb") as handle:
        handle.write(faiss.serialize_index(dense).tobytes())
    keyword = KeywordIndex.build([c.search_text for c in chunks])
    names = ["documents.jsonl", "chunks.jsonl", "embeddings.npy", "sentences.npy", "dense.faiss", *keyword.save(tmp)]
    fault_point("files-written")
    for name in names:
        with open(tmp / name, "rb") as handle:
            os.fsync(handle.fileno())
    fsync_dir(tmp)
    os.replace(tmp, final)
    fsync_dir(index_dir)
    fault_point("generation-renamed")
    by_source: dict[str, int] = {}
    for chunk in chunks:
        by_source[chunk.source] = by_source.get(chunk.source, 0) + 1
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "generation": final.name,
        "model": {"name": MODEL_NAME, "sha256": MODEL_SHA256, "dimension": DIMENSION,
                  "metric": "inner_product", "normalized": True},
        # Which encoder made the vectors (assistant/encoder.py): a question is encoded the same way.
        "encoder": encoder or {"variant": "torch", "sha256": MODEL_SHA256},
        "chunking": settings,
        "keyword": {"algorithm": "bm25", "k1": K1, "b": B, "tokenizer": TOKENIZER},
        "corpus": str(corpus),
        "counts": {"documents": len(documents), "chunks": len(chunks), "skipped": len(skipped)},
        "sources": {d.source: {"sha256": d.sha256, "title": d.title, "encoding": d.encoding,
                               "chunks": by_source.get(d.source, 0), "chars": len(d.text)} for d in documents},
        "skipped": skipped,
        "files": {name: {"sha256": file_sha256(final / name), "bytes": (final / name).stat().st_size}
                  for name in names},
    }
    manifest["manifest_sha256"] = _manifest_sha256(manifest)
    with open(tmp_manifest, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    fault_point("manifest-written")
    return manifest


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
    if manifest["manifest_sha256"] != _manifest_sha256(manifest):
        raise IndexCorruptError(f"index manifest {path} is corrupt (checksum mismatch): {hint}")
    files = manifest.get("files")
    if (not _GENERATION.fullmatch(str(manifest.get("generation"))) or not isinstance(files, dict)
            or set(files) != set(FILES)):
        raise IndexCorruptError(f"index manifest {path} does not describe a complete index: {hint}")
    return manifest


def manifest_stamp(index_dir: Path) -> tuple[int, int] | None:
    """Cheap change detector for the commit point (inode, mtime), None when absent."""
    try:
        st = os.stat(index_dir / MANIFEST)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def load_index(index_dir: Path) -> IndexData:
    """Open the committed generation, verifying every file against its manifest checksum.

    If a writer commits (and removes the generation being read) during the load, the load
    starts again on the new manifest rather than reporting the vanished files as corrupt.
    """
    for attempt in range(3):
        stamp = manifest_stamp(index_dir)
        try:
            return _load(index_dir)
        except IndexCorruptError:
            if attempt == 2 or manifest_stamp(index_dir) == stamp:
                raise
    raise AssertionError("unreachable")


def _load(index_dir: Path) -> IndexData:
    import faiss

    manifest = read_manifest(index_dir)
    hint = REBUILD_HINT.format(index=index_dir)
    folder = index_dir / manifest["generation"]
    for name, meta in manifest["files"].items():
        path = folder / name
        try:
            ok = path.stat().st_size == meta.get("bytes") and file_sha256(path) == meta.get("sha256")
        except FileNotFoundError:
            raise IndexCorruptError(f"index file {path} is missing: {hint}") from None
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is unreadable ({exc.strerror}): {hint}") from exc
        if not ok:
            raise IndexCorruptError(f"index file {path} is corrupt (checksum mismatch): {hint}")
    try:
        documents = {row["source"]: Document.from_row(row) for row in _read_jsonl(folder / "documents.jsonl")}
        chunks = [Chunk(**{**row, "sentences": tuple(tuple(s) for s in row.get("sentences", ()))})
                  for row in _read_jsonl(folder / "chunks.jsonl")]
        embeddings = np.load(folder / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        sentence_vectors = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
        dense = faiss.read_index(str(folder / "dense.faiss"))
        keyword = KeywordIndex.load(folder)
        if manifest.get("keyword", {}).get("tokenizer") != TOKENIZER:
            # Built by an older tokenizer: questions would be tokenized differently from the
            # index. Rebuilding BM25 from the stored texts is quick; `assistant index` saves it.
            keyword = KeywordIndex.build([c.search_text for c in chunks])
    except Exception as exc:  # any parse failure of a file that passed its checksum
        raise IndexCorruptError(f"index at {index_dir} cannot be read ({exc.__class__.__name__}: {exc}): {hint}") from exc
    offsets = np.concatenate([[0], np.cumsum([len(c.sentences) for c in chunks], dtype=np.int64)])
    if not (len(chunks) == len(embeddings) == dense.ntotal == keyword.n_docs and offsets[-1] == len(sentence_vectors)):
        raise IndexCorruptError(f"index at {index_dir} is inconsistent (component sizes differ): {hint}")
    return IndexData(manifest, documents, chunks, embeddings, dense, keyword, sentence_vectors, offsets)
