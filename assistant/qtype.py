"""What kind of answer a question asks for, and whether a sentence could hold one.

Classic open-domain QA systems match the expected answer type before anything else: a
"how many" question is not answered by a sentence without a number, however many of the
question's words it repeats. Only three types are recognised, from the question's own
wording, in plain English; everything else is untyped and scored on words and meaning alone.
"""

from __future__ import annotations

import re

NUMBER, DATE, NAME = "number", "date", "name"

_NUMBER_QUESTION = re.compile(
    r"\bhow\s+(?:many|much|long|old|far|often|big|large|small|high|tall)\b"
    r"|\bwhat\s+(?:percentage|proportion|share|number|amount|fraction|size|population|cost|price)\b",
    re.IGNORECASE)
_DATE_QUESTION = re.compile(
    r"^\W*when\b|\b(?:by|since|until|from)\s+when\b|\bwhat\s+(?:year|date|month|day|decade|century|time)\b"
    r"|\bwhich\s+(?:year|date|month|day|decade|century)\b",
    re.IGNORECASE)
_NAME_QUESTION = re.compile(r"^\W*(?:who|whom|whose)\b", re.IGNORECASE)

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
    return None


def holds_type(sentence: str, kind: str | None, question: str = "") -> bool:
    """Whether the sentence contains something of that kind (a name the question lacks, for NAME)."""
    if kind == NUMBER:  # a year alone ("In 2017 ...") is not a count or an amount
        return bool(_HAS_NUMBER.search(_YEAR.sub(" ", sentence)))
    if kind == DATE:
        return bool(_HAS_DATE.search(sentence))
    if kind == NAME:
        asked = {w.casefold() for w in re.findall(r"[\w'’&-]+", question)}
        return any(m.group().casefold() not in asked for m in _CAPITALISED.finditer(sentence))
    return False
