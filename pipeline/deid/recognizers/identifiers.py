"""Identifiers spelt out with letters around the digits: "M H zero five five two",
"T P four four one nine zero", "KY 4401 9378", "A B one two three four five C".

The spoken-number finder takes the digits; the letters said with them are part of
the identifier (a member number, a Medicaid number) and go with it. Also letters and
digits in one token ("AB1234567") and social-media handles ("@yoli_bakes",
"instagram is at yoli bakes", reported as web addresses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer
from pipeline.deid.spoken import number_runs

#: One to three letters said one by one, or a two-letter code ("KY"), before the digits.
LEAD = re.compile(
    r"(?:(?<![\w'’])(?:[A-Za-z]\s+){1,3}|(?<![\w'’])[A-Z]{2}\s+|(?<![\w'’])[a-z]{2}\s+)$"
)
TRAIL = re.compile(r"^\s+[A-Za-z]\b(?!['’])")
#: Letters, a hyphen, digits: "RB-1187", "rb-1187", "MH-0419" (in any case).
HYPHENATED = re.compile(r"\b[A-Za-z]{1,3}-\d{3,}\b")
#: Letters and digits in one token: "AB1234567", "w83461" (four digits or more).
MIXED = re.compile(r"\b(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[A-Za-z\d]{6,14}\b")
#: A social-media handle, written ("@yoli_bakes") or said after the platform
#: ("instagram is at yoli bakes", "on tiktok at mke underscore eats").
HANDLE = re.compile(
    r"(?<![\w.])@[A-Za-z0-9_.]{2,30}\b|"
    r"\b(?:instagram|insta|facebook|tiktok|twitter|snapchat|youtube|threads)"
    r"(?:\s+(?:page|account|handle|name))?(?:\s+(?:is|it's|its))?\s+at\s+"
    r"[a-z0-9]+(?:\s+(?:underscore|dot|dash)\s+[a-z0-9]+)*",
    re.IGNORECASE,
)
#: Letters that are words, not initials ("I", "a"), unless capitalized in a row ("A B").
WORD_LETTERS = frozenset({"a", "i"})


class IdentifierRecognizer(Recognizer):
    ENTITIES = ("ID", "URL")
    NAME = "IdentifierRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for h in HYPHENATED.finditer(text):
            yield h.start(), h.end(), "ID", 0.6
        for h in MIXED.finditer(text):
            if sum(c.isdigit() for c in h.group(0)) >= 4:
                yield h.start(), h.end(), "ID", 0.6
        for h in HANDLE.finditer(text):
            at = re.search(r"\sat\s+", h.group(0))
            yield h.start() + (at.end() if at else 0), h.end(), "URL", 0.6
        for start, end, digits in number_runs(text):
            if len(digits) < 4:
                continue
            m = LEAD.search(text[max(0, start - 12) : start])
            if not m:
                continue
            letters = m.group(0).split()
            if len(letters[0]) == 2 and letters[0].islower():
                from pipeline.deid.recognizers.localities import STATE_ABBR

                if len(digits) < 6 or letters[0].upper() not in STATE_ABBR.split("|"):
                    continue  # "ky 4401 9378" (a state's id), not "at 2019"
            if len(letters) == 1 and letters[0].lower() in WORD_LETTERS:
                continue  # "I 2019", "a 5000"
            if len(letters) == 1 and len(letters[0]) == 1 and letters[0].islower():
                continue  # one lowercase letter: too often a word
            new_start = start - len(m.group(0))
            t = TRAIL.match(text[end : end + 4])
            new_end = end + t.end() if t and text[end + t.end() - 1].isupper() else end
            yield new_start, new_end, "ID", 0.6
