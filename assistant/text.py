"""Sentence spans and keyword tokens: the two text primitives every stage shares.

Sentences are returned as character spans so that answers and chunks can always be
cited exactly; nothing here downloads data (NLTK's punkt would, and fails offline).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .config import MAX_TOKEN_CHARS

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) when the next
# non-space character could start a sentence.
# Every text path here is linear in its input: runs are matched possessively (`++`, `*+`) and
# only from their first character (the look-behinds), so a 20 MB word or a line of 10 million
# dots is one pass, not a backtracking search from each of its characters.
_BOUNDARY = re.compile(r"""(?<![.!?…])[.!?…]++["'”’)\]]*+(?=\s++["'“‘(\[•\-–*]?[A-Z0-9£$€“‘"'(•])""")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr vs etc e.g eg i.e ie no nos co ltd inc approx fig cf "
    "dept est govt jan feb mar apr jun jul aug sep sept oct nov dec mt rd ave".split()
)
_WORD = re.compile(r"\S+")
# Plain-English cues that a sentence leads into the next one (a list, an elaboration).
ANNOUNCES = re.compile(r":\s*$|\b(?:below|as follows|the following)\b", re.IGNORECASE)
CONTINUES = re.compile(r"[\W_]*(?:this|these|it|they|such|that)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_]++(?:['’][^\W_]++)*+", re.UNICODE)
_COMPOUND = re.compile(r"(?<![\w-])--?[^\W_]++(?:[-_.][^\W_]++)*+"
                       r"|(?<![^\W_])[^\W_]++(?:(?:[._/]|::)_*+[^\W_]++)++(?:-[^\W_]++)*+", re.UNICODE)
# The last few characters before a full stop are enough to tell an abbreviation ("e.g.", "Dr.").
_ABBREVIATION_WINDOW = 32

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves also may might must shall us""".split()
)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentence spans, trimmed of surrounding whitespace."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        cut = match.end()
        lo = max(cursor, match.start() - _ABBREVIATION_WINDOW)  # never a scan back to the sentence start
        word_start = max(text.rfind(" ", lo, match.start()) + 1, text.rfind("\n", lo, match.start()) + 1, lo)
        word = text[word_start : match.start()].lower().lstrip("(\"'“‘")
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            continue
        _append_trimmed(text, cursor, cut, spans)
        cursor = cut
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?:[^\n]*\n){0,200}?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)")


def front_matter(text: str) -> str:
    """A Markdown file's leading YAML block (`---` ... `---`): metadata, not content; "" if none."""
    match = _FRONT_MATTER.match(text)
    return match.group() if match else ""


_META_TITLE = re.compile(r"^title:[ \t]*[\"']?(.+?)[\"']?[ \t]*$", re.MULTILINE)


def front_matter_title(meta: str) -> str:
    """The `title:` of a front matter block (see front_matter), or "" when it names none."""
    named = _META_TITLE.search(meta)
    return named.group(1) if named else ""


def word_count(text: str) -> int:
    """Words as a reader counts them: newline-joined words count separately."""
    return len(_WORD.findall(text))


def normalize(text: str) -> str:
    """Join hard-wrapped lines and collapse whitespace (incl. NBSP) for embedding and display."""
    return " ".join(text.split())


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer: Snowball English, no data download

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Keyword tokens: lower-cased, stop words removed, Snowball-stemmed.

    Identifiers joined by . _ :: or / ("path.basename", "async_hooks") and command-line flags
    ("--env-file") also count whole, unstemmed, besides their parts: an exact match on a rare
    name is strong evidence. Hyphenated prose words ("long-term") stay split.
    """
    lowered = text.lower()
    words = [w.replace("’", "'") for w in _TOKEN.findall(lowered) if len(w) <= MAX_TOKEN_CHARS]
    words = [w[:-2] if w.endswith("'s") else w for w in words]
    words = [w for w in words if w not in STOP_WORDS]
    return _stemmer().stemWords(words) + [w for w in _COMPOUND.findall(lowered) if len(w) <= MAX_TOKEN_CHARS]


# How plain text marks lists and code, as Markdown writes them: the text reader, the chunker and
# answering each read them (ingest/structure.py builds its line rules from these), so one definition.
LIST_MARK = r"[•●▪◦‣∙·*+\-–]|\d{1,3}[.)]"  # a bullet or a number opening a list item
FENCE_MARK = r"```|~~~"  # a code fence, which opens or closes a code block on its own line
FENCE_LINE = re.compile(rf"^[ \t]*(?:{FENCE_MARK})", re.MULTILINE)  # a fence line's mark, in a whole text
INLINE_CODE = re.compile(r"`[^`\n]+`")  # a backtick run within a line: code written inline

_UNIT_BREAK = re.compile(rf"\n[ \t]*\n|\n(?=[ \t]*(?:{LIST_MARK})\s)")

# A surrogate code point in a str is never a character (a PDF glyph outside the Basic Multilingual Plane
# that PDFium gives as two halves, or cannot pair); the tokenizer refuses any text holding one.
SURROGATE = re.compile("[\ud800-\udfff]")


def answer_units(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans that also break at blank lines and list items (bullets lack full stops)."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _UNIT_BREAK.finditer(text, start, end):
        spans.extend(sentence_spans(text, cursor, match.start()))
        cursor = match.end()
    spans.extend(sentence_spans(text, cursor, end))
    return spans


def terminal_safe(text: str) -> str:
    """Text for one line of a terminal or a page: control and other non-printing characters
    (escape sequences, newlines, tabs, bidirectional overrides) shown as \\x1b, \\n, \\u202e."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
