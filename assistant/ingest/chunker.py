"""Chunking by structure: headings give every chunk its section path; paragraphs and list
items are kept whole where they fit; long blocks end on sentence boundaries.

Every chunk is an exact span of the decoded file (`text[start:end] == chunk.text`), so a
citation can always be checked against the source.
"""

from __future__ import annotations

import bisect
import re
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ..config import MAX_CHARS_PER_WORD, ChunkSettings
from ..text import ANNOUNCES, answer_units, front_matter, normalize, sentence_spans, word_count
from ..types import Chunk, Document, Skipped
from .reader import file_name_words

_WIKI_HEADING = re.compile(r"^\s*(=+)\s*([^=].*?)\s*=+\s*$")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·*+\-–]|\d{1,3}[.)]|[a-z][.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
# A line of one repeated mark under a one-line heading: Markdown's = (level 1) and - (level 2),
# and reStructuredText's other adornments (levels 3, 4, ... in order of first use).
_UNDERLINE = re.compile(r"^\s{0,3}([=\-~^\"'`#*+:._])\1{2,}\s*$")
_RULE = re.compile(r"^\s*([-=*_~^#+:.])(?:\s*\1){2,}\s*$")  # a drawn line with nothing above it to underline
# "4. Conveying Verbatim Copies." or "Section 2.1 Grants" standing alone above a paragraph.
_NUMBERED = re.compile(r"^(?i:(?:section|article|chapter|part|clause)\s+)?\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z\"“'‘(]")
_WORDS = re.compile(r"\S+")
@dataclass(frozen=True)
class _Noise:
    """What a document holds that is not content: page furniture, HTML comments, link definitions.

    It stays in the chunk's text (citations are exact spans) but is kept out of what is
    embedded, keyword-indexed and offered as an answer sentence.
    """

    furniture: frozenset[str]
    hidden: tuple[tuple[int, int], ...]  # sorted, non-overlapping character spans

    def visible(self, text: str, start: int, end: int) -> str:
        """text[start:end] with hidden spans blanked out (same length, so offsets still hold)."""
        i = bisect.bisect_left(self.hidden, (start, -1))
        if i:
            i -= 1
        parts, cursor = [], start
        for s, e in self.hidden[i:]:
            if s >= end:
                break
            if e <= start:
                continue
            s, e = max(s, start), min(e, end)
            parts += [text[cursor:s], " " * (e - s)]
            cursor = e
        parts.append(text[cursor:end])
        return "".join(parts)


# HTML comments (Markdown metadata, tables of contents) and Markdown link definitions ("[id]: url").
_HIDDEN = re.compile(r"<!--[\s\S]*?(?:-->|\Z)|^[ \t]*\[[^\]\n]+\]:[ \t]*\S+[^\n]*$", re.MULTILINE)


def _noise(text: str) -> _Noise:
    return _Noise(_furniture(text), tuple(m.span() for m in _HIDDEN.finditer(text)))


@dataclass
class _Block:
    start: int
    end: int
    kind: str  # "text", "bullet", "code"
    section: tuple[str, ...]


def chunk_document(doc: Document, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Split one document into chunks that never cross a section boundary."""
    text = doc.text
    if doc.blocks:  # a reader found the structure (PDF, Word, HTML): nothing to guess or hide
        noise = _Noise(frozenset(), ())
        blocks = _reader_blocks(doc)
    else:
        noise = _noise(text)
        blocks = _promote_soft_headings(text, _blocks(text, doc.title, noise.furniture))
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


def _reader_blocks(doc: Document) -> list[_Block]:
    """A reader's blocks with the heading path of each; a first heading that repeats the title is not a section."""
    headings: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    for block in doc.blocks:
        if block.kind == "heading":
            name = normalize(doc.text[block.start : block.end])
            if not headings and not blocks and name == doc.title:
                continue
            headings[:] = [h for h in headings if h[0] < block.level] + [(block.level, name)]
            continue
        blocks.append(_Block(block.start, block.end, _PACKING_KIND.get(block.kind, "text"),
                             tuple(name for _, name in headings)))
    return blocks


def _lines(text: str):
    """Yield (start, end) of each line's content, without its line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        yield pos, pos + len(content)
        pos += len(line)


def _furniture(text: str) -> frozenset[str]:
    """Page furniture of extracted PDFs: short lines repeated on many pages, lone page numbers."""
    counts = Counter(
        text[s:e].strip() for s, e in _lines(text) if 0 < len(text[s:e].strip()) <= 80
    )
    # List items and code lines repeat by nature ("* Returns: {string}", "```js"): content, not furniture.
    return frozenset(line for line, n in counts.items()
                     if n >= 3 and len(line.split()) <= 12 and not _BULLET.match(line) and not _FENCE.match(line))


def _is_noise(line: str, furniture: frozenset[str]) -> bool:
    stripped = line.strip()
    return stripped in furniture or bool(re.fullmatch(r"\d{1,4}|\W|[A-Za-z]", stripped))


def _blocks(text: str, title: str, furniture: frozenset[str]) -> list[_Block]:
    """Group lines into paragraphs, list items and code blocks, tracking the heading path."""
    headings: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    current: _Block | None = None
    in_code = False
    title_seen = False
    marks: list[str] = []  # reStructuredText underline marks in order of first use
    skip = len(front_matter(text))
    for start, end in _lines(text):
        if start < skip:
            continue
        line = text[start:end]
        stripped = line.strip()
        underline = None if in_code else _UNDERLINE.match(line)
        # The block so far is copied only under an underline: copying it for every line was quadratic.
        above = text[current.start : current.end] if underline and current is not None and current.kind != "code" else "\n"
        if underline and ("\n" in above or (underline.group(1) not in "=-" and len(stripped) < len(above.strip()))):
            underline = None  # not under a one-line heading (an RST underline is at least as long as its title)
        if _FENCE.match(line) and not underline:
            in_code = not in_code
            current = _extend(blocks, current, start, end, "code", headings, new=False)
            continue
        if in_code:
            current = _extend(blocks, current, start, end, "code", headings, new=False)
            continue
        heading = _WIKI_HEADING.match(line) or _MD_HEADING.match(line)
        level, name = (len(heading.group(1)), heading.group(2).strip()) if heading else (0, "")
        if underline:
            blocks.pop()  # the line above was the heading, not a paragraph
            mark = underline.group(1)
            if mark not in "=-" and mark not in marks:
                marks.append(mark)
            level, name = ("=-".index(mark) + 1 if mark in "=-" else 3 + marks.index(mark)), normalize(above)
        elif not heading and _RULE.match(line):
            current = None
            continue
        if level:
            current = None
            if not title_seen and not blocks and name == title:
                title_seen = True
                continue
            headings[:] = [h for h in headings if h[0] < level] + [(level, name)]
            continue
        if not stripped or _is_noise(line, furniture) or stripped == title:
            current = None
            continue
        lead = len(line) - len(line.lstrip())
        current = _extend(blocks, current, start + lead, end, "bullet" if _BULLET.match(line) else "text",
                          headings, new=bool(_BULLET.match(line)))
    return blocks


def _extend(blocks, current, start, end, kind, headings, new):
    """Continue the open block with this line, or open a new one."""
    section = tuple(name for _, name in headings)
    if current is None or new or current.section != section or (current.kind == "code") != (kind == "code"):
        current = _Block(start, end, kind, section)
        blocks.append(current)
    else:
        current.end = end
    return current


def _promote_soft_headings(text: str, blocks: list[_Block]) -> list[_Block]:
    """Short standalone lines with no closing punctuation (PDF-style headings) become sections.

    Consecutive heading-like lines are read as one heading; the heading replaces the previous
    soft heading under the same hard heading path.
    """
    result: list[_Block] = []
    soft: list[str] = []
    soft_base: tuple[str, ...] | None = None
    previous_was_heading = False
    for i, block in enumerate(blocks):
        body = text[block.start : block.end]
        followed = i + 1 < len(blocks) and blocks[i + 1].section == block.section
        is_heading = followed and (
            (block.kind == "text"
             and body.count("\n") <= 1
             and word_count(body) <= 10
             and not re.search(r"[.,;:!…\"”]\s*$", body)
             and "://" not in body  # an address line, not a heading
             and (body[:1].isupper() or body[:1].isdigit()))
            or _numbered_heading(text, blocks, i)
        )
        if block.section != soft_base:
            soft, soft_base = [], block.section
        if is_heading:
            if not previous_was_heading:
                soft = []
            soft.append(normalize(body).rstrip("."))
            previous_was_heading = True
            continue
        previous_was_heading = False
        clause = _CLAUSE.match(body)
        if clause and _is_clause_title(clause.group(2), body[clause.end() :]):
            soft = [f"{clause.group(1)} {clause.group(2)}"]  # "2. Grant of Copyright License. Subject to ..."
        if soft:
            block.section = block.section + (" — ".join(soft),)
        result.append(block)
    return result


# A numbered clause whose title runs in with its text: "4. Redistribution. You may reproduce ...".
_CLAUSE = re.compile(r"(\d{1,3}(?:\.\d{1,3})*\.)[ \t]+([A-Z][^.\n]{0,60}?)\.[ \t]+(?=\S)")


def _is_clause_title(title: str, rest: str) -> bool:
    """Title Case words (every word over three letters capitalised), followed by a real sentence."""
    words = title.split()
    return (len(words) <= 6 and all(w[:1].isupper() for w in words if len(w) > 3)
            and word_count(rest.split(".", 1)[0]) >= 8)


def _numbered_heading(text: str, blocks: list[_Block], i: int) -> bool:
    """A short numbered line standing alone above a paragraph, not an item of a numbered list."""
    block, after = blocks[i], blocks[i + 1]
    body = text[block.start : block.end]
    if "\n" in body or word_count(body) > 10 or not _NUMBERED.match(body) or after.kind != "text":
        return False
    before = blocks[i - 1] if i else None
    return before is None or before.kind != "bullet" or bool(re.search(r"\n[ \t\r]*\n", text[before.end : block.start]))


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


def _make_chunk(doc: Document, start: int, end: int, section: tuple[str, ...], noise: _Noise, lead: str = "") -> Chunk:
    body = doc.text[start:end]
    visible = noise.visible(doc.text, start, end)
    lines = [ln for ln in visible.splitlines() if not _is_noise(ln, noise.furniture)]
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
    if not doc.blocks:
        return _with_code_lead_ins(doc.text, tuple(answer_units(doc.text, start, end)),
                                   lambda s: bool(_CODE_UNIT.match(doc.text, s)))
    return _with_code_lead_ins(doc.text, tuple(_block_units(doc, start, end)), lambda s: _starts_code(doc, s))


_ITEM_WORDS = 40  # a list item or table row up to this long is one answer unit, however many sentences


def _block_units(doc: Document, start: int, end: int):
    """Answer units from a reader's blocks: a short list item or table row whole ("stderr {integer}
    The file descriptor... Default: 2." answers with its default), code in its blank-line parts,
    anything else by sentence."""
    text = doc.text
    for block in doc.blocks[bisect.bisect_right(doc.blocks, start, key=lambda b: b.end):]:
        if block.start >= end:
            break
        s, e = max(block.start, start), min(block.end, end)
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


_CODE_UNIT = re.compile(r"[ \t]*(```|~~~)")
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
    words = file_name_words(doc.source)
    return "" if words.casefold() in doc.title.casefold() else words


def _merge_small(doc: Document, chunks: list[Chunk], settings: ChunkSettings, noise: _Noise) -> list[Chunk]:
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


def _with_lead_ins(doc: Document, chunks: list[Chunk], noise: _Noise) -> list[Chunk]:
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
