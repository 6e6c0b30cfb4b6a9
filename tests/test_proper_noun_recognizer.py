"""ProperNounRecognizer: capitalized names the NER model passes over."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import ProperNounRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = ProperNounRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_rare_capitalized_words_and_runs():
    assert ("Kowalski", "PERSON") in found("So that was really Kowalski, he was the director.")
    assert ("Kegel's", "LOCATION") in found("Or else we'd go to Kegel's out on the highway.")
    assert ("Sherman Park", "LOCATION") in found("Ahmed's in Sherman Park now.")
    assert "Seven Counties Services" in spans("I worked at Seven Counties Services for years.")
    assert "Big Mike" in spans("Me, Tammy, Big Mike and Grace chipped in.")


def test_words_that_name_no_one_stay():
    text = "On Friday we watched Netflix in English. I said OK. Then Christmas came."
    assert found(text) == []
    assert found("They played Dancing Queen twice.") == []
    # The first word of a sentence is capitalized anyway.
    assert found("Honestly it was fine.") == []


def test_lowercase_text_needs_more_than_a_capital():
    # Truecasing capitalized these rare words: alone they are not names...
    assert found("I sell Flan and Pasteles on weekends", cased=False) == []
    # ...but a first name, or initials without a vowel, are.
    assert "Dwayne" in spans("so now it's Dwayne who drives", cased=False)
    assert "Lmpd" in spans("amina called Lmpd finally", cased=False)


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "ProperNounRecognizer" in names
    text = "So that was really Kowalski, he ran it."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "Kowalski" for f in out), out
