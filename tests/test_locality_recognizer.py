"""LocalityRecognizer: routes, counties, towns, parks, sections, corners."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import LocalityRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = LocalityRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_numbered_routes():
    assert "I-94" in spans("We took I-94 up to the Dells.")
    assert "Highway 42" in spans("Then Highway 42 along the lake.")
    assert "route nine" in spans("we live off route nine", cased=False)
    assert "i 64" in spans("we take i 64 east to lexington", cased=False)
    assert spans("i 94 percent agree", cased=False) == []


def test_counties_towns_and_sections():
    assert "Perry County" in spans("I'm from Hazard, Perry County.")
    assert "jefferson county" in spans("every taco truck in jefferson county", cased=False)
    assert "Cudahy" in spans("She moved down to Cudahy last year.")
    assert "Santa Claus, Indiana" in spans("the trip to Santa Claus, Indiana, was fun")
    assert "West End" in spans("I grew up in the West End.")
    assert spans("Just first names is fine, or whatever you want.") == []


def test_corners_streets_and_spots_in_lowercase():
    assert "Thirty-Fifth and Center" in spans("I rode with him to Thirty-Fifth and Center.")
    assert "Forty-Third" in spans("grew up on Forty-Third, went to Central")
    assert "water street" in spans("downtown on water street the real chili", cased=False)
    assert "cherokee park" in spans("we walked in cherokee park after", cased=False)
    assert spans("we crossed the street to the park", cased=False) == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "LocalityRecognizer" in names
    text = "We took I-94 up to the lake."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "I-94" for f in out), out
