"""SpokenRecognizer: spoken and written numbers, contacts, addresses, dates, ages."""

from __future__ import annotations

from pipeline.deid.recognizers import SpokenRecognizer
from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS


def found(
    text: str, cased: bool = True, roster: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token, words = CASED.set(cased), ROSTER_WORDS.set(roster)
    try:
        results = SpokenRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
        ROSTER_WORDS.reset(words)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def test_spoken_forms_as_presidio_entities():
    out = found("call me at five five five, zero one four two, or maria dot lopez at gmail dot com")
    assert ("five five five, zero one four two", "PHONE_NUMBER") in out
    assert ("maria dot lopez at gmail dot com", "EMAIL_ADDRESS") in out
    assert ("425 West 52nd Street", "ADDRESS") in found("I live at 425 West 52nd Street now")
    assert ("March third", "DATE") in found("my birthday is March third")
    assert ("ninety-three", "AGE") in found("she's ninety-three years old")


def test_ordinary_numbers_stay():
    assert found("we paid twenty dollars for 3 or 4 of us in 2016") == []
