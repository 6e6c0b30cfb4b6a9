"""ShapeRecognizer: organizations, venues, streets and ids by their shape."""

from __future__ import annotations

from pipeline.deid.recognizers import ShapeRecognizer
from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS


def found(
    text: str, cased: bool = True, roster: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token, words = CASED.set(cased), ROSTER_WORDS.set(roster)
    try:
        results = ShapeRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
        ROSTER_WORDS.reset(words)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def test_shapes():
    assert ("Harbor Light House", "ORGANIZATION") in found("I work at Harbor Light House now.")
    assert ("Riverside Diner", "LOCATION") in found("We went to the Riverside Diner.")
    assert ("NG-0447", "ID") in found("her number is NG-0447 I think")
    assert ("Office of Mental Health", "ORGANIZATION") in found(
        "the Office of Mental Health wants numbers"
    )


def test_roster_words_are_left_to_the_roster():
    assert ("Rosa", "LOCATION") not in found("I went with Rosa", roster=frozenset({"rosa"}))
