"""A page's lines grouped into blocks: headings, list items, table rows and paragraphs.

Blocks come from geometry and style, never from words: a change of size, a gap clearly wider
than the page's usual line spacing, an indented first line, a sentence ending well short of
its column's right edge, a new column unless the sentence runs on. Lines follow each other
when one sits a line's pitch below the other and they overlap across (`stacked`), so
double-spaced text, which the page cut puts in a band per line, still makes paragraphs.
Headings are lines set larger than the body, short bold lines standing alone (not a bold
run of running text such as an IEEE abstract, not a bold opening followed by regular text),
numbered capital section heads and short capital lines standing alone.
"""

from __future__ import annotations

import re
import statistics

from .build import squash
from .pdf_layout import Line

HEADING_RATIO = 1.15  # a line this much larger than the body text is a heading
BOLD_RUN_WORDS = 20  # bold lines running on past this many words are body text set in bold, not a heading
BULLET = re.compile(r"^\s*(?:[•●▪◦‣∙·\-–*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_LINE = re.compile(rf"^[\W\d]*(?:\d{{1,2}}\s+)?{_MONTH}\s+(?:\d{{1,2}},?\s+)?\d{{4}}\W*$"
                       r"|^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$", re.IGNORECASE)
# A sentence (or clause) ends at . ! ? : ; with closing quotes or brackets after it; a bracket or
# quote alone does not end one ("section 457(b)", "so-called “long hops”" run on).
SENTENCE_END = re.compile(r"[.!?:;…][\"'”’)\]]*\s*$")
WORD = re.compile(r"[^\W\d_]{2,}")
_NUMBERED_CAPS = re.compile(r"^(?:[IVXL]{1,6}|\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\w.*)$")  # II. / 3 / 3.1 then the title


def headline(line: Line) -> bool:
    """Whether a line can be a heading at all: words (not figure labels or numbers), no table row, upright."""
    letters = sum(ch.isalpha() for ch in line.text)
    return (not line.vertical and line.cells == 1 and len(WORD.findall(line.text)) >= 1
            and not DATE_LINE.match(squash(line.text))
            and letters >= 0.5 * len(line.text.replace(" ", "")) and len(line.text.split()) <= 20)


def stacked(upper: Line, lower: Line) -> bool:
    """Whether `lower` is the next line below `upper` in one column: a line's pitch apart, overlapping across.

    Double-spaced text is cut into a band per line (the strip between lines is empty), so the
    column number alone cannot say whether two lines follow each other.
    """
    if upper.vertical or lower.vertical or upper.page != lower.page:
        return False
    if upper.column != lower.column:
        width = min(upper.right - upper.left, lower.right - lower.left)
        if min(upper.right, lower.right) - max(upper.left, lower.left) < 0.5 * width:
            return False
    return -0.5 * lower.size <= upper.bottom - lower.top < 2 * lower.size


def _bold_runs(lines: list[Line], usual: float) -> set[int]:
    """ids of bold lines in a run of bold lines that goes on past BOLD_RUN_WORDS words: running text in bold."""
    running: set[int] = set()
    run: list[Line] = []
    for line in [*lines, None]:
        if (line is not None and line.bold and run and stacked(run[-1], line) and line.size == run[-1].size
                and run[-1].bottom - line.top <= usual + 0.5 * line.size):
            run.append(line)
            continue
        if sum(len(r.text.split()) for r in run) > BOLD_RUN_WORDS:
            running.update(id(r) for r in run)
        run = [line] if line is not None and line.bold else []
    return running


def paragraphs(lines: list[Line], body_size: float, heading_sizes: list[float]):
    """Yield (kind, level, lines) groups of one page's lines in reading order."""
    gaps = [b.bottom - a.top for b, a in zip(lines, lines[1:]) if stacked(b, a)]
    usual = statistics.median(gaps) if gaps else 0.0
    running = _bold_runs(lines, usual)

    def level_of(line: Line) -> int:
        if line.size in heading_sizes and headline(line):
            return heading_sizes.index(line.size) + 1
        if (line.bold and id(line) not in running and headline(line) and len(line.text.split()) <= 12
                and not SENTENCE_END.search(line.text) and not line.text.rstrip().endswith(",")):
            return len(heading_sizes) + 1  # a bold line of body size standing alone: the lowest heading level
        if section_head(line, body_size):
            return len(heading_sizes) + 1  # "II. STRESS-ENGINEERED MICROROBOT": capitals (or small capitals), numbered
        return 0

    def breaks(last: Line, line: Line, first: Line, frame: tuple[float, float], own_right: float | None) -> bool:
        em = max(line.size, 1.0)
        follows = stacked(last, line)
        if last is first and not line.italic and italic_head(last, body_size) and last.right < frame[1] - 2 * em:
            return True  # a short italic line standing alone above regular text: a subsection head
        if last.soft_break and abs(line.size - last.size) <= 0.25 * em and line.cells == last.cells == 1 and follows:
            return False  # a word hyphenated over two lines never ends a block (a heading's "prepara-" "tions.")
        if (section_head(first, body_size) and not level_of(line) and _capitals(line.text) and line.size == first.size
                and follows and last.bottom - line.top <= usual + 0.5 * em):
            return False  # the section head's second line ("AND ASSEMBLY")
        if (first.bold and level_of(first) and first.size not in heading_sizes and not level_of(line) and follows
                and (line.text[:1].islower() or line.text[:1] in ",.;:)]" or last.right >= frame[1] - em)
                and not SENTENCE_END.search(last.text)
                and last.bottom - line.top <= usual + 0.5 * em):
            return False  # a bold run-in head filling its line, going on in regular type mid-sentence: a paragraph
        head = level_of(first)
        if head and first.bold and not last.bold and first.size not in heading_sizes:
            head = 0  # the group went on from its bold run-in head in regular type: it is a paragraph
        if level_of(line) != head or line.vertical or last.vertical or line.cells > 1 or last.cells > 1:
            return True
        if level_of(line):  # a heading over two lines stays one heading (a title's lines are bands of their own)
            return not follows or last.bottom - line.top > max(usual, 0.3 * em) + 0.5 * em
        if BULLET.match(line.text) or abs(line.size - last.size) > 0.25 * em:
            return True
        ended = SENTENCE_END.search(last.text) is not None
        if line.column != last.column and not follows:
            return not runs_on(last, line, own_right)
        if line.ocr:  # OCR said which lines make a paragraph (its paragraph number is the column)
            return False
        gap = last.bottom - line.top
        left, right = frame
        if not ended and line.text[:1].islower() and follows and 0 <= gap <= 1.5 * em:
            return False  # the sentence runs on at its own spacing (double-spaced text on a page set mostly single)
        return (gap > usual + 0.5 * em or gap < -0.5 * em
                or (ended and last.right < right - 2 * em)
                or (ended and line.left > left + 0.8 * em and line.left > last.left + 0.8 * em))

    def kind(group: list[Line], after: Line | None = None) -> tuple[str, int, list[Line]]:
        level = level_of(group[0])
        if level and group[0].bold and group[0].size not in heading_sizes and not all(line.bold for line in group):
            level = 0  # a bold run-in head going on in regular type over a hyphenated word: a paragraph
        if not level and len(group) == 1 and capitals_alone(group[0], body_size):
            level = len(heading_sizes) + 1  # "EXEMPT CHEMICAL PREPARATIONS" on a line of its own
        if (not level and len(group) == 1 and group[0].bold and id(group[0]) not in running and headline(group[0])
                and len(group[0].text.split()) <= 12 and after is not None and not after.bold and stacked(group[0], after)
                and not level_of(after) and group[0].size not in heading_sizes and after.cells == 1
                and not group[0].text[:1].islower() and not group[0].text.rstrip().endswith((",", ":", ";", "-"))):
            level = len(heading_sizes) + 1  # a bold line alone above its paragraph, a sentence or not ("§ 1308.01 Scope.")
        if (not level and len(group) == 1 and italic_head(group[0], body_size) and after is not None
                and not after.italic and stacked(group[0], after) and not level_of(after) and after.text[:1].isalnum()
                and not after.text[:1].islower()):
            level = len(heading_sizes) + 2  # "A. String-Cluster System" in italic above its paragraph
        if level:
            return "heading", level, group
        if group[0].cells > 1:
            return "table", 0, group
        return ("list" if BULLET.match(group[0].text) else "paragraph"), 0, group

    group: list[Line] = []
    left, right = 0.0, 0.0  # the group's column (lines of a band of their own have none wider)
    for line in lines:
        if group and breaks(group[-1], line, group[0], (min(left, line.column_left), max(right, line.column_right, line.right)),
                            right if len(group) > 1 else None):
            yield kind(group, line)
            group = []
        if not group:
            left, right = line.column_left, line.right
        left, right = min(left, line.column_left, line.left), max(right, line.column_right, line.right)
        group.append(line)
    if group:
        yield kind(group)


Group = tuple[str, int, list[Line]]  # (kind, level, lines) as `paragraphs` yields them


def runs_on(last: Line, line: Line, right: float | None) -> bool:
    """Whether a sentence cut at a column or page end goes on at `line` (the next column's or page's first line).

    It does when `last` ends no sentence and the next line starts in lower case or `last` ends
    in a hyphen or comma, or when `last` fills its paragraph's width (to within 2 em of `right`,
    None for a paragraph of one line, whose width says nothing) and the next line starts flush
    with its column (no new paragraph's indent), in a size within 0.25 em.
    """
    em = max(line.size, 1.0)
    if SENTENCE_END.search(last.text) or abs(line.size - last.size) > 0.25 * em or line.cells > 1 or last.cells > 1:
        return False
    if line.text[:1].islower() or last.soft_break or last.text.rstrip().endswith(("-", ",")):
        return True
    return (right is not None and last.right >= right - 2 * em and line.left <= line.column_left + 0.8 * em
            and not BULLET.match(line.text))


def carry_over(page: list[Group], following: list[Group], pinned: bool = False) -> bool:
    """Join a paragraph cut by a page end to its rest on the next page; True when joined.

    The next page's first paragraph and the page's last paragraph in its size (no heading
    between, nor other upright text in that size: a margin stamp may) are one when the sentence
    runs on (`runs_on`). Both pages keep their blocks (each part cites its own page); the groups
    are reordered so the two parts are next to each other: what follows the first part on its
    page (footnotes, figure labels, stamps) moves before it, what precedes the rest on the next
    page (a figure, a table) after it. `pinned`:
    the page's first group already continues the page before, so nothing may move before it.
    """
    starts = [n for n, (kind, _, lines) in enumerate(following) if kind == "paragraph" and not lines[0].vertical]
    size = following[starts[0]][2][0].size if starts else 0.0
    ends = [n for n, (kind, _, lines) in enumerate(page)
            if kind == "paragraph" and not lines[0].vertical and abs(lines[-1].size - size) <= 0.1 * size]
    if not ends or not starts:
        return False
    a, b = ends[-1], starts[0]
    first, rest = page[a][2], following[b][2]
    between = page[a + 1:] + following[:b]
    if any(kind == "heading" or (kind != "table" and not lines[0].vertical and abs(lines[0].size - size) <= 0.1 * size)
           for kind, _, lines in between):
        return False  # a heading, or text in the paragraph's own size, comes between: the flow goes elsewhere
    width = max(line.column_right for line in first) if len(first) > 1 else None
    if (pinned and a == 0 and len(page) > 1) or not runs_on(first[-1], rest[0], width):
        return False
    page[a:] = page[a + 1:] + [page[a]]
    following[:b + 1] = [following[b]] + following[:b]
    return True


def italic_head(line: Line, body_size: float) -> bool:
    """A short line in italic (to its end) in the body size, no sentence and not going on: a subsection head when alone."""
    return (line.italic and headline(line) and len(line.text.split()) <= 12 and abs(line.size - body_size) <= 0.1 * body_size
            and not SENTENCE_END.search(line.text) and not line.soft_break and not line.text.rstrip().endswith((",", "-")))


def capitals_alone(line: Line, body_size: float) -> bool:
    """A short line in capitals (small capitals, 0.7 of the body size, or larger), no sentence: a heading when alone."""
    return (headline(line) and _capitals(line.text) and line.size >= 0.7 * body_size
            and len(line.text.split()) <= 10 and not SENTENCE_END.search(line.text))


def section_head(line: Line, body_size: float) -> bool:
    """A numbered section head set in capitals, small capitals (0.8 of the body size) or larger ("IV. BEYOND STRING CONTROL")."""
    match = _NUMBERED_CAPS.match(squash(line.text))
    if not match or not headline(line) or line.size < 0.75 * body_size or SENTENCE_END.search(line.text):
        return False
    return _capitals(match.group(1)) and len(line.text.split()) <= 14


def _capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and all(ch.isupper() for ch in letters)
