"""Spoken identifiers: numbers, emails, web addresses, street addresses, dates, ages.

Whisper writes a phone number as "555-0142", "5-5-5-0142" or "five five five,
zero one four two"; an email as "maria dot lopez at gmail dot com". These
finders work on lowercase, unpunctuated text as well as on cased text, and
return character spans with a type and a score.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ONES = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
    "hundredth": 100,
}
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
TLDS = (
    "com|org|net|edu|gov|us|io|info|biz|co|me|nyc|tv|app|church|life|online|site|ky|wi|ly|"
    "gg|link|page|store|shop|club|health|care|xyz|blog|live|news"
)
STREET = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|place|pl|court|ct|way|"
    "terrace|parkway|pkwy|highway|hwy|plaza|square|turnpike|expressway"
)
DIRECTION = "north|south|east|west|n|s|e|w"
ID_CONTEXT = re.compile(
    r"\b(medicaid|medicare|social|security|ssn|ssi|member|case|id|number|account|license|"
    r"policy|insurance|chart|record|mrn|badge|card|client|patient)\b",
    re.IGNORECASE,
)
AGE_BEFORE = re.compile(
    r"\b(is|she's|he's|i'm|im|was|turned|turns|turning|age|aged|be|being|at)\s*$", re.IGNORECASE
)
AGE_AFTER = re.compile(r"^\s*(years?|yrs?)([- ]old)?\b", re.IGNORECASE)
NOT_AGE_AFTER = re.compile(
    r"^\s*(dollars?|bucks|cents|percent|minutes?|seconds?|hours?|days?|weeks?|months?|"
    r"pounds?|miles?|people|members?|times?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str
    score: float


TOKEN = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*|\d+(?:[.,/-]\d+)*|[()@]")


def _word_value(word: str) -> str | None:
    """Digits spoken by one word ("five" -> "5", "twenty-one" -> "21", "742" -> "742")."""
    w = word.lower()
    if w.isdigit():
        return w
    if re.fullmatch(r"\d+(?:[-.]\d+)+", w):
        return re.sub(r"\D", "", w)
    if w in ONES and w not in ("o", "oh"):
        return str(ONES[w])
    if w in ("o", "oh"):
        return "0"
    if w in TEENS:
        return str(TEENS[w])
    if w in TENS:
        return str(TENS[w])
    parts = w.split("-")
    if len(parts) == 2 and parts[0] in TENS and parts[1] in ONES:
        return str(TENS[parts[0]] + ONES[parts[1]])
    if w in ("double", "triple"):
        return ""
    return None


def number_runs(text: str) -> list[tuple[int, int, str]]:
    """Maximal runs of spoken or written numbers: (start, end, digits)."""
    return list(_number_runs(text))


@functools.lru_cache(maxsize=64)
def _number_runs(text: str) -> tuple[tuple[int, int, str], ...]:
    """:func:`number_runs`, remembered: several recognizers read the same turn's numbers."""
    runs: list[tuple[int, int, str]] = []
    cur: list[tuple[int, int, str]] = []
    repeat = 1
    tokens = list(TOKEN.finditer(text))
    for i, m in enumerate(tokens):
        word = m.group(0)
        value = _word_value(word)
        gap = text[cur[-1][1] : m.start()] if cur else ""
        # Between digits a comma, dash, dot, space or parenthesis may stand; "oh" only amid digits.
        joinable = not cur or re.fullmatch(r"[\s,.\-()]*", gap) is not None
        if word in ("(", ")") and cur:
            continue
        if word.lower() in ("o", "oh") and not (cur or _next_is_number(tokens, i)):
            value = None
        if word.lower() in ("double", "triple") and _next_is_number(tokens, i):
            repeat = 2 if word.lower() == "double" else 3
            cur.append((m.start(), m.end(), ""))
            continue
        if value is not None and joinable:
            cur.append((m.start(), m.end(), value * repeat if len(value) == 1 else value))
            repeat = 1
            continue
        if cur:
            runs.append(_close(cur))
        cur = [(m.start(), m.end(), value)] if value is not None else []
        repeat = 1
    if cur:
        runs.append(_close(cur))
    return tuple(r for r in runs if r[2])


def _next_is_number(tokens: list[re.Match[str]], i: int) -> bool:
    return i + 1 < len(tokens) and _word_value(tokens[i + 1].group(0)) not in (None, "")


def _close(cur: list[tuple[int, int, str]]) -> tuple[int, int, str]:
    return cur[0][0], cur[-1][1], "".join(v for _, _, v in cur)


def find_numbers(text: str) -> list[Span]:
    """Phone numbers and identifiers, spoken or written."""
    out = []
    for start, end, digits in number_runs(text):
        before = text[max(0, start - 40) : start]
        n = len(digits)
        if n in (7, 10) or (n == 11 and digits.startswith("1")):
            kind = (
                "ID"
                if ID_CONTEXT.search(before)
                and not re.search(r"phone|call|cell|number is", before, re.I)
                else "PHONE"
            )
            if kind == "PHONE" and re.search(r"\b(social|ssn|medicaid|member)\b", before, re.I):
                kind = "ID"
            out.append(Span(start, end, kind, 0.85))
        elif n == 9 or n >= 8:
            out.append(Span(start, end, "ID", 0.8))
        elif n >= 4 and ID_CONTEXT.search(before[-25:]):
            out.append(Span(start, end, "ID", 0.7))
    return out


#: A part of a spoken address: a word, digits, a spoken number ("fifty-six").
_PART = r"[a-z0-9][a-z0-9_-]*"
_SEP = r"(?:dot|underscore|under\s+score|dash|hyphen|period|punto|guion|gui[oó]n\s+bajo)"
_NUM = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[a-z]+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?"
SPOKEN_EMAIL = re.compile(
    rf"\b(?:[a-z]\s+(?={_PART}\s+(?:at|arroba)\s))?{_PART}(?:\s+{_SEP}\s+{_PART}|\s+{_NUM}\b)*"
    rf"\s+(?:at|arroba)\s+(?:{_PART}(?:\s+[a-z]+)?(?:\s+(?:dot|punto)\s+{_PART})*\s+(?:dot|punto)\s+"
    rf"(?:{TLDS})|[\w-]+(?:\.[\w-]+)*\.(?:{TLDS}))\b",
    re.IGNORECASE,
)
WRITTEN_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
SPOKEN_URL = re.compile(
    rf"\b(?:(?:https?\s+(?:colon\s+)?(?:slash\s+slash\s+)?)?(?:www|w\s+w\s+w|triple\s+w)\s+dot\s+)?"
    rf"{_PART}(?:\s+(?:dot|dash|hyphen)\s+{_PART})*"
    rf"\s+dot\s+(?:{TLDS})\b(?:\s+(?:forward\s+)?slash\s+{_PART}(?:\s+(?:dash|underscore|dot)\s+{_PART})*(?:\s+[a-z0-9]+)?)*",
    re.IGNORECASE,
)
WRITTEN_URL = re.compile(
    rf"\b(?:https?://|www\.)[\w.-]+(?:/[\w./?=&%-]*)?|\b[\w-]+(?:\.[\w-]+)*\.(?:{TLDS})(?:/[\w./?=&%-]*)?\b",
    re.IGNORECASE,
)


def find_contacts(text: str) -> list[Span]:
    """Emails and web addresses, written or spoken."""
    out = [Span(m.start(), m.end(), "EMAIL", 0.95) for m in WRITTEN_EMAIL.finditer(text)]
    out += [Span(m.start(), m.end(), "EMAIL", 0.9) for m in SPOKEN_EMAIL.finditer(text)]
    taken = [(s.start, s.end) for s in out]

    def free(m: re.Match[str]) -> bool:
        return not any(a < m.end() and m.start() < b for a, b in taken)

    out += [Span(m.start(), m.end(), "URL", 0.85) for m in WRITTEN_URL.finditer(text) if free(m)]
    out += [Span(m.start(), m.end(), "URL", 0.8) for m in SPOKEN_URL.finditer(text) if free(m)]
    return out


#: "one" to "nine" (what follows "twenty-"), and the number words that stand alone
#: ("o" and "oh" only count inside digit strings).
DIGIT_WORDS = [w for w, v in ONES.items() if v]
NUMBER_WORD = (
    r"(?:\d+|(?:"
    + "|".join(["zero", *DIGIT_WORDS, *TEENS, *TENS])
    + r")(?:-(?:"
    + "|".join(DIGIT_WORDS)
    + r"))?)"
)
ORDINAL_WORD = (
    r"(?:\d+(?:st|nd|rd|th)|(?:(?:" + "|".join(TENS) + r")[\s-])?(?:" + "|".join(ORDINALS) + r"))"
)
ADDRESS = re.compile(
    rf"\b{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD}){{0,3}}\s+"
    rf"(?:(?:{DIRECTION})\.?\s+)?"
    rf"(?:(?:{ORDINAL_WORD}|[A-Za-z]+)(?:\s+(?:{ORDINAL_WORD}|[A-Z][a-z]+))?\s+(?:{STREET})\b\.?"
    rf"|(?:{DIRECTION})\.?\s+{ORDINAL_WORD}(?:\s+(?:{STREET})\b\.?)?)",
    re.IGNORECASE,
)
APARTMENT = re.compile(
    rf"\b(?:apartment|apt\.?|unit|suite)\s+(?:\d+\s?[a-z]?|{NUMBER_WORD}(?:\s+[a-z])?)\b",
    re.IGNORECASE,
)


def find_addresses(text: str) -> list[Span]:
    out = [Span(m.start(), m.end(), "ADDRESS", 0.8) for m in ADDRESS.finditer(text)]
    out += [Span(m.start(), m.end(), "ADDRESS", 0.7) for m in APARTMENT.finditer(text)]
    return out


YEAR = rf"(?:\d{{4}}|\d{{2}}|(?:nineteen|twenty)[\s-]+(?:hundred\s+)?(?:and\s+)?{NUMBER_WORD}(?:\s(?:{'|'.join(DIGIT_WORDS)})\b)?|two\s+thousand(?:\s+and)?(?:\s+{NUMBER_WORD})?)"
DAY = rf"(?:{ORDINAL_WORD}|\d{{1,2}}|{NUMBER_WORD})"
MONTH = r"(?:" + "|".join(MONTHS) + r")\.?"
DATES = [
    re.compile(rf"\b{MONTH}\s+(?:the\s+)?{DAY}\b(?:,?\s+{YEAR}\b)?", re.IGNORECASE),
    re.compile(rf"\b(?:the\s+)?{ORDINAL_WORD}\s+of\s+{MONTH}(?:,?\s+{YEAR}\b)?", re.IGNORECASE),
    re.compile(r"(?<![\d/-])\d{1,2}[/-]\d{1,2}[/-](?:\d{4}|\d{2})(?![\d/-])"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
]


def find_dates(text: str) -> list[Span]:
    """Full dates and birthdays (a month and a day); bare weekdays and years are not PII."""
    out = []
    for pattern in DATES:
        for m in pattern.finditer(text):
            word = m.group(0).split()[0].lower().rstrip(".")
            if word == "may" and not re.search(r"\d|" + ORDINAL_WORD, m.group(0), re.I):
                continue  # "may two of us" is a modal verb, not May 2nd
            if (
                word in ("march", "may")
                and re.match(r"\s*(?:on|to|in|we|they|i)\b", text[m.end() :], re.I)
                and not re.search(ORDINAL_WORD, m.group(0), re.I)
            ):
                continue
            out.append(Span(m.start(), m.end(), "DATE", 0.8))
    return out


AGE_NUMBER = re.compile(
    r"\b(?:(?:9\d|1[01]\d)|(?:ninety(?:[- ](?:" + "|".join(DIGIT_WORDS) + r"))?)|"
    r"(?:(?:a|one)\s+hundred(?:\s+and)?(?:\s+(?:"
    + "|".join(DIGIT_WORDS + list(TEENS))
    + r"))?))\b",
    re.IGNORECASE,
)


def find_ages(text: str) -> list[Span]:
    """Ages over 89 (HIPAA Safe Harbor), when the words around say it is an age."""
    out = []
    for m in AGE_NUMBER.finditer(text):
        before, after = text[max(0, m.start() - 30) : m.start()], text[m.end() : m.end() + 20]
        if NOT_AGE_AFTER.match(after):
            continue
        if AGE_BEFORE.search(before) or AGE_AFTER.match(after):
            out.append(Span(m.start(), m.end(), "AGE", 0.75))
    return out


def find_all(text: str) -> list[Span]:
    return (
        find_numbers(text)
        + find_contacts(text)
        + find_addresses(text)
        + find_dates(text)
        + find_ages(text)
    )
