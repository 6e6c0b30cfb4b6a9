"""Spoken and written identifiers as Presidio findings: phone and id numbers ("five five
five, zero one four two"), emails and web addresses ("maria dot lopez at gmail dot com"),
street addresses, full dates and ages over 89 (:mod:`pipeline.deid.spoken`)."""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.deid.recognizers.base import Recognizer

#: qscribe type -> Presidio entity.
ENTITY = {
    "PHONE": "PHONE_NUMBER",
    "ID": "ID",
    "EMAIL": "EMAIL_ADDRESS",
    "URL": "URL",
    "ADDRESS": "ADDRESS",
    "DATE": "DATE",
    "AGE": "AGE",
}


class SpokenRecognizer(Recognizer):
    ENTITIES = tuple(ENTITY.values())
    NAME = "SpokenRecognizer"

    def find(self, text: str) -> Iterable[tuple[int, int, str, float]]:
        from pipeline.deid.spoken import find_all

        for s in find_all(text):
            yield s.start, s.end, ENTITY[s.type], s.score
