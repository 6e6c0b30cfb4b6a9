"""Organizations, venues, streets, places and ids by their written shape ("... House",
"Office of ...", "... Diner", "Jackson Avenue", "in Astoria", "NG-0447")
(:func:`pipeline.deid.presidio_engine.find_cased_entities`)."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.deid.recognizers.base import ROSTER_WORDS, Recognizer

ENTITY = {"ORG": "ORGANIZATION", "PLACE": "LOCATION", "ID": "ID"}


class ShapeRecognizer(Recognizer):
    ENTITIES = tuple(ENTITY.values())
    NAME = "ShapeRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.presidio_engine import find_cased_entities

        for a, b, kind in find_cased_entities(text, set(ROSTER_WORDS.get())):
            yield a, b, ENTITY[kind], 0.55
