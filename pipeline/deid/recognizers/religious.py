"""Parishes, churches and other congregations: "St. Josaphat", "Our Lady of Peace",
"Holy Cross Cemetery", "Greater New Hope", "Islamic Society of Milwaukee".

Where someone worships is a strong identifier in a small community. Found by the
saint or church words around a name, in cased and lowercase text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer

NAME = r"[A-Za-z][\w'’]*"
CAP = r"[A-Z][\w'’]*"
CONGREGATION = (
    r"church|parish|chapel|tabernacle|temple|mosque|masjid|synagogue|cathedral|basilica|"
    r"ministries|ministry|fellowship|assembly|congregation|shrine"
)
PATTERNS = [
    # St. Rita, Saint Aedan's, San Juan, Santa Maria, St. Vincent de Paul
    re.compile(
        rf"\b(?:St\.?|Saint|Ste\.?|San|Santa|Sts\.?)\s+{CAP}(?:\s+(?:de|of|the)\s+{CAP})?(?:\s+{CAP})?",
    ),
    re.compile(rf"\b(?:saint|st)\s+{NAME}(?:\s+(?:de|of)\s+{NAME})?", re.IGNORECASE),
    # Our Lady of Peace, Holy Name, Holy Cross, Sacred Heart, Immaculate Conception
    re.compile(
        rf"\b(?:our\s+lady\s+of(?:\s+the)?|holy|sacred|immaculate|blessed|most\s+precious)\s+"
        rf"{NAME}(?:\s+{NAME})?",
        re.IGNORECASE,
    ),
    # Greater New Hope, First Baptist, Zion Hill Missionary Baptist, Grace Methodist Church
    re.compile(
        rf"\b(?:(?:Greater|First|Second|Third|New|Mount|Mt\.?)\s+)?(?:{CAP}\s+){{0,3}}"
        rf"(?:Baptist|Methodist|Lutheran|Presbyterian|Episcopal|Pentecostal|Missionary|AME|"
        rf"Apostolic|Evangelical|Catholic|Orthodox|Gospel|Bible|Christian)"
        rf"(?:\s+(?:{CONGREGATION}|Church of \w+))?",
    ),
    re.compile(rf"\bGreater\s+(?:New\s+)?{CAP}(?:\s+{CAP})?"),
    # Christ Gospel Tabernacle, Beth Israel Synagogue, in lowercase too (see _named)
    re.compile(rf"\b(?:{CONGREGATION})\b", re.IGNORECASE),
    # Islamic Society of Milwaukee, Islamic Center of Louisville
    re.compile(
        rf"\b(?:islamic|muslim|jewish|hindu|sikh|buddhist)\s+(?:society|center|centre|community|"
        rf"temple|association)(?:\s+of\s+{NAME})?",
        re.IGNORECASE,
    ),
]
#: Words before a congregation noun that make it generic ("my church", "the big church").
GENERIC = frozenset(
    "the a an my your his her our their this that his one same old new big little other "
    "black catholic local whole church's at to in of from for with and or go went going "
    "goes gone been by his grandma's mom's mother's".split()
)
#: After St./Saint: not a saint's name ("holy cow", "holy moly", "st louis" is a city: fine).
NOT_AFTER = frozenset(
    "cow moly smoke crap shit mackerel spirit ghost week day days days' the of and week".split()
)


def _named(text: str, head: int) -> int | None:
    """Where the name before a congregation noun starts ("christ gospel | tabernacle"),
    or None when the words before it are generic ("my church", "the big church")."""
    from pipeline.deid.recognizers.vocabulary import zipf
    from pipeline.deid.roster import STOP

    before = list(re.finditer(r"[A-Za-z][\w'’]*", text[max(0, head - 40) : head]))[-3:]
    offset = max(0, head - 40)
    words: list[re.Match[str]] = []
    for w in reversed(before):
        low = w.group(0).lower()
        if low in GENERIC or low in STOP or re.fullmatch(CONGREGATION, low):
            break
        words.insert(0, w)
    if not words:
        return None
    capital = any(w.group(0)[0].isupper() for w in words)
    if not capital and min(zipf(w.group(0)) for w in words) >= 3.5 and len(words) < 2:
        return None  # lowercase "baptist church" is a kind, "gospel tabernacle" is a name
    return offset + words[0].start()


class ReligiousRecognizer(Recognizer):
    ENTITIES = ("ORGANIZATION",)
    NAME = "ReligiousRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for i, pattern in enumerate(PATTERNS):
            for m in pattern.finditer(text):
                words = m.group(0).split()
                start = m.start()
                if i == 5:  # "<words> church": the words before it that name it
                    named = _named(text, m.start())
                    if named is None:
                        continue
                    start = named
                    words = text[start : m.end()].split()
                if i in (1, 2):
                    from pipeline.deid.roster import STOP

                    trigger = 3 if words[0].lower() == "our" else 1
                    nxt = words[trigger].lower().strip(".,") if len(words) > trigger else ""
                    if not nxt or nxt in NOT_AFTER or nxt in STOP:
                        continue
                elif len(words) > 1 and words[1].lower().strip(".,") in NOT_AFTER:
                    continue
                end = m.end()
                while end > start and not text[end - 1].isalnum():
                    end -= 1
                yield start, end, "ORGANIZATION", 0.6
