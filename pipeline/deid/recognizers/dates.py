"""Dates that qscribe's full-date finder leaves: a day given only as an ordinal ("on the
18th", "she'll be ninety on the twenty-third"), a month and day without a year written
with a slash ("4/12"), and the Fourth of July (a month and a day, in a holiday's name).
A Spanish date ("el quince de agosto") too. Weekdays, months alone, years alone and other
holidays identify no one and stay.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer
from pipeline.deid.spoken import ORDINAL_WORD

ORDINAL_DAY = re.compile(
    rf"\b(?:on|since|until|till|by|before|after|from|through|thru|around)\s+the\s+({ORDINAL_WORD})\b",
    re.IGNORECASE,
)
#: After an ordinal these make it something other than a day of the month.
NOT_DAY = re.compile(
    r"^\s*(?:of\s+(?:the\s+)?(?:month|year|week)|floor|grade|time|times|street|st\b|avenue|"
    r"ave\b|birthday|century|place|row|round|day|week|month|year|one|ones|person|people|"
    r"shift|try|step|step|date|visit|session|inning|hole|game|period|quarter|half|lane|"
    r"level|stop|page|chapter|anniversary|call|thing|part|of\s+(?:them|us|those|these))",
    re.IGNORECASE,
)
SLASH_DAY = re.compile(r"(?<![\d/.,$])(1[0-2]|0?[1-9])/(3[01]|[12]\d|0?[1-9])(?![\d/%])")
_ES_DAY = (
    r"(?:\d{1,2}|primero|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|trece|"
    r"catorce|quince|dieciséis|dieciseis|diecisiete|dieciocho|diecinueve|veinte|veinti\w+|"
    r"treinta(?:\s+y\s+uno)?)"
)
SPANISH = re.compile(
    rf"\b{_ES_DAY}\s+de\s+(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
    r"setiembre|octubre|noviembre|diciembre)\b",
    re.IGNORECASE,
)
MONEY = re.compile(r"\b(?:paid|pay|check|money|broke|rent|benefits?|ssi|ssdi|snap|deposit)", re.I)
FOURTH = re.compile(
    r"\b(?:the\s+)?(?:fourth|4th)\s+of\s+july\b|\bjuly\s+(?:the\s+)?(?:fourth|4th)\b",
    re.IGNORECASE,
)


class DayRecognizer(Recognizer):
    ENTITIES = ("DATE",)
    NAME = "DayRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for m in ORDINAL_DAY.finditer(text):
            word = m.group(1).lower()
            if not word[0].isdigit():
                continue  # "paid on the third", "broke by the twentieth": the month's cycle
            if MONEY.search(text[max(0, m.start() - 50) : m.start()]):
                continue
            if NOT_DAY.match(text[m.end() :]):
                continue
            value = re.sub(r"\D", "", word)
            if value and not 1 <= int(value) <= 31:
                continue
            yield m.start(1), m.end(1), "DATE", 0.6
        for m in SLASH_DAY.finditer(text):
            before = text[max(0, m.start() - 15) : m.start()].lower()
            after = text[m.end() : m.end() + 12].lower()
            if re.search(r"\b(?:out of|score|rated?|odds|mile|pain)\b", before) or re.match(
                r"\s*(?:of|out\s+of|times|split|odds|chance)", after
            ):
                continue
            yield m.start(), m.end(), "DATE", 0.55
        for m in SPANISH.finditer(text):
            yield m.start(), m.end(), "DATE", 0.6
        for m in FOURTH.finditer(text):
            start = m.start() + (4 if m.group(0).lower().startswith("the ") else 0)
            yield start, m.end(), "DATE", 0.6
