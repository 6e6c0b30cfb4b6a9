"""Lexical evidence per code: phrase patterns matched on spaCy lemmas.

A pattern is a phrase; each word matches a token whose lemma or lowercase form is that
word ("go out" matches "went out"), and ``*`` matches any one token. Patterns come from
an optional sidecar file next to the codebook (``<name>.lexicon.yaml``: per code ``cues``
and ``against``, the not_when near-misses) and, always, from the content words of each
code's label and use_when (the codebook text itself).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.coding.codebook import Code, Codebook
from pipeline.errors import PipelineError

#: Words of use_when texts that say nothing about a code on their own.
STOP = frozenset(
    """a an the and or but if so to of in on at for with from by as is are was were be been
    being it its this that these those they them their there here he she his her we our you
    your i me my mine who whom what which when where why how not no nor do does did done
    doing have has had having can could would should will shall may might must about into
    out over under up down off again further then once all any both each few more most other
    some such only own same than too very just also even e.g eg etc something someone
    somebody anything anyone things thing way ways kind kinds part talk talks talking say
    says said name names describe describes mention mentions use used make makes made
    one two staff member members people person while during after before together
    get gets got go goes went come comes came feel feels felt whether because""".split()
)
TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*")


@dataclass(frozen=True)
class Pattern:
    words: tuple[str, ...]
    text: str


@dataclass
class Lexicon:
    """Per code id: patterns that raise its score, and not_when patterns that lower it."""

    cues: dict[str, list[Pattern]] = field(default_factory=dict)
    against: dict[str, list[Pattern]] = field(default_factory=dict)
    source: str = "codebook text"


def _pattern(text: str) -> Pattern | None:
    words = tuple(w.lower() for w in str(text).replace("’", "'").split())
    return Pattern(words, str(text)) if words else None


def content_words(text: str) -> list[str]:
    return [
        w.lower().strip("'-") for w in TOKEN.findall(text) if w.lower() not in STOP and len(w) > 2
    ]


def _from_code(code: Code) -> list[Pattern]:
    words = content_words(f"{code.label} {code.use_when}")
    # Parenthesised lists in use_when are the clearest cues ("(dinner, drinks, movies)").
    return [p for w in dict.fromkeys(words) if (p := _pattern(w))]


def lexicon_path(codebook_path: Path) -> Path:
    name = codebook_path.name
    for suffix in (".yaml", ".yml", ".qdc"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return codebook_path.with_name(f"{name}.lexicon.yaml")


def load_lexicon(codebook: Codebook, codebook_path: Path | None) -> Lexicon:
    """The codebook's own words, plus its sidecar lexicon file when there is one."""
    lex = Lexicon()
    for code in codebook.codes:
        lex.cues[code.id] = _from_code(code)
        lex.against[code.id] = []
    path = lexicon_path(Path(codebook_path)) if codebook_path else None
    if path is None or not path.is_file():
        return lex
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data["codes"]
        if not isinstance(entries, dict):
            raise TypeError
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        raise PipelineError(
            f"{path}: not a valid lexicon file (expected 'codes:' mapping code ids to cues/against lists).",
            hint="See configs/codebooks/social-interaction-policy.lexicon.yaml.",
        ) from None
    known = {c.id for c in codebook.codes}
    for code_id, entry in entries.items():
        if code_id not in known:
            raise PipelineError(
                f"{path}: code '{code_id}' is not in codebook {codebook.id}.",
                hint="Use the codebook's leaf code ids.",
            )
        entry = entry or {}
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k, []), list) for k in ("cues", "against")
        ):
            raise PipelineError(f"{path}: code '{code_id}': cues and against must be lists.")
        lex.cues[code_id] += [p for t in entry.get("cues", []) if (p := _pattern(t))]
        lex.against[code_id] += [p for t in entry.get("against", []) if (p := _pattern(t))]
    lex.source = f"codebook text + {path.name}"
    return lex


@functools.lru_cache(maxsize=1)
def get_nlp() -> Any:
    """spaCy en_core_web_sm (pinned, hash-checked folder): tagger and lemmatizer, sentences
    from the rule-based sentencizer (no parser, no NER: faster)."""
    import spacy

    from pipeline.models import model_folder

    nlp = spacy.load(str(model_folder("en_core_web_sm")), exclude=["ner", "parser"])
    nlp.add_pipe("sentencizer")
    return nlp


@dataclass
class Doc:
    """What the tagger needs from spaCy for one turn."""

    text: str
    #: (start char, end char, lowercase form, lemma) per token.
    tokens: list[tuple[int, int, str, str]]
    #: (start char, end char) per sentence.
    sentences: list[tuple[int, int]]


def parse(texts: list[str]) -> list[Doc]:
    nlp = get_nlp()
    out = []
    for doc in nlp.pipe(texts, batch_size=64):
        toks = [
            (t.idx, t.idx + len(t.text), t.lower_.replace("’", "'"), t.lemma_.lower())
            for t in doc
            if not t.is_space
        ]
        sents = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
        out.append(Doc(doc.text, toks, sents or [(0, len(doc.text))]))
    return out


def _index(patterns: list[Pattern]) -> dict[str, list[Pattern]]:
    index: dict[str, list[Pattern]] = {}
    for p in patterns:
        index.setdefault(p.words[0], []).append(p)
    return index


_indexes: dict[int, tuple[list[Pattern], dict[str, list[Pattern]]]] = {}


def matches(doc: Doc, patterns: list[Pattern]) -> list[tuple[int, int, str]]:
    """(start char, end char, pattern) of every match of the patterns in the turn."""
    cached = _indexes.get(id(patterns))
    if cached is None or cached[0] is not patterns:
        cached = (patterns, _index(patterns))
        _indexes[id(patterns)] = cached
    index = cached[1]
    found = []
    toks = doc.tokens
    wild = index.get("*", [])
    for i, (_s, _e, low, lemma) in enumerate(toks):
        cands = index.get(low, []) + (index.get(lemma, []) if lemma != low else []) + wild
        for p in cands:
            n = len(p.words)
            if i + n <= len(toks) and all(
                w == "*" or w == toks[i + k][2] or w == toks[i + k][3]
                for k, w in enumerate(p.words)
            ):
                found.append((toks[i][0], toks[i + n - 1][1], p.text))
    return sorted(set(found))
