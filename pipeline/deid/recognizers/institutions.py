"""Institutions named without an organization shape: agencies by their initials ("MCTS",
"LMPD", "TARC"), a university alone ("U of L", "UW-Oshkosh", "Kentucky State"),
branch libraries ("the Zablocki branch"), schools ("Iroquois High"), county agencies
("Jefferson County Public Schools", "milwaukee county behavioral health division").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer, sentence_start
from pipeline.deid.recognizers.vocabulary import zipf

#: Initials that are everyday speech, benefits, diagnoses, degrees or places, not an org.
COMMON_INITIALS = frozenset(
    "tv ok id ids ssi ssdi ebt snap wic ged ocd ptsd adhd msw lcsw lpc cna rn lpn ba bs ma "
    "phd er icu dj usa us aa na hiv aids covid cpr atm pin fbi cia nfl nba nhl mlb espn ceo "
    "hr it pt ot asl esl emt ems md do np pa va ada iep ssn dob am pm bbq tbd faq pdf gps usb "
    "lol omg nyc la dc uk ac ii iii iv vi vii viii ix xi xii ufo suv rv abc cbs nbc cnn "
    "fox pbs npr bet mtv hbo diy gpa sat act mri ct ekg ed ptsd bipolar ssri mg ml lb lbs "
    "oz ft mph usda fda cdc dmv irs ssa hud dhs cps aps ups fedex dvd cd vhs npc "
    "al ak az ar ca co ct de fl ga hi ia il in ks ky me mi mn mo ms mt nc nd ne nh nj nm nv "
    "ny oh or ri sc sd tn tx ut vt wa wi wv wy".split()
)
INITIALS = re.compile(r"\b[A-Z]{2,6}\d?\b|\b[A-Z]{1,3}&[A-Z]{1,3}\b")
UNIVERSITY = [
    re.compile(r"\bU\s?of\s?[A-Z]\b|\bU\s?[Oo]f\s?[A-Z][a-z]+\b"),
    re.compile(r"\bUW[\s-][A-Z][a-z]+\b|\buw[\s-][a-z]+\b|\bu\sof\s[a-z]\b"),
    re.compile(
        r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\sState\b(?!\s+(?:Fair|Park|Road|Route|Police|Highway|"
        r"Prison|Penitentiary|Capitol|Senator|Representative|Trooper|Line))"
    ),
    re.compile(r"\b(?:university|college)\s+of\s+[a-z]+(?:\s+[a-z]+)?\b", re.IGNORECASE),
    re.compile(
        r"\b([a-z]+(?:\s[a-z]+)?)\s+(?:university|community\s+college|college|high\s+school|"
        r"middle\s+school|elementary(?:\s+school)?|academy|tech)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s(?:High|Middle|Elementary|Tech)\b"),
]
LIBRARY = [
    re.compile(r"\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)?\s(?:[Bb]ranch|[Ll]ibrary)\b"),
    re.compile(r"\b(?:the\s+)([a-z]+(?:\s[a-z]+)?)\s+(?:branch|library)\b", re.IGNORECASE),
]
GENERIC = frozenset(
    "the a an my your his her our their this that main public big little new old local "
    "nearest closest other same high community state city county junior senior regular "
    "good whole whole public in at to of from for with and or downtown school".split()
)
AGENCY_TAIL = (
    r"(?:\s+[a-z]+){0,3}\s+(?:division|department|services|office|court|courthouse|jail|"
    r"detention center|sheriff|sheriff's office|clerk|board|commission|agency|authority|"
    r"attorney|schools|public schools|health|health department|library|police|corrections|"
    r"social services|human services|family services)\b"
)


class InstitutionRecognizer(Recognizer):
    ENTITIES = ("ORGANIZATION",)
    NAME = "InstitutionRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for m in INITIALS.finditer(text):
            w = m.group(0)
            core = re.sub(r"\d$", "", w).lower()
            if core in COMMON_INITIALS or len(core) < 2:
                continue
            if text.isupper():
                continue  # a shouted line, not initials
            yield m.start(), m.end(), "ORGANIZATION", 0.55
        for i, pattern in enumerate(UNIVERSITY):
            for m in pattern.finditer(text):
                if i == 4:
                    words = m.group(1).split()
                    if words[0].lower() in GENERIC:
                        words = words[1:]
                    if not words or any(w.lower() in GENERIC for w in words):
                        continue
                    if min(zipf(w) for w in words) >= 4.0 and not words[0][0].isupper():
                        continue  # "a good college"
                    start = m.start(1) + m.group(1).find(words[0])
                    yield start, m.end(), "ORGANIZATION", 0.55
                    continue
                if i in (2, 5) and sentence_start(text, m.start()) and len(m.group(0).split()) < 3:
                    first = m.group(0).split()[0].lower()
                    if zipf(first) >= 5.0:
                        continue  # "So State ..." at a sentence start
                yield m.start(), m.end(), "ORGANIZATION", 0.6
        for i, pattern in enumerate(LIBRARY):
            for m in pattern.finditer(text):
                if i == 1:
                    words = m.group(1).split()
                    if any(w.lower() in GENERIC for w in words):
                        continue
                    if min(zipf(w) for w in words) >= 3.5:
                        continue  # "the school library"
                    yield m.start(1), m.end(), "ORGANIZATION", 0.55
                    continue
                first = m.group(0).split()[0]
                if first.lower() in GENERIC or (
                    sentence_start(text, m.start()) and zipf(first) >= 5.0
                ):
                    continue
                yield m.start(), m.end(), "ORGANIZATION", 0.6
        from pipeline.deid.recognizers.localities import county_spans

        for start, end in county_spans(text):
            tail = re.match(AGENCY_TAIL, text[end : end + 60], re.IGNORECASE)
            if tail:
                yield start, end + tail.end(), "ORGANIZATION", 0.7
