"""ReligiousRecognizer: parishes, churches, congregations."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import ReligiousRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = ReligiousRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_saints_and_congregations():
    assert "St. Josaphat" in spans("St. Josaphat does a fish fry during Lent.")
    assert "saint aedan's" in spans("the dinner at saint aedan's hall", cased=False)
    assert "Holy Cross Cemetery" in spans("We buried her at Holy Cross Cemetery.")
    assert "Greater New Hope" in spans("I brought him to my church, Greater New Hope.")
    assert "christ gospel tabernacle" in spans("my church christ gospel tabernacle", cased=False)
    assert "Islamic Society of Milwaukee" in spans("the Islamic Society of Milwaukee helped")


def test_generic_church_words_stay():
    assert spans("I go to church on Sundays and my church is small", cased=False) == []
    assert spans("holy cow that was loud", cased=False) == []
    assert spans("I'm blessed to have them", cased=False) == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "ReligiousRecognizer" in names
    text = "St. Josaphat does a fish fry."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "St. Josaphat" for f in out), out
