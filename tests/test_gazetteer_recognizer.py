"""GazetteerRecognizer: the place list, in any case."""

from __future__ import annotations

from pipeline.deid.recognizers import GazetteerRecognizer
from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS


def found(
    text: str, cased: bool = True, roster: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token, words = CASED.set(cased), ROSTER_WORDS.set(roster)
    try:
        results = GazetteerRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
        ROSTER_WORDS.reset(words)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def test_places_from_the_list():
    assert ("kentucky", "LOCATION") in found("we drove to kentucky", cased=False)
    assert ("Astoria", "LOCATION") in found("She grew up in Astoria.")


def test_other_words_stay():
    assert found("we went to the diner downtown", cased=False) == []
