"""Overlapping findings: merged so no word is left, the container's type where it holds
the others; a house number joins its street; typed segments replace only their words."""

from __future__ import annotations

import pytest

from pipeline.deid.presidio_engine import Finding, extend, extend_address, resolve


def test_an_email_holding_a_roster_name_is_one_email():
    text = "write to carmen.reyes71@hotmail.com please"
    a = text.index("carmen")
    found = resolve(
        [
            Finding(a, a + 6, "ROSTER_PERSON", 1.0, "roster", "M01"),
            Finding(a + 7, a + 12, "ROSTER_PERSON", 1.0, "roster", "M01"),
            Finding(a, text.index(" please"), "EMAIL", 0.95, "spoken"),
        ]
    )
    assert [(text[f.start : f.end], f.type) for f in found] == [
        ("carmen.reyes71@hotmail.com", "EMAIL")
    ]


def test_overlaps_are_merged_and_the_roster_key_kept():
    text = "the Visiting Nurse Service came with Rosa Delgado"
    v, n = text.index("Visiting"), text.index("Nurse")
    r = text.index("Rosa")
    found = resolve(
        [
            Finding(n, n + len("Nurse Service"), "ORG", 0.85, "presidio"),
            Finding(v, n + len("Nurse"), "PERSON", 0.5, "ProperNounRecognizer"),
            Finding(r, len(text), "ROSTER_PERSON", 1.0, "roster", "M01"),
            Finding(r, r + 4, "PERSON", 0.85, "presidio"),
        ]
    )
    assert [(text[f.start : f.end], f.type, f.key) for f in found] == [
        ("Visiting Nurse Service", "PERSON", None),
        ("Rosa Delgado", "ROSTER_PERSON", "M01"),
    ]


@pytest.mark.parametrize(
    ("text", "street", "expected"),
    [
        (
            "the bus picked us up at 2431 grand concourse today",
            "grand concourse",
            "2431 grand concourse",
        ),
        (
            "at my building, thirty-one fifteen West Broadway, and",
            "West Broadway",
            "thirty-one fifteen West Broadway",
        ),
        (
            "she's at eighteen forty Frankfort Avenue, apartment C, upstairs",
            "eighteen forty Frankfort Avenue",
            "eighteen forty Frankfort Avenue, apartment C",
        ),
        ("we met on Grand Avenue yesterday", "Grand Avenue", "Grand Avenue"),
    ],
)
def test_a_house_number_joins_its_street(text, street, expected):
    a = text.index(street)
    kind = "ADDRESS" if street[0].isdigit() or street.startswith("eighteen") else "PLACE"
    f = extend_address(text, Finding(a, a + len(street), kind, 0.6, "x"))
    assert text[f.start : f.end] == expected
    assert f.type == ("ADDRESS" if expected != street else kind)


def test_names_grow_over_their_head_noun_and_capitals():
    view = "we went to Fountain house and the Visiting Nurse Service"
    a = view.index("Fountain")
    f = extend(view, Finding(a, a + len("Fountain"), "ORG", 0.6, "x"))
    assert view[f.start : f.end] == "Fountain house"
    n = view.index("Nurse")
    g = extend(view, Finding(n, len(view), "ORG", 0.6, "x"))
    assert view[g.start : g.end] == "Visiting Nurse Service"
