"""What kind of answer a question asks for, and whether a sentence could hold one.

Classic open-domain QA systems match the expected answer type before anything else: a
"how many" question is not answered by a sentence without a number, however many of the
question's words it repeats. Four types are recognised, from the question's own wording, in
plain English; everything else is untyped and scored on words and meaning alone. CODE is the
technical one: a question asking for a command, flag, syntax or function is answered by a code
line or an inline `code` span, which prose around it only describes.
"""

from __future__ import annotations

import re

from ..text import INLINE_CODE

NUMBER, DATE, NAME, CODE = "number", "date", "name", "code"

_NUMBER_QUESTION = re.compile(
    r"\bhow\s+(?:many|much|long|old|far|often|big|large|small|high|tall)\b"
    r"|\bwhat\s+(?:percentage|proportion|share|number|amount|fraction|size|population|cost|price)\b",
    re.IGNORECASE)
_DATE_QUESTION = re.compile(
    r"^\W*when\b|\b(?:by|since|until|from)\s+when\b|\bwhat\s+(?:year|date|month|day|decade|century|time)\b"
    r"|\bwhich\s+(?:year|date|month|day|decade|century)\b",
    re.IGNORECASE)
_NAME_QUESTION = re.compile(r"^\W*(?:who|whom|whose)\b", re.IGNORECASE)
_CODE_QUESTION = re.compile(
    r"\b(?:what|which)\s+(?:\w+\s+){0,2}?(?:command|commands|flag|flags|option|options|syntax|function|method|"
    r"keyword|call|invocation|snippet|code)\b"
    r"|\bhow\s+(?:do|can|would|should|to)\s+(?:(?:i|you|we)\s+)?(?:run|invoke|call|type|write|declare|specify)\b"
    r"|\b(?:command|syntax|flag)\s+(?:for|to)\b",
    re.IGNORECASE)

_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                 r"hundreds?|thousands?|millions?|billions?|dozens?|half|twice|double|triple|quarter|third")
_HAS_NUMBER = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_HAS_DATE = re.compile(
    rf"\b(?:1[0-9]|20)\d\d(?:s|/\d\d)?\b|\b(?:{_MONTHS})\b|\b(?:century|decade|yesterday|today|spring|summer|"
    r"autumn|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[0-9]|20)\d\d(?:s|/\d\d)?\b")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’&-]*")


def answer_type(question: str) -> str | None:
    """NUMBER, DATE or NAME when the question's wording asks for one, else None."""
    if _NUMBER_QUESTION.search(question):
        return NUMBER
    if _DATE_QUESTION.search(question):
        return DATE
    if _NAME_QUESTION.search(question):
        return NAME
    if _CODE_QUESTION.search(question):
        return CODE
    return None


def holds_type(sentence: str, kind: str | None, question: str = "", in_code: bool = False) -> bool:
    """Whether the sentence contains something of that kind (a name the question lacks, for NAME).

    For CODE, `in_code` says the sentence is a line of a code block.
    """
    if kind == CODE:
        return in_code or bool(INLINE_CODE.search(sentence))
    if kind == NUMBER:  # a year alone ("In 2017 ...") is not a count or an amount
        return bool(_HAS_NUMBER.search(_YEAR.sub(" ", sentence)))
    if kind == DATE:
        return bool(_HAS_DATE.search(sentence))
    if kind == NAME:
        asked = {w.casefold() for w in re.findall(r"[\w'’&-]+", question)}
        return any(m.group().casefold() not in asked for m in _CAPITALISED.finditer(sentence))
    return False
