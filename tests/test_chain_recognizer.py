"""ChainRecognizer: chains and brands people go to."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import ChainRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = ChainRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_chains_in_any_case_and_spelling():
    assert ("Culver's", "ORGANIZATION") in found("We stopped at Culver's after.")
    assert "cracker barrel" in spans("then the cracker barrel in cave city", cased=False)
    assert "Dennys" in spans("Breakfast at Dennys on Sunday.")
    assert "Pick 'n Save" in spans("I shop at the Pick 'n Save.")


def test_everyday_word_chains_need_a_capital_mid_sentence():
    assert "Target" in spans("She works at Target now.")
    assert spans("the target was ten dollars") == []
    assert spans("Target practice, that's what it was.") == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "ChainRecognizer" in names
    text = "We stopped at Culver's after bowling."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "Culver's" for f in out), out
