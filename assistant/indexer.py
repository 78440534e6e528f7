"""Building the index: read, chunk, embed only what changed, write a new generation."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .chunker import ChunkSettings, chunk_document
from .embedder import DIMENSION
from .errors import AssistantError
from .folder import clean_generations, fault_point, write_lock
from .reader import iter_files, read_document
from .store import load_index, write_index
from .text import normalize
from .types import Chunk, Document, Skipped


@dataclass
class IndexSummary:
    """What one `assistant index` run did, for the one-line summary and for tests."""

    documents: int
    chunks: int
    embedded: int  # chunks embedded in this run (0 when nothing changed)
    reused: int  # documents whose chunks and vectors came from the previous index
    removed: int  # documents in the previous index that are gone from the corpus
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    cut: list[Skipped] = field(default_factory=list)  # files indexed only up to the per-file limit, and why

    def line(self) -> str:
        return (f"indexed {self.documents} files, {self.chunks} chunks "
                f"({self.embedded} embedded, {self.reused} files unchanged, {self.removed} removed), "
                f"{len(self.skipped)} skipped, " + (f"{len(self.cut)} cut, " if self.cut else "")
                + f"{self.seconds:.1f}s")


def build_index(corpus: Path, index_dir: Path, settings: ChunkSettings = ChunkSettings(),
                embedder=None, progress: bool = False, allow_hard_links: bool = False,
                notify: Callable[[Skipped], None] | None = None) -> IndexSummary:
    """Index `corpus` into `index_dir`, re-embedding only new or changed files.

    A corpus with nothing readable in it is refused rather than replacing a good index with
    an empty one (a wrong folder or an unmounted drive looks exactly like that). `notify` hears
    at once about a large file being chunked and a file cut to the per-file limit, so a long
    run says what it is doing.
    """
    started = time.perf_counter()
    corpus, index_dir = Path(corpus), Path(index_dir)
    if not corpus.is_dir():
        raise AssistantError(f"corpus folder not found: {corpus}")
    with write_lock(index_dir):
        variant = getattr(embedder, "variant", "fp32") if embedder is not None else _default_variant()
        previous = _previous(index_dir, settings, variant)
        clean_generations(index_dir, keep_previous=None)
        documents: list[Document] = []
        skipped: list[Skipped] = []
        files = iter_files(corpus)
        if progress:
            files = tqdm(files, desc="reading", unit=" files", leave=False)
        for source, path, reason in files:
            result = (read_document(path, source, allow_hard_links) if path is not None
                      else Skipped(source, reason or "skipped"))
            (skipped if isinstance(result, Skipped) else documents).append(result)
        if not documents:
            raise AssistantError(f"no readable documents in {corpus} ({skipped_reasons(skipped)}); "
                                 "the index was not changed")
        chunks: list[Chunk] = []
        vectors: list[np.ndarray | None] = []  # per chunk
        sentence_vectors: list[np.ndarray | None] = []  # per chunk: (n sentences, dim)
        to_embed: list[tuple[int, Chunk]] = []
        reused = 0
        cut: list[Skipped] = []
        for doc in documents:
            old = previous.get(doc.source)
            if old is not None and old[0] == doc.sha256:
                chunks.extend(old[1])
                vectors.extend(old[2])
                sentence_vectors.extend(old[3])
                reused += 1
                continue
            for chunk in _chunks_within_limit(doc, settings, notify or (lambda note: None), cut):
                to_embed.append((len(chunks), chunk))
                chunks.append(chunk)
                vectors.append(None)  # filled below
                sentence_vectors.append(None)
        if progress:
            print(f"read {len(documents)} files ({len(skipped)} skipped, {reused} unchanged): "
                  f"{len(to_embed)} chunks to embed", file=sys.stderr)
        if to_embed:
            if embedder is None:
                from .embedder import get_embedder

                embedder = get_embedder(variant)
            texts = {d.source: d.text for d in documents}
            sentences = [normalize(texts[c.source][s:e]) for _, c in to_embed for s, e in c.sentences]
            fresh = embed_all(embedder, [c.search_text for _, c in to_embed], sentences, progress)
            offset = len(to_embed)
            for i, (position, chunk) in enumerate(to_embed):
                vectors[position] = fresh[i]
                sentence_vectors[position] = fresh[offset : offset + len(chunk.sentences)]
                offset += len(chunk.sentences)
        fault_point("embedded")
        matrix = _stack([np.reshape(v, (1, DIMENSION)) for v in vectors])
        sentence_matrix = _stack(sentence_vectors)
        old_generation = previous.generation if previous else None
        write_index(index_dir, documents, chunks, matrix, sentence_matrix, settings.to_dict(),
                    [{"source": s.source, "reason": s.reason} for s in skipped], corpus.resolve(),
                    encoder={"variant": variant, "sha256": getattr(embedder, "sha256", None) if to_embed
                             else previous.encoder.get("sha256")})
        clean_generations(index_dir, keep_previous=old_generation)
    current = {d.source for d in documents}
    return IndexSummary(
        documents=len(documents), chunks=len(chunks), embedded=len(to_embed), reused=reused,
        removed=len([s for s in previous if s not in current]), skipped=skipped, cut=cut,
        seconds=time.perf_counter() - started,
    )


def skipped_reasons(skipped: list[Skipped], shown: int = 3) -> str:
    """"2 files skipped: a.pdf: no text layer ...; b.xls: unsupported file type '.xls'" on one line."""
    if not skipped:
        return "the folder has no files"
    head = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:shown])
    more = f"; and {len(skipped) - shown} more" if len(skipped) > shown else ""
    return f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped: {head}{more}"


LARGE_FILE_CHARS = 1_000_000  # chunking this much text takes a second or more: say so before


def _chunks_within_limit(doc: Document, settings: ChunkSettings, notify: Callable[[Skipped], None],
                         cut: list[Skipped]) -> list[Chunk]:
    """The document's first chunks, within `settings.max_chunks` and `settings.max_texts`."""
    if len(doc.text) >= LARGE_FILE_CHARS:
        notify(Skipped(doc.source, f"large file ({len(doc.text):,} characters), chunking"))
    chunks = chunk_document(doc, settings)
    kept = texts = 0
    for chunk in chunks:
        if kept == settings.max_chunks or texts + 1 + len(chunk.sentences) > settings.max_texts:
            break
        kept, texts = kept + 1, texts + 1 + len(chunk.sentences)
    if kept < len(chunks):
        note = Skipped(doc.source, f"cut to its first {kept:,} passages of {len(chunks):,} (the limit per file is "
                                   f"{settings.max_chunks:,} passages and {settings.max_texts:,} texts to embed, "
                                   f"passages and their sentences; up to character {chunks[kept - 1].end if kept else 0:,} "
                                   f"of {len(doc.text):,})")
        notify(note)
        cut.append(note)
    return chunks[:kept]


def embed_all(embedder, chunk_texts: list[str], sentences: list[str], progress: bool = False,
              slice_size: int = 128) -> np.ndarray:
    """Vectors of the chunk texts then the sentences, in that order.

    All texts are sorted by length once, so every batch pads little, and sent to the encoder
    a slice at a time so the progress bar moves. The bar counts chunks, advanced by the share
    of characters embedded (a text costs about its length, and a chunk's sentences are part of
    its cost), so its rate and time left hold while short sentences go first.
    """
    texts = chunk_texts + sentences
    out = np.empty((len(texts), DIMENSION), dtype=np.float32)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    order = np.argsort(lengths, kind="stable")
    bar = tqdm(total=len(chunk_texts), desc="embedding", unit=" chunks", disable=not progress,
               bar_format="{desc}: {n:.0f}/{total} chunks [{elapsed}<{remaining}, {rate_fmt}]")
    per_char = len(chunk_texts) / max(int(lengths.sum()), 1)
    for lo in range(0, len(order), slice_size):
        rows = order[lo : lo + slice_size]
        out[rows] = embedder.encode([texts[i] for i in rows])
        bar.update(min(float(lengths[rows].sum()) * per_char, bar.total - bar.n))
    bar.close()
    return out


def _default_variant() -> str:
    from .embedder import default_variant

    return default_variant()


def _stack(blocks: list[np.ndarray]) -> np.ndarray:
    """Rows of (n, DIMENSION) blocks as one float32 matrix; an empty list gives (0, DIMENSION)."""
    return np.concatenate([np.zeros((0, DIMENSION), dtype=np.float32), *blocks]).astype(np.float32)


class _Previous(dict):
    """source -> (sha256, chunks, vectors) from the committed index, if it can be reused."""

    generation: str | None = None
    encoder: dict = {}


def _previous(index_dir: Path, settings: ChunkSettings, variant: str) -> _Previous:
    from .embedder import compatible

    previous = _Previous()
    try:
        data = load_index(index_dir)
    except AssistantError:
        return previous  # nothing usable to reuse: a full build, which also repairs corruption
    previous.generation = data.manifest.get("generation")
    previous.encoder = data.manifest.get("encoder") or {"variant": "torch"}
    if data.manifest.get("chunking") != settings.to_dict() or not compatible(previous.encoder.get("variant"), variant):
        return previous
    grouped: dict[str, tuple[list[Chunk], list[np.ndarray], list[np.ndarray]]] = {}
    for i, chunk in enumerate(data.chunks):
        entry = grouped.setdefault(chunk.source, ([], [], []))
        entry[0].append(chunk)
        entry[1].append(np.array(data.embeddings[i], dtype=np.float32))
        entry[2].append(np.array(data.sentences_of(i)[1], dtype=np.float32))
    for source, doc in data.documents.items():
        chunks, vecs, sentence_vecs = grouped.get(source, ([], [], []))
        previous[source] = (doc.sha256, chunks, vecs, sentence_vecs)
    return previous
