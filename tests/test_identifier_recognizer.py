"""IdentifierRecognizer: ids spelt with letters around the digits."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import IdentifierRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = IdentifierRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_letters_go_with_the_digits():
    assert "M H zero five five two" in spans("well mine's M H zero five five two, and then")
    assert "T P four four one nine zero" in spans("my id is T P four four one nine zero")
    assert "ky 4401 9378" in spans("mine is ky 4401 9378 i learned it", cased=False)
    assert "A B one two three four five C" in spans("it's A B one two three four five C, yes")


def test_words_before_numbers_stay():
    assert spans("I 2019 was hard") == []
    assert spans("at 2019 we moved", cased=False) == []
    assert spans("a 5000 dollar bill") == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "IdentifierRecognizer" in names
    text = "well mine's M H zero five five two, and then"
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "M H zero five five two" for f in out), out


def test_mixed_tokens_handles_and_their_limits():
    assert spans("my medicaid is AB1234567 ok") == ["AB1234567"]
    assert spans("follow @yoli_bakes on there") == ["@yoli_bakes"]
    assert spans("her instagram is at yoli underscore bakes okay", cased=False) == [
        "yoli underscore bakes"
    ]
    assert spans("we were in 2019 with an mp3 and covid19") == []
    assert spans("email me at maria@gmail.com") == []
