"""Chunking by structure: a reader's heading blocks give every chunk its section path; its
paragraphs and list items are kept whole where they fit; long blocks end on sentence boundaries.

Nothing here parses markup: every format's reader found the blocks (plain text's too, in
`readers/text.py`, with the rules of `structure.py`); this module only packs them.

Every chunk is an exact span of the decoded file (`text[start:end] == chunk.text`), so a
citation can always be checked against the source.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from ..config import MAX_CHARS_PER_WORD, ChunkSettings
from ..text import ANNOUNCES, answer_units, normalize, sentence_spans, word_count
from ..types import Block, Chunk, Document, Skipped
from . import structure
from .readers.text import PLAIN, text_blocks
from .structure import NO_NOISE, Noise

_WORDS = re.compile(r"\S+")


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # "text", "bullet", "code"
    section: tuple[str, ...]


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Split one document into chunks that never cross a section boundary."""
    if doc.format == PLAIN and not doc.blocks:  # built in code rather than read: read its lines now
        doc = replace(doc, blocks=tuple(text_blocks(doc.text, doc.title)))
    text = doc.text
    # A reader that rebuilt the text left nothing to hide; plain text keeps its furniture and comments.
    noise = structure.noise(text) if doc.format == PLAIN else NO_NOISE
    blocks = _sectioned(doc)
    chunks: list[Chunk] = []
    group: list[tuple[int, int, int]] = []  # (start, end, words) of pieces in the open chunk
    section: tuple[str, ...] = ()

    def flush() -> None:
        if group:
            chunks.append(_make_chunk(doc, group[0][0], group[-1][1], section, noise))
            group.clear()

    for block in blocks:
        if block.section != section:
            flush()
            section = block.section
        for start, end, words in _pieces(text, block, settings.max_words):
            if group and (sum(w for *_, w in group) + words > settings.max_words
                          or end - group[0][0] > settings.max_words * MAX_CHARS_PER_WORD):
                flush()
            group.append((start, end, words))
    flush()
    chunks = _merge_small(doc, chunks, settings, noise)
    chunks = _with_lead_ins(doc, chunks, noise) if settings.lead_in else chunks
    _breaks.cache_clear()  # do not keep a large document alive after it is chunked
    return [c for c in chunks if _WORD_CHAR.search(c.text)]


# A passage with no letter or digit (a run of '<', a rule of dashes) can match no question and
# would cost an embedding each: 200 KB of '<' was 47 passages, as long to embed as the seed corpus.
_WORD_CHAR = re.compile(r"[^\W_]")


# A reader's block kinds as the packer treats them: list items and table rows stay whole.
_PACKING_KIND = {"list": "bullet", "table": "bullet", "code": "code"}


def _sectioned(doc: Document) -> list[_Block]:
    """The reader's content blocks, each with its heading path.

    A heading of level 1 and deeper replaces those of its level and below; a first heading that
    repeats the title is not a section. A level-0 heading (plain text's headings found by their
    look, not their marks) sits below the others: a run of them reads as one heading (joined
    with " — "), the next run replaces it, a new path of marked headings clears it, and one that
    runs in with its paragraph (starts where the next block starts) replaces it at once.
    """
    headings: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    soft: list[str] = []
    soft_base: tuple[str, ...] | None = None
    begun = previous_soft = False
    for i, block in enumerate(doc.blocks):
        if block.kind == "heading" and block.level:
            name = normalize(doc.text[block.start : block.end])
            if not headings and not begun and name == doc.title:
                continue
            headings[:] = [h for h in headings if h[0] < block.level] + [(block.level, name)]
            continue
        begun = True
        path = tuple(name for _, name in headings)
        if path != soft_base:
            soft, soft_base = [], path
        if block.kind == "heading":
            name = normalize(doc.text[block.start : block.end]).rstrip(".")
            if i + 1 < len(doc.blocks) and doc.blocks[i + 1].start == block.start:
                soft = [name]  # runs in: "2. Grant of Copyright License. Subject to ..."
            else:
                soft = soft + [name] if previous_soft else [name]
                previous_soft = True
            continue
        previous_soft = False
        section = path + (" — ".join(soft),) if soft else path
        if block.continues and blocks and i and blocks[-1].end == doc.blocks[i - 1].end:
            blocks[-1].end = block.end  # a paragraph going on over a page end is packed as one
            continue
        blocks.append(_Block(block.start, block.end, _PACKING_KIND.get(block.kind, "text"), section))
    return blocks


def _pieces(text: str, block: _Block, max_words: int):
    """The block whole if it fits, else its sentences (packed), else word windows."""
    cap = max_words * MAX_CHARS_PER_WORD
    words = word_count(text[block.start : block.end])
    if words <= max_words and block.end - block.start <= cap:
        yield block.start, block.end, words
        return
    for s, e in sentence_spans(text, block.start, block.end):
        n = word_count(text[s:e])
        if n <= max_words and e - s <= cap:
            yield s, e, n
            continue
        yield from _windows(text, s, e, max_words)


def _windows(text: str, start: int, end: int, max_words: int):
    """Hard split of an over-long sentence at word boundaries (or at characters if it has none)."""
    spans = [(m.start(), m.end()) for m in _WORDS.finditer(text, start, end)]
    for i in range(0, len(spans), max_words):
        part = spans[i : i + max_words]
        s, e = part[0][0], part[-1][1]
        limit = max_words * 12
        for cut in range(s, e, limit):
            yield cut, min(cut + limit, e), len(part) if e - s <= limit else max_words


def _make_chunk(doc: Document, start: int, end: int, section: tuple[str, ...], noise: Noise, lead: str = "") -> Chunk:
    body = doc.text[start:end]
    visible = noise.visible(doc.text, start, end)
    lines = [ln for ln in visible.splitlines() if not structure.is_noise(ln, noise.furniture)]
    section_text = " > ".join(section)
    context = ". ".join(part for part in (doc.title, _file_words(doc), section_text, lead.rstrip(".")) if part)
    return Chunk(
        source=doc.source,
        title=doc.title,
        section=section_text,
        start=start,
        end=end,
        text=body,
        line=_breaks(doc.text, "\n").before(start) + 1,
        page=doc.page_at(start),
        search_text=f"{context}. {normalize(' '.join(lines))}" if context else normalize(" ".join(lines)),
        sentences=tuple((s, e) for s, e in _answer_units(doc, start, end)
                        if word_count(visible[s - start : e - start]) >= 1),
    )


def _answer_units(doc: Document, start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The chunk's answer units: sentences, with a short code block joined to its lead-in."""
    if doc.format == PLAIN or not doc.blocks:  # sentences of the text as written; a fence opens code
        return _with_code_lead_ins(doc.text, tuple(answer_units(doc.text, start, end)),
                                   lambda s: bool(structure.FENCE_AT.match(doc.text, s)))
    return _with_code_lead_ins(doc.text, tuple(_block_units(doc, start, end)), lambda s: _starts_code(doc, s))


_ITEM_WORDS = 40  # a list item or table row up to this long is one answer unit, however many sentences


def _block_units(doc: Document, start: int, end: int):
    """Answer units from a reader's blocks: a short list item or table row whole ("stderr {integer}
    The file descriptor... Default: 2." answers with its default), code in its blank-line parts,
    anything else by sentence."""
    text = doc.text
    for block, last in _runs(doc.blocks[bisect.bisect_right(doc.blocks, start, key=lambda b: b.end):]):
        if block.start >= end:
            break
        s, e = max(block.start, start), min(last.end, end)
        if block.kind == "heading":
            continue
        if block.kind == "code":
            for part in re.split(r"(\n[ \t]*\n)", text[s:e]):
                if part.strip():
                    yield s, s + len(part)
                s += len(part)
        elif block.kind in ("list", "table") and word_count(text[s:e]) <= _ITEM_WORDS:
            yield s, e
        else:
            yield from answer_units(text, s, e)


def _runs(blocks: Sequence[Block]) -> Iterator[tuple[Block, Block]]:
    """(first, last) of each run of blocks joined by `continues` (a paragraph over a page end), in order."""
    run: list[Block] = []
    for block in blocks:
        if run and not block.continues:
            yield run[0], run[-1]
            run = []
        run.append(block)
    if run:
        yield run[0], run[-1]


def _starts_code(doc: Document, offset: int) -> bool:
    """Whether a code block of the reader's starts at this offset."""
    i = bisect.bisect_left(doc.blocks, offset, key=lambda b: b.start)
    return i < len(doc.blocks) and doc.blocks[i].start == offset and doc.blocks[i].kind == "code"


@dataclass(frozen=True)
class _Breaks:
    """Where one character (a line break) occurs in a text, for numbering by bisection."""

    positions: array

    def before(self, offset: int) -> int:
        """How many occur before `offset`: a line number minus one, without a scan from the start."""
        return bisect.bisect_left(self.positions, offset)


@lru_cache(maxsize=1)
def _breaks(text: str, char: str) -> _Breaks:
    """One pass over the document per character, shared by all its chunks (kept while it is chunked)."""
    return _Breaks(array("q", (m.start() for m in re.finditer(re.escape(char), text))))


_ENDS_SENTENCE = re.compile(r"[.!?][\"'”’)\]]*$")
_CODE_LINES = 8  # a longer code block stays its own unit: as an answer it would bury the sentence


def _with_code_lead_ins(text: str, units: tuple[tuple[int, int], ...],
                        is_code: Callable[[int], bool]) -> tuple[tuple[int, int], ...]:
    """A short fenced code block and the sentence right above that introduces it become one unit.

    "To compile source files, use the `--compile` option:" says what the code is for, the code
    says how; apart, a question asking for the command matches the sentence but an answer made
    of it lacks the command. One unit is one answer sentence (and one stored vector) holding both.
    """
    result: list[tuple[int, int]] = []
    for s, e in units:
        prev = result[-1] if result else None
        if (prev is not None and is_code(s) and not is_code(prev[0])
                and text.count("\n", s, e) <= _CODE_LINES + 1 and text.count("\n", prev[1], s) <= 2
                and (text[prev[1] - 1] == ":" or not _ENDS_SENTENCE.search(text, prev[0], prev[1]))):
            result[-1] = (prev[0], e)
        else:
            result.append((s, e))
    return tuple(result)


def _file_words(doc: Document) -> str:
    """The file's name as words ("gpl-3.0.txt" -> "gpl 3.0"), when the title does not already say it.

    People name files by what they are called in speech ("GPL", "release notes"), which the
    document's own title may not repeat.
    """
    words = structure.file_name_words(doc.source)
    return "" if words.casefold() in doc.title.casefold() else words


def _merge_small(doc: Document, chunks: list[Chunk], settings: ChunkSettings, noise: Noise) -> list[Chunk]:
    """Fold a chunk below min_words into its neighbour in the same section when both fit."""
    merged: list[Chunk] = []
    for chunk in chunks:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.source == chunk.source
            and prev.section == chunk.section
            and min(word_count(prev.text), word_count(chunk.text)) < settings.min_words
            and word_count(doc.text[prev.start : chunk.end]) <= settings.max_words * 1.25
            and chunk.end - prev.start <= settings.max_words * MAX_CHARS_PER_WORD
        ):
            merged[-1] = _make_chunk(doc, prev.start, chunk.end, _section_path(chunk), noise)
        else:
            merged.append(chunk)
    return merged


def _section_path(chunk: Chunk) -> tuple[str, ...]:
    return tuple(chunk.section.split(" > ")) if chunk.section else ()


def _with_lead_ins(doc: Document, chunks: list[Chunk], noise: Noise) -> list[Chunk]:
    """Give a chunk that continues a list the sentence that introduced it, for search only.

    "Our four aims are set out below." often ends one chunk while the aims fill the next,
    which then matches no question about "aims". The lead-in is added to `search_text`
    (what is embedded and keyword-indexed); the chunk's own span and text are unchanged.
    """
    result = chunks[:1]
    for prev, chunk in zip(chunks, chunks[1:]):
        lead = _lead_in(doc.text, prev) if prev.section == chunk.section else ""
        result.append(_make_chunk(doc, chunk.start, chunk.end, _section_path(chunk), noise, lead) if lead else chunk)
    return result


def _lead_in(text: str, chunk: Chunk, lookback: int = 4) -> str:
    """The last announcing sentence among the chunk's final few, with the one before it when short."""
    spans = list(chunk.sentences)
    for i in range(len(spans) - 1, max(len(spans) - 1 - lookback, -1), -1):
        s, e = spans[i]
        if ANNOUNCES.search(text[s:e]):
            if word_count(text[s:e]) < 8 and i > 0:
                s = spans[i - 1][0]
            return normalize(text[s:e])
    return ""


LARGE_FILE_CHARS = 1_000_000  # chunking this much text takes a second or more: say so before


def chunks_within_limit(doc: Document, settings: ChunkSettings, notify: Callable[[Skipped], None],
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
