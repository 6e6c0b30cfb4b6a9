"""ContextPersonRecognizer: people after a title or a relation."""

from __future__ import annotations

from pipeline.deid.recognizers import ContextPersonRecognizer
from pipeline.deid.recognizers.base import CASED, ROSTER_WORDS


def found(
    text: str, cased: bool = True, roster: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token, words = CASED.set(cased), ROSTER_WORDS.set(roster)
    try:
        results = ContextPersonRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
        ROSTER_WORDS.reset(words)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def test_people_after_titles_and_relations():
    assert ("Doctor Greene", "PERSON") in found("I saw Doctor Greene on Monday.")
    assert ("Keisha", "PERSON") in found("and my sister Keisha came too")
    assert any("keisha" in s for s, _ in found("and my sister keisha came too", cased=False))


def test_roster_words_and_no_names_are_left():
    assert found("my sister Rosa came", roster=frozenset({"rosa"})) == []
    assert found("my grandma still lives there", cased=False) == []
