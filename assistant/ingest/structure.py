"""What plain text's structure looks like: the one set of rules for headings, fences, bullets,
rules, page furniture and titles in a file read as written.

The plain-text reader (`readers/text.py`) finds blocks with them, `reader.py` finds titles with
them, and the chunker hides noise with them, so the viewer (which shows the reader's blocks) and
the citations (whose sections come from the same blocks) cannot disagree about a file's
structure. Rules only: no walk over a document lives here.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..text import FENCE_MARK, LIST_MARK, front_matter, front_matter_title, word_count

# Headings written with marks: MediaWiki's "== Section ==" and Markdown's "## Section".
WIKI_HEADING = re.compile(r"^\s*(=+)\s*([^=].*?)\s*=+\s*$")
MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
# A line of one repeated mark under a one-line heading: Markdown's = (level 1) and - (level 2),
# and reStructuredText's other adornments (levels 3, 4, ... in order of first use).
UNDERLINE = re.compile(r"^\s{0,3}([=\-~^\"'`#*+:._])\1{2,}\s*$")
UNDERLINE_LEVELS = "=-"  # the marks with a fixed level (1, 2); others take levels in order of first use
RULE = re.compile(r"^\s*([-=*_~^#+:.])(?:\s*\1){2,}\s*$")  # a drawn line with nothing above it to underline
BULLET = re.compile(rf"^\s*(?:{LIST_MARK}|[a-z][.)])\s+")
FENCE = re.compile(rf"^\s*({FENCE_MARK})")  # a line that opens or closes a fenced code block
FENCE_AT = re.compile(rf"[ \t]*({FENCE_MARK})")  # the same, matched at an offset of the whole text
# "4. Conveying Verbatim Copies." or "Section 2.1 Grants" standing alone above a paragraph.
NUMBERED = re.compile(r"^(?i:(?:section|article|chapter|part|clause)\s+)?\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z\"“'‘(]")
# A numbered clause whose title runs in with its text: "4. Redistribution. You may reproduce ...".
CLAUSE = re.compile(r"(\d{1,3}(?:\.\d{1,3})*\.)[ \t]+([A-Z][^.\n]{0,60}?)\.[ \t]+(?=\S)")
SOFT_HEADING_WORDS = 10  # a heading found by its look (no marks) is one short line
SOFT_HEADING_END = re.compile(r"[.,;:!…\"”]\s*$")  # ...that does not end as a sentence or clause does
# HTML comments (Markdown metadata, tables of contents) and Markdown link definitions ("[id]: url").
HIDDEN = re.compile(r"<!--[\s\S]*?(?:-->|\Z)|^[ \t]*\[[^\]\n]+\]:[ \t]*\S+[^\n]*$", re.MULTILINE)
# Titles: `= Title =` and `# Title` (one level only), and a line underlined with `===`.
WIKI_TITLE = re.compile(r"^\s*=\s*([^=\n].*?)\s*=\s*$")
MD_TITLE = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$")


def lines(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each line's content, without its line break."""
    pos = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        yield pos, pos + len(content)
        pos += len(line)


def furniture(text: str) -> frozenset[str]:
    """Page furniture of extracted PDFs: short lines repeated on many pages, lone page numbers."""
    counts = Counter(line.strip() for line in text.splitlines())  # the lines of `lines`, stripped
    # List items and code lines repeat by nature ("* Returns: {string}", "```js"): content, not furniture.
    return frozenset(line for line, n in counts.items()
                     if n >= 3 and 0 < len(line) <= 80 and len(line.split()) <= 12
                     and not BULLET.match(line) and not FENCE.match(line))


def is_noise(line: str, repeated: frozenset[str]) -> bool:
    """A line that is not content: page furniture, a lone page number, letter or mark."""
    stripped = line.strip()
    return stripped in repeated or bool(_LONE.fullmatch(stripped))


_LONE = re.compile(r"\d{1,4}|\W|[A-Za-z]")  # a page number, a bullet or letter left alone on its line


@dataclass(frozen=True)
class Noise:
    """What a plain-text file holds that is not content: page furniture, HTML comments, link definitions.

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


NO_NOISE = Noise(frozenset(), ())


def noise(text: str) -> Noise:
    """The noise of a file read as written."""
    return Noise(furniture(text), tuple(m.span() for m in HIDDEN.finditer(text)))


def is_clause_title(title: str, rest: str) -> bool:
    """Title Case words (every word over three letters capitalised), followed by a real sentence."""
    words = title.split()
    return (len(words) <= 6 and all(w[:1].isupper() for w in words if len(w) > 3)
            and word_count(rest.split(".", 1)[0]) >= 8)


def text_title(text: str) -> str:
    """The title a plain-text file gives itself (front matter `title:`, `= Title =`, `# Title`, a
    line underlined with `===`, or an all-capitals or centred first line); "" if none."""
    meta = front_matter(text)
    named = front_matter_title(meta)
    if named:
        return named
    found = text[len(meta):].lstrip("\ufeff").splitlines()[:6]
    for i, line in enumerate(found):
        if not line.strip():
            continue
        match = WIKI_TITLE.match(line) or MD_TITLE.match(line)
        if match and not line.lstrip().startswith("=="):
            return match.group(1).strip()
        if re.fullmatch(r"\s*={3,}\s*", line) and i + 1 < len(found):  # reStructuredText: overlined title
            i, line = i + 1, found[i + 1]
        if i + 1 < len(found) and re.fullmatch(r"\s{0,3}={3,}\s*", found[i + 1]) and 0 < len(line.split()) <= 15:
            return " ".join(line.split())
        words = line.split()
        if len(words) <= 8 and re.search(r"[A-Za-z]", line) and (line.upper() == line or line.startswith(" " * 8)):
            return " ".join(words)  # a plain-text title: an all-capitals or centred first line
        break
    return ""


def file_name_title(source: str) -> str:
    """A title made from the file name when the document gives none ("gpl-3.0.txt" -> "Gpl 3.0")."""
    words = file_name_words(source)
    return words[:1].upper() + words[1:] if words else source


def file_name_words(source: str) -> str:
    """A file's name as words, without folder or extension ("notes/gpl-3.0.txt" -> "gpl 3.0")."""
    return " ".join(re.sub(r"[_\-]+", " ", Path(source).stem).split())
