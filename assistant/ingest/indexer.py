"""Building the index: read, chunk, embed only what changed, commit it to the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from .. import __version__
from ..embed.base import DIMENSION, MODEL_NAME, MODEL_SHA256
from ..errors import AssistantError, StoreUnavailableError
from ..index.base import VectorsByContent
from ..index.bm25 import SETTINGS as KEYWORD_SETTINGS
from ..index.folder import fault_point
from ..index.keys import chunk_id, content_hash64
from ..index.segment import SegmentData
from ..index.stores import open_store, open_writer, writing
from ..types import Chunk, Document, Skipped
from .changes import plan_reads, remembered_skips, skip_entries, with_verified
from .chunker import ChunkSettings, chunks_within_limit
from .fingerprint import embedded_texts
from .fingerprint import fingerprint as chunk_fingerprint
from .progress import progress_bar, progress_note
from .reader import iter_files
from .sandbox import Sandbox, limits
from .vectors import BuildVectors


@dataclass
class IndexSummary:
    """What one `assistant index` run did, for the one-line summary and for tests."""

    documents: int
    chunks: int
    embedded: int  # chunks embedded in this run (0 when nothing changed; reused vectors not counted)
    reused: int  # documents whose chunks and vectors came from the previous index
    removed: int  # documents in the previous index that are gone from the corpus
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    cut: list[Skipped] = field(default_factory=list)  # files indexed only up to the per-file limit, and why
    sentences_embedded: int = 0  # answer sentences embedded in this run
    vectors_reused: int = 0  # chunks of changed files whose embedded text was unchanged, so their vector was kept

    def line(self) -> str:
        return (f"indexed {self.documents} files, {self.chunks} chunks "
                f"({self.embedded} embedded, {self.reused} files unchanged, {self.removed} removed), "
                f"{len(self.skipped)} skipped, " + (f"{len(self.cut)} cut, " if self.cut else "")
                + f"{self.seconds:.1f}s")


def build_index(corpus: Path, index_dir: Path, settings: ChunkSettings = ChunkSettings(),
                embedder=None, progress: bool = False, allow_hard_links: bool = False,
                notify: Callable[[Skipped], None] | None = None,
                engine: Engine | None = None) -> IndexSummary:
    """Index `corpus` into `index_dir`, writing work proportional to what changed.

    A file is reused untouched when its bytes and the chunking fingerprint (everything that
    decides chunk output) match the index; a changed file is chunked again and only chunks and
    sentences whose embedded text is new are embedded. A corpus with nothing readable in it is
    refused rather than replacing a good index with an empty one (a wrong folder or an
    unmounted drive looks exactly like that). `notify` hears at once about a large file being
    chunked and a file cut to the per-file limit, so a long run says what it is doing. `engine`
    reads, chunks and embeds somewhere else (assistant/ingest/ray_index.py); the rules and the commit
    stay here.
    """
    started = time.perf_counter()
    corpus, index_dir = Path(corpus), Path(index_dir)
    if not corpus.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus}")
    with writing(index_dir):  # index_dir: a folder or a Milvus location (assistant/index/stores.py)
        variant = getattr(embedder, "variant", "fp32") if embedder is not None else _default_variant()
        base = _base(index_dir)
        try:
            return _build(corpus, index_dir, settings, embedder, variant, base, progress, allow_hard_links,
                          notify, started, engine)
        finally:
            if base is not None:
                base.close()


def _build(corpus, index_dir, settings, embedder, variant, base, progress, allow_hard_links, notify,
           started, engine=None) -> IndexSummary:
    from ..embed.registry import compatible

    fingerprint = chunk_fingerprint(settings)
    old_encoder = (base.manifest.get("encoder") or {"variant": "torch"}) if base is not None else {}
    vectors_ok = base is not None and compatible(old_encoder.get("variant"), variant)
    chunks_ok = (vectors_ok and (base.manifest.get("fingerprint") or {}).get("digest") == fingerprint.digest
                 and base.manifest.get("keyword") == KEYWORD_SETTINGS)
    manifest = base.manifest if base is not None else {}
    indexed = with_verified(base.file_stats(), manifest) if base is not None else {}  # source -> (sha256, size, mtime_ns)
    keep = {source: known[0] for source, known in indexed.items()} if chunks_ok else {}  # bytes reused as indexed
    plan = plan_reads(iter_files(corpus), indexed, remembered_skips(manifest), chunks_ok, allow_hard_links)
    untouched, stats = plan.untouched, plan.stats
    read = engine.read_and_chunk if engine is not None else read_and_chunk
    documents, skipped, chunks, cut = read(corpus, plan.to_read, keep, settings, allow_hard_links,
                                           notify or (lambda note: None), progress)
    skipped = plan.skipped_again + skipped
    if not documents and not untouched:
        raise AssistantError(f"no readable documents in {corpus} ({skipped_reasons(skipped)}); "
                             "the index was not changed")
    changed = [d for d in documents if keep.get(d.source) != d.sha256]
    current = {d.source for d in documents} | set(untouched)
    removed = [s for s in indexed if s not in current]
    # A removed document's vectors count too: a file moved or renamed (into a collection's folder, say)
    # is a removed source plus a new one with the same text, and should cost no embedding.
    reuse = (base.vectors_by_content(None if not chunks_ok else [d.source for d in changed] + removed)
             if vectors_ok else VectorsByContent())
    texts = {d.source: d.text for d in changed}
    embedded = [embedded_texts(c, texts[c.source]) for c in chunks]  # exactly what the encoder is given
    vec_keys = [content_hash64(chunk_text) for chunk_text, _ in embedded]
    sentence_texts = [t for _, sentences in embedded for t in sentences]
    sentence_keys = [content_hash64(t) for t in sentence_texts]
    chunk_todo = [i for i, key in enumerate(vec_keys) if not reuse.has_chunk(key)]
    chunk_texts = [chunk_text for chunk_text, _ in embedded]
    sentence_todo = [i for i, key in enumerate(sentence_keys) if not reuse.has_sentence(key)]
    progress_note(f"read {len(documents)} files ({len(skipped)} skipped, {len(untouched)} untouched, "
                  f"{len(documents) - len(changed)} unchanged): "
                  f"{len(chunk_todo)} chunks to embed ({len(sentence_todo)} sentences)", started, progress)
    writer = open_writer(index_dir, base)
    made_by = None
    with writer.spill() as folder:  # the vectors go to disk as they are made, and to the store from there
        spilled = BuildVectors.create(folder, reuse, vec_keys, sentence_keys, chunk_todo, sentence_todo)
        if chunk_todo or sentence_todo:
            todo = [chunk_texts[i] for i in chunk_todo], [sentence_texts[i] for i in sentence_todo]
            if engine is not None:
                fresh, made_by = engine.embed(variant, *todo, progress)
                spilled.put_all(fresh)
                del fresh
            else:
                if embedder is None:
                    from ..embed.registry import get_encoder

                    embedder = get_encoder(variant)
                embed_all(embedder, *todo, progress, into=spilled.put)
                made_by = getattr(embedder, "sha256", None)
            del todo
        del embedded, chunk_texts, sentence_texts  # the texts the encoder was given: not needed by the commit
        fault_point("embedded")
        writer.delete([d.source for d in changed if d.source in indexed] + removed)
        writer.add(SegmentData(changed, chunks, np.array([chunk_id(c) for c in chunks], dtype=np.int64),
                               np.array(vec_keys, dtype=np.int64), spilled.vectors, spilled.codes, spilled.scales,
                               np.array(sentence_keys, dtype=np.int64),
                               file_stats={d.source: stats[d.source] for d in changed if d.source in stats}))
        encoder = {"variant": variant, "sha256": made_by if chunk_todo or sentence_todo
                   else old_encoder.get("sha256", getattr(embedder, "sha256", None))}
        kept = set(untouched)
        verified = {source: entry for source, entry in (manifest.get("verified") or {}).items()
                    if source in kept and source not in texts} | plan.verified
        writer.commit(manifest_fields(encoder, settings.to_dict(), fingerprint.to_dict(), str(corpus.resolve()),
                                      skip_entries(skipped, plan), verified))
        spilled.close()
    return IndexSummary(
        documents=len(current), chunks=len(chunks) + _unchanged_chunks(base, current, changed),
        embedded=len(chunk_todo), reused=len(current) - len(changed), removed=len(removed), skipped=skipped, cut=cut,
        seconds=time.perf_counter() - started, sentences_embedded=len(sentence_todo),
        vectors_reused=len(chunks) - len(chunk_todo),
    )


class Engine(Protocol):
    """Where reading, chunking and embedding run when not in this process (assistant/ingest/ray_index.py)."""

    def read_and_chunk(self, corpus: Path, files: list[tuple[str, Path | None, str | None]], keep: dict[str, str],
                       settings: ChunkSettings, allow_hard_links: bool, notify: Callable[[Skipped], None],
                       progress: bool) -> Prepared: ...

    def embed(self, variant: str, chunk_texts: list[str], sentences: list[str],
              progress: bool) -> tuple[np.ndarray, str | None]: ...


class Prepared(NamedTuple):
    """The files read, the skipped ones, and the chunks of the changed files (all in folder order)."""

    documents: list[Document]
    skipped: list[Skipped]
    chunks: list[Chunk]
    cut: list[Skipped]  # files indexed only up to the per-file limit


def read_and_chunk(corpus: Path, files: list[tuple[str, Path | None, str | None]], keep: dict[str, str],
                   settings: ChunkSettings, allow_hard_links: bool, notify: Callable[[Skipped], None],
                   progress: bool) -> Prepared:
    """Read `files` here, and chunk those whose bytes are not the ones in `keep` (source -> sha256).

    `files` are (source, path, None) to read, or (source, None, reason) already skipped by the walk.
    """
    documents: list[Document] = []
    skipped: list[Skipped] = []
    with Sandbox() as sandbox:  # every file parsed in a worker with memory and time limits (sandbox.py)
        for source, path, reason in progress_bar(files, desc="reading", unit=" files", leave=False, enabled=progress):
            result = (sandbox.read(path, source, allow_hard_links) if path is not None
                      else Skipped(source, reason or "skipped"))
            (skipped if isinstance(result, Skipped) else documents).append(result)
    cut: list[Skipped] = []
    chunks: list[Chunk] = []
    wordless: set[str] = set()
    for d in documents:
        if keep.get(d.source) == d.sha256:
            continue
        own = chunks_within_limit(d, settings, notify, cut)
        if not own:  # nothing but symbols: a file that can answer nothing is not a document to list
            skipped.append(Skipped(d.source, "no words to index (only symbols and punctuation)", d.sha256))
            wordless.add(d.source)
        chunks.extend(own)
    return Prepared([d for d in documents if d.source not in wordless], skipped, chunks, cut)


def manifest_fields(encoder: dict, chunking: dict, fingerprint: dict, corpus: str, skipped: list[dict],
                    verified: dict[str, list] | None = None) -> dict:
    """What the manifest says built the index, besides its segments and files (the writer adds those)."""
    return {
        "package_version": __version__,
        "model": {"name": MODEL_NAME, "sha256": MODEL_SHA256, "dimension": DIMENSION,
                  "metric": "inner_product", "normalized": True},
        "encoder": encoder,  # which encoder made the vectors (assistant/embed/encoder.py): questions use the same
        "chunking": chunking,
        "fingerprint": fingerprint,  # of everything that decides chunk output (assistant/ingest/fingerprint.py)
        "keyword": KEYWORD_SETTINGS,
        "reading": dict(zip(("memory_mb", "seconds"), limits(), strict=True)),  # the worker's caps: what a file may cost
        "corpus": corpus,
        "counts": {"skipped": len(skipped)},
        "skipped": skipped,  # with sha256, size and mtime_ns when skipped for the bytes: not read again until they change
        "verified": verified or {},  # source -> [sha256, size, mtime_ns]: times confirmed by hash after the racy window
    }


def skipped_reasons(skipped: list[Skipped], shown: int = 3) -> str:
    """"2 files skipped: a.pdf: no text layer ...; b.xls: unsupported file type '.xls'" on one line."""
    if not skipped:
        return "the folder has no files"
    head = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: {head}{more}"


def embed_all(embedder, chunk_texts: list[str], sentences: list[str], progress: bool = False,
              slice_size: int = 128, into: Callable[[np.ndarray, np.ndarray], None] | None = None) -> np.ndarray:
    """Vectors of the chunk texts then the sentences, in that order.

    With `into`, each slice's vectors go to `into(rows, vectors)` (rows numbered as above) as
    they are made, and nothing is kept here: the build's memory is one slice, not the corpus.

    All texts are sorted by length once, so every batch pads little, and sent to the encoder
    a slice at a time so the progress bar moves. The bar counts chunks, advanced by the share
    of characters embedded (a text costs about its length, and a chunk's sentences are part of
    its cost), so its rate and time left hold while short sentences go first.
    """
    texts = chunk_texts + sentences
    out = np.empty((0 if into else len(texts), DIMENSION), dtype=np.float32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    order = np.argsort(lengths, kind="stable")
    bar = progress_bar(total=len(chunk_texts), desc="embedding", unit=" chunks", enabled=progress,
               bar_format="{desc}: {n:.0f}/{total} chunks [{elapsed}<{remaining}, {rate_fmt}]")
    per_char = len(chunk_texts) / max(int(lengths.sum()), 1)
    for lo in range(0, len(order), slice_size):
        rows = order[lo : lo + slice_size]
        vectors = embedder.encode([texts[i] for i in rows])
        if into is not None:
            into(rows, vectors)
        else:
            out[rows] = vectors
        bar.update(min(float(lengths[rows].sum()) * per_char, bar.total - bar.n))
    bar.close()
    return out


def _default_variant() -> str:
    from ..embed.registry import default_variant

    return default_variant()


def _base(index_dir: Path):
    """The committed index to update, or None (no index, another format, or damaged: a full build repairs it)."""
    try:
        return open_store(index_dir, for_update=True)
    except StoreUnavailableError:
        raise  # not a damaged index: rebuilding it would embed everything, then fail to write
    except AssistantError:
        return None


def _unchanged_chunks(base, current: set[str], changed: list[Document]) -> int:
    if base is None:
        return 0
    counts = {s.source: s.chunks for s in base.sources()}
    fresh = {d.source for d in changed}
    return sum(counts.get(source, 0) for source in current if source not in fresh)
