"""qscribe's recognizers, one family per module, each a Presidio ``EntityRecognizer``.

They are added to the analyzer's ``RecognizerRegistry`` next to spaCy's, so the
analyzer's ``score_threshold`` applies to their findings as to every other (the roster
matcher, which needs the session's roster, runs beside the analyzer):

- :mod:`.spoken_forms`: phone/id numbers, emails, web and street addresses, dates, ages;
- :mod:`.context_people`: people after a title or a relation ("my sister Keisha");
- :mod:`.gazetteer`: the place list in ``data/places.txt``;
- :mod:`.shapes`: organizations, venues, streets and ids by their written shape;
- :mod:`.proper_nouns`: capitalized names the small NER model passes over;
- :mod:`.localities`: numbered routes, counties, small towns, parks, city sections;
- :mod:`.chains`: chains and brands people go to;
- :mod:`.religious`: parishes, churches and other congregations;
- :mod:`.institutions`: agencies by initials, universities, branch libraries, schools;
- :mod:`.dates`: ordinal days, month/day with a slash, the Fourth of July;
- :mod:`.addresses`: street addresses without a street type, zip codes;
- :mod:`.identifiers`: ids spelt with letters around the digits ("M H zero five five two");
- :mod:`.name_lists`: names that are words (grace, will) in a list of names.
"""

from __future__ import annotations

from typing import Any

from pipeline.deid.recognizers.addresses import AddressRecognizer
from pipeline.deid.recognizers.chains import ChainRecognizer
from pipeline.deid.recognizers.context_people import ContextPersonRecognizer
from pipeline.deid.recognizers.dates import DayRecognizer
from pipeline.deid.recognizers.gazetteer import GazetteerRecognizer
from pipeline.deid.recognizers.identifiers import IdentifierRecognizer
from pipeline.deid.recognizers.institutions import InstitutionRecognizer
from pipeline.deid.recognizers.localities import LocalityRecognizer
from pipeline.deid.recognizers.name_lists import NameListRecognizer
from pipeline.deid.recognizers.proper_nouns import ProperNounRecognizer
from pipeline.deid.recognizers.religious import ReligiousRecognizer
from pipeline.deid.recognizers.shapes import ShapeRecognizer
from pipeline.deid.recognizers.spoken_forms import SpokenRecognizer

RECOGNIZERS = (
    SpokenRecognizer,
    ContextPersonRecognizer,
    GazetteerRecognizer,
    ShapeRecognizer,
    ProperNounRecognizer,
    LocalityRecognizer,
    ChainRecognizer,
    ReligiousRecognizer,
    InstitutionRecognizer,
    DayRecognizer,
    AddressRecognizer,
    IdentifierRecognizer,
    NameListRecognizer,
)

__all__ = [cls.__name__ for cls in RECOGNIZERS] + ["RECOGNIZERS", "register"]


def register(registry: Any) -> None:
    """Add every qscribe recognizer to a Presidio ``RecognizerRegistry``."""
    for cls in RECOGNIZERS:
        registry.add_recognizer(cls())
