"""Table rows checked cell by cell against the printed line (`pdftotext -layout`, poppler-utils).

For every table row the reader makes (a line of two cells or more, before pairing), the row's
words are aligned with the words of the printed line of the same page that shares most of them.
Where they differ only by spacing the row is wrong:
- a number merged: one word of the row is two or more printed words ("30" for "3 0");
- a number split: one printed word is two or more words of the row;
- cells merged: two words of one cell stand CELL_GAP spaces or more apart in the printed line, a
  column gap pdftotext saw (it keeps one space inside a phrase);
- cells split: a printed word is cut between two cells ("Area (km2 | )").
Numbers are words of digits and punctuation only on both sides (a formula's subscript that
pdftotext sets apart, "Br (0)" for "Br(0)", is no number merged).
A line read as text (one cell) with two numbers or more that pdftotext sets CELL_GAP spaces
apart is a table row the reader missed ("rows read as text").
For a row read with its header ("Column: value"), the value's printed place must overlap the
name's in the printed header line (within SLACK characters: pdftotext places words by their x),
and a header is partial when the printed line right above it, not a blank, has a phrase within a
name's place (a header printed over two lines, paired with one; a caption across the table is not).
pdftotext is itself a reader: its own merges show up as disagreements too, so the examples are
printed for a person to judge.
"""

from __future__ import annotations

import difflib
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SLACK = 2  # characters
_NUMBER = re.compile(r"^[\W\d_]*\d[\W\d_]*$")  # digits and punctuation only: 1,234.5 (3) 12% $7
_MARK = re.compile(r"^(?:\(?\w{1,3}[.)]|\W+)$")  # "1." "(a)" "iv)" "$" "•"
CELL_GAP = 3  # spaces: pdftotext's sign of a column gap (justified text gets 2 at times)


@dataclass
class CellCheck:
    rows: int = 0
    uncut: int = 0  # lines read as text whose numbers pdftotext prints in columns: a table row missed
    unmatched: int = 0  # no printed line shares half the row's words
    numbers_merged: int = 0
    numbers_split: int = 0
    cells_merged: int = 0
    cells_split: int = 0
    paired: int = 0
    pairing_wrong: int = 0
    header_partial: int = 0
    examples: list[str] = field(default_factory=list)

    def columns(self) -> str:
        return (f"{self.rows} | {self.uncut} | {self.numbers_merged} | {self.numbers_split} | {self.cells_merged}"
                f" | {self.cells_split} | {self.unmatched} | {self.paired} | {self.pairing_wrong} | {self.header_partial}")


HEAD = ("table rows | rows read as text | numbers merged | numbers split | cells merged | cells split | rows not found in print"
        " | rows paired | pairing wrong | header partial")


def _tokens(line: str) -> list[tuple[str, int, int]]:
    return [(m.group().casefold(), m.start(), m.end()) for m in re.finditer(r"\S+", line)]


def _printed_line(words: list[str], printed: list[list[tuple[str, int, int]]]) -> int | None:
    """Index of the printed line sharing most of the words (at least half of them), or None."""
    want = Counter(words)
    best, found = 0, None
    for n, tokens in enumerate(printed):
        have = Counter(t[0] for t in tokens)
        shared = sum(min(k, have[w]) for w, k in want.items())
        if shared > best:
            best, found = shared, n
    return found if best * 2 >= len(words) and words else None


def _cells(line) -> list[str]:
    return [line.text[start:end] for start, end, _, _ in line.cell_spans]


def _align(line, printed: list[list[tuple[str, int, int]]]):
    """(printed line index, [(cell, printed token index) per row word], problems) or None when not found."""
    words = [(w.casefold(), c) for c, cell in enumerate(_cells(line)) for w in cell.split()]
    n = _printed_line([w for w, _ in words], printed)
    if n is None:
        return None
    tokens = printed[n]
    problems: set[str] = set()
    places: list[tuple[int, int]] = []
    matcher = difflib.SequenceMatcher(None, [w for w, _ in words], [t[0] for t in tokens], autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            places += [(words[a][1], b1 + a - a1) for a in range(a1, a2)]
        elif op == "replace" and "".join(w for w, _ in words[a1:a2]) == "".join(t[0] for t in tokens[b1:b2]):
            if all(_NUMBER.match(w) for w, _ in words[a1:a2]) and all(_NUMBER.match(t[0]) for t in tokens[b1:b2]):
                problems.add("numbers_merged" if a2 - a1 < b2 - b1 else "numbers_split")
            elif len({c for _, c in words[a1:a2]}) > 1:
                problems.add("cells_split")  # a printed word cut between two cells
            # else: the same characters spaced otherwise inside one cell (a subscript pdftotext set apart)
    for (c1, b1), (c2, b2) in zip(places, places[1:]):
        if (c1 == c2 and b2 == b1 + 1 and tokens[b2][1] - tokens[b1][2] >= CELL_GAP
                and not _MARK.match(tokens[b1][0])):  # pdftotext sets a list's "1." or a "$" apart from its text
            problems.add("cells_merged")
    return n, places, problems


def _uncut(line, printed: list[list[tuple[str, int, int]]]) -> bool:
    """A line of one cell holding two numbers or more that its printed line sets CELL_GAP spaces apart."""
    words = [w.casefold() for w in line.text.split()]
    if sum(bool(_NUMBER.match(w)) for w in words) < 2:
        return False
    n = _printed_line(words, printed)
    if n is None:
        return False
    tokens = printed[n]
    matcher = difflib.SequenceMatcher(None, words, [t[0] for t in tokens], autojunk=False)
    for op, _, _, b1, b2 in matcher.get_opcodes():
        for b in range(b1, b2 - 1) if op == "equal" else ():
            if (_NUMBER.match(tokens[b][0]) and _NUMBER.match(tokens[b + 1][0])
                    and tokens[b + 1][1] - tokens[b][2] >= CELL_GAP):
                return True
    return False


def _chunk_over(above: list[tuple[str, int, int]], name: tuple[int, int]) -> bool:
    """Whether a printed phrase of the line above (words fewer than CELL_GAP spaces apart) stands over the
    name, within its place: a header's other line, not a caption running across the table."""
    chunks: list[list[tuple[str, int, int]]] = []
    for token in above:
        if chunks and token[1] - chunks[-1][-1][2] < CELL_GAP:
            chunks[-1].append(token)
        else:
            chunks.append([token])
    return any(name[0] - 2 * SLACK <= chunk[0][1] and chunk[-1][2] <= name[1] + 2 * SLACK for chunk in chunks)


def _span(tokens: list[tuple[str, int, int]], places: list[tuple[int, int]], cell: int) -> tuple[int, int] | None:
    found = [tokens[b] for c, b in places if c == cell]
    return (min(t[1] for t in found), max(t[2] for t in found)) if found else None


def check_file(path: Path) -> CellCheck:
    """The cell check of one PDF's table rows (text layer only)."""
    import pypdfium2 as pdfium

    from assistant.ingest.readers import pdf as reader
    from assistant.ingest.readers.pdf_layout import page_lines
    from assistant.ingest.readers.pdf_tables import LABEL, Paired, read_rows

    result = CellCheck()
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True).stdout.decode(errors="replace")
    printed_pages = out.split("\f")
    try:
        pdf = pdfium.PdfDocument(path.read_bytes())
    except pdfium.PdfiumError:
        return result
    for p in range(len(pdf)):
        page_text = printed_pages[p].split("\n") if p < len(printed_pages) else []
        printed = [_tokens(line) for line in page_text]
        page = pdf[p]
        lines = reader.read_page(page, p) if hasattr(reader, "read_page") else page_lines(page.get_textpage(), p)
        for line in lines:
            if line.cells < 2 and not line.vertical and _uncut(line, printed):
                result.uncut += 1
                if len(result.examples) < 60:
                    result.examples.append(f"p{p + 1} uncut: {line.text!r}")
            if line.cells < 2 or not line.cell_spans or line.vertical:
                continue
            result.rows += 1
            found = _align(line, printed)
            if found is None:
                result.unmatched += 1
                continue
            _, _, problems = found
            for problem in problems:
                setattr(result, problem, getattr(result, problem) + 1)
            if problems and len(result.examples) < 40:
                result.examples.append(f"p{p + 1} {sorted(problems)}: {line.text!r} / printed "
                                       f"{page_text[found[0]].strip()!r}")
        for item in read_rows(lines):
            if isinstance(item, Paired):
                _check_pairing(item, printed, page_text, result, p, LABEL)
    pdf.close()
    return result


def _check_pairing(item, printed, page_text, result: CellCheck, p: int, label: int) -> None:
    """Whether each value stands under its name in print, and whether the header is whole."""
    result.paired += 1
    row, header = _align(item.row, printed), _align(item.header, printed)
    if row is None or header is None:
        return
    wrong = partial = False
    above = printed[header[0] - 1] if header[0] else []
    own = {w.casefold() for w in item.header.text.split()}  # a header over two lines matched its lower line
    above = [t for t in above if t[0] not in own]
    for cell, column in enumerate(item.columns):
        if column == label:
            continue
        value, name = _span(printed[row[0]], row[1], cell), _span(printed[header[0]], header[1], column)
        if value is None or name is None:
            continue
        if min(value[1], name[1]) + SLACK <= max(value[0], name[0]):
            wrong = True
        if _chunk_over(above, name):
            partial = True
    result.pairing_wrong += wrong
    result.header_partial += partial
    if (wrong or partial) and len(result.examples) < 40:
        result.examples.append(f"p{p + 1} {'pairing wrong' if wrong else 'header partial'}: {item.row.text!r} under "
                               f"{item.header.text!r} / printed {page_text[header[0]].strip()!r}")
