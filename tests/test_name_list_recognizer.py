"""NameListRecognizer: names that are words (grace, will) in a list of names."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import NameListRecognizer
from pipeline.deid.recognizers.base import CASED


def spans(text: str, cased: bool = True) -> list[str]:
    token = CASED.set(cased)
    try:
        results = NameListRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [text[r.start : r.end] for r in results]


def test_word_names_in_a_list_of_names():
    cased = "Me, Mark, Tammy, Rose, Big Mike and Grace all chipped in."
    assert spans(cased) == ["Mark", "Rose", "Grace"]
    lower = "they did a cake me mark tammy rose big mike and grace all chipped in"
    assert spans(lower, cased=False) == ["mark", "rose", "grace"]


def test_the_words_stay():
    assert spans("i hope tammy will come and grace us", cased=False) == []
    assert spans("Tammy said to be frank, grace under pressure.") == []
    assert spans("I told Tammy I will go.") == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    assert "NameListRecognizer" in {r.name for r in engine.analyzer.registry.recognizers}
    text = "me mark tammy rose and grace chipped in"
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "rose" for f in out), out
