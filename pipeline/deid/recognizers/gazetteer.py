"""Places from qscribe's gazetteer (``data/places.txt``: US states, large cities, the first
study's area), found case-insensitively, the longest name first
(:func:`pipeline.deid.presidio_engine.find_places`)."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer


class GazetteerRecognizer(Recognizer):
    ENTITIES = ("LOCATION",)
    NAME = "GazetteerRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.presidio_engine import find_places

        for a, b in find_places(text):
            yield a, b, "LOCATION", 0.6
