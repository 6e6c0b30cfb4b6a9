"""DayRecognizer: ordinal days, month/day with a slash, Spanish dates, July Fourth."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import DayRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = DayRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_days_of_the_month():
    assert spans("Yeah, it was on the 18th, we left at seven.") == ["18th"]
    assert "4/12" in spans("And Gus's is the same week, 4/12, so we did both.")
    assert "quince de agosto" in spans("it was the quince de agosto, last year")
    assert "Fourth of July" in spans("The Fourth of July cookout at the park.")


def test_the_month_cycle_and_counts_stay():
    assert spans("I get paid on the third, that's it.") == []
    assert spans("Everybody's broke by the 20th.") == []
    assert spans("We won on the 2nd try and the 3rd floor.") == []
    assert spans("I'd give it 4/5 out of ten") == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "DayRecognizer" in names
    text = "Yeah, it was on the 18th, we left early."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "18th" for f in out), out
