"""AddressRecognizer: street addresses without a street type, zip codes."""

from __future__ import annotations

import pytest

from pipeline.deid.recognizers import AddressRecognizer
from pipeline.deid.recognizers.base import CASED


def found(text: str, cased: bool = True) -> list[tuple[str, str]]:
    """(span, entity) the recognizer reports, through Presidio's analyze()."""
    token = CASED.set(cased)
    try:
        results = AddressRecognizer().analyze(text, [])
    finally:
        CASED.reset(token)
    return [(text[r.start : r.end], r.entity_type) for r in results]


def spans(text: str, cased: bool = True) -> list[str]:
    return [s for s, _ in found(text, cased)]


def test_addresses_without_a_street_type():
    assert "twelve twenty Brady" in spans("I was at twelve twenty Brady back then.")
    assert "forty-six twelve Preston" in spans("she's at forty-six twelve Preston")
    lower = "ty's at thirty one fifteen west broadway apartment 2b"
    assert "thirty one fifteen west broadway" in spans(lower, cased=False)
    assert "fifteen oh nine Algonquin" in spans("I moved to fifteen oh nine Algonquin")


def test_zip_codes():
    assert "five three two oh four" in spans("The zip is five three two oh four, because")
    assert "53215" in spans("my mother's house, 53215, is old")
    assert spans("we raised 12000 dollars") == []
    assert spans("at twenty five Dollars each") == []


@pytest.mark.slow
def test_registered_in_the_analyzer():
    """The engine's RecognizerRegistry holds it, and its findings come out of analyze()."""
    from pipeline.config import load_settings
    from pipeline.deid.presidio_engine import get_engine

    cfg = load_settings().deid
    engine = get_engine(cfg.presidio_config, cfg.score_threshold)
    names = {r.name for r in engine.analyzer.registry.recognizers}
    assert "AddressRecognizer" in names
    text = "The zip is five three two oh four, because the GPS."
    out = engine.analyze([text])[0]
    assert any(text[f.start : f.end] == "five three two oh four" for f in out), out


def test_po_boxes():
    assert "P.O. Box 4412" in spans("send it to P.O. Box 4412 please")
    assert "po box twelve oh five" in spans("po box twelve oh five", cased=False)
