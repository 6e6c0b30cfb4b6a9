"""What qscribe's recognizers share: a Presidio EntityRecognizer over compiled patterns.

Each recognizer family is a Presidio ``EntityRecognizer`` registered in the analyzer's
``RecognizerRegistry`` (see :func:`pipeline.deid.recognizers.register`), so its findings
go through the same ``score_threshold`` as spaCy's. Recognizers see the text the
analyzer sees: Whisper's cased text, or a lowercase transcript after truecasing
(:mod:`pipeline.deid.truecase`), where a capital letter marks a likely name too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar

from presidio_analyzer import EntityRecognizer, RecognizerResult

#: Whether the text being analyzed came cased (Whisper's capitals) or was truecased from
#: lowercase (a capital is then only a guess). Set by the engine around each batch.
CASED: ContextVar[bool] = ContextVar("qscribe_text_cased", default=True)
#: The session roster's name parts (lowercase): context rules leave them to the roster.
ROSTER_WORDS: ContextVar[frozenset[str]] = ContextVar("qscribe_roster_words", default=frozenset())


def sentence_start(text: str, pos: int) -> bool:
    """Whether ``pos`` starts a sentence (a capital there says nothing about a name)."""
    before = text[:pos].rstrip(" \t\"'“(")
    return not before or before[-1] in ".?!\n:;"


class Recognizer(EntityRecognizer):
    """An EntityRecognizer whose findings come from :meth:`find` as (start, end, entity, score)."""

    ENTITIES: tuple[str, ...] = ()
    NAME = "qscribe"

    def __init__(self) -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES), name=self.NAME, supported_language="en"
        )

    def load(self) -> None:  # compiled at import; nothing to load
        pass

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: object = None
    ) -> list[RecognizerResult]:
        wanted = set(entities or self.ENTITIES)
        out = []
        for start, end, entity, score in self.find(text):
            while end > start and text[end - 1].isspace():
                end -= 1
            if entity not in wanted or end <= start:
                continue
            out.append(
                RecognizerResult(
                    entity,
                    start,
                    end,
                    score,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                    },
                )
            )
        return out


def words_pattern(phrases: Iterable[str]) -> str:
    """An alternation of phrases, longest first, spaces matching any run of spaces/hyphens."""
    out = []
    for p in sorted(set(phrases), key=len, reverse=True):
        parts = [re.escape(w) for w in re.split(r"[\s]+", p.strip()) if w]
        out.append(r"[\s-]+".join(parts))
    return "|".join(out)
