"""People named after a title or a relation: "Dr. Alan Greene", "my sister Keisha"
(:func:`pipeline.deid.presidio_engine.find_context_people`). Roster name parts are left
to the roster matcher, which gives them their speaker label."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS, Recognizer


class ContextPersonRecognizer(Recognizer):
    ENTITIES = ("PERSON",)
    NAME = "ContextPersonRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.presidio_engine import find_context_people

        for a, b in find_context_people(text, CASED.get(), ROSTER_WORDS.get()):
            yield a, b, "PERSON", 0.6
