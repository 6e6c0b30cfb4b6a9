"""InstitutionRecognizer: initials, universities, libraries, schools, county agencies."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import InstitutionRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = InstitutionRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_initials_universities_schools_libraries():
    assert "LMPD" in spans("Amina called LMPD and they found him.")
    assert "U of L" in spans("Ball games, mostly U of L games.")
    assert "u of l" in spans("a student from u of l came", cased=False)
    assert "Kentucky State" in spans("then Kentucky State up in Frankfort")
    assert "Iroquois High" in spans("I went to Iroquois High, then JCTC.")
    assert "the Zablocki branch" not in spans("at the Zablocki branch")
    assert "Zablocki branch" in spans("at the Zablocki branch")
    county = "milwaukee county behavioral health division"
    assert county in spans(f"she works for {county} now", cased=False)


def test_common_initials_and_generic_places_stay():
    assert spans("I'm on SSI and SSDI, and I got my GED and a CNA.") == []
    assert spans("the school library and the main branch", cased=False) == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "InstitutionRecognizer" in names
    text = "Amina called LMPD and they found him."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "LMPD" for f in out), out
