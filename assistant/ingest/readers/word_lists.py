"""Word list numbering: which paragraphs are list items and the number Word shows before each.

A paragraph is a list item when it (or its style) has `w:numPr`; the numbering part says, per list
and level, whether it is bulleted or numbered and how the number reads ("%1.", "%1.%2)", letters,
roman numerals). Counting happens here because Word stores no numbers, only the rules.
"""

from __future__ import annotations

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa (Word repeats the letter)."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


def format_number(n: int, fmt: str) -> str:
    """A counter as a numbering format shows it; unknown formats as decimals."""
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n) if 0 < n < 5000 else str(n)
    if fmt == "upperRoman":
        return _roman(n).upper() if 0 < n < 5000 else str(n)
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


def _val(element, path: str, default: str = "") -> str:
    found = element.find(path)
    return found.get(f"{W}val", default) if found is not None else default


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


class Numbering:
    """List levels of a document's numbering part and the running counters of its lists."""

    def __init__(self, root, style_numbers: dict[str, tuple[str, int]]) -> None:
        self.style_numbers = style_numbers
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, ilvl) -> (numFmt, lvlText, start)
        self.counters: dict[str, list[int]] = {}
        if root is None:
            return
        abstract = {}
        for node in root.iter(f"{W}abstractNum"):
            abstract[node.get(f"{W}abstractNumId", "")] = {
                _int(lvl.get(f"{W}ilvl", "0"), 0): (_val(lvl, f"{W}numFmt", "decimal"), _val(lvl, f"{W}lvlText"),
                                                   _int(_val(lvl, f"{W}start", "1"), 1))
                for lvl in node.iter(f"{W}lvl")}
        for num in root.iter(f"{W}num"):
            num_id = num.get(f"{W}numId", "")
            levels = dict(abstract.get(_val(num, f"{W}abstractNumId"), {}))
            for override in num.iter(f"{W}lvlOverride"):
                ilvl = _int(override.get(f"{W}ilvl", "0"), 0)
                fmt, text, start = levels.get(ilvl, ("decimal", f"%{ilvl + 1}.", 1))
                lvl = override.find(f"{W}lvl")
                if lvl is not None:
                    fmt, text = _val(lvl, f"{W}numFmt", fmt), _val(lvl, f"{W}lvlText", text)
                start = _int(_val(override, f"{W}startOverride", str(start)), start)
                levels[ilvl] = (fmt, text, start)
            for ilvl, level in levels.items():
                self.levels[(num_id, ilvl)] = level

    def marker(self, p, style_id: str) -> str | None:
        """None when the paragraph is no list item; "" for a bullet; else its number ("3.", "2.1", "b)")."""
        num_pr = p.find(f"{W}pPr/{W}numPr")
        if num_pr is not None:
            num_id = _val(num_pr, f"{W}numId")
            ilvl = _int(_val(num_pr, f"{W}ilvl", "0"), 0)
            if not num_id and style_id in self.style_numbers:  # the level set here, the list by the style
                num_id = self.style_numbers[style_id][0]
        elif style_id in self.style_numbers:
            num_id, ilvl = self.style_numbers[style_id]
        else:
            return None
        if num_id in ("", "0"):  # numId 0 takes a paragraph out of its style's list
            return None
        ilvl = min(max(ilvl, 0), 8)
        fmt, text, start = self.levels.get((num_id, ilvl), ("bullet", "", 1))
        counts = self.counters.setdefault(num_id, [0] * 9)
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else start
        for deeper in range(ilvl + 1, 9):
            counts[deeper] = 0
        if fmt in ("bullet", "none"):
            return ""
        for level in range(9, 0, -1):  # %10 does not exist; from %9 down so "%1" never eats "%1x"
            if f"%{level}" in text:
                lfmt, _, lstart = self.levels.get((num_id, level - 1), ("decimal", "", 1))
                text = text.replace(f"%{level}", format_number(counts[level - 1] or lstart, lfmt))
        return text.strip()
