"""The leak gate says which roster entry would fix a hit, by id and never by name."""

from __future__ import annotations

from pipeline.deid.gate import Hit, scan_text
from pipeline.deid.roster import Roster

ROSTER = Roster.build(
    [("M01", "Rosa Delgado", ["Rosie"]), ("S02", "Marcus Bell", [])],
    ["Harbor Light Clubhouse"],
    ["Riverside Diner"],
)


def test_hits_name_the_roster_entry_not_the_person():
    exact = scan_text("then Rosa said hi", "t.txt", ROSTER)
    assert [h.fix for h in exact] == ["a name of roster entry M01"]
    slip = scan_text("Delgato came by", "t.txt", ROSTER)
    assert slip[0].fix == "if this spelling means roster entry M01, add it to that entry's aliases"
    place = scan_text("at the Riverside Diner", "t.txt", ROSTER)
    assert place[0].fix == "a roster organization or place"
    number = scan_text("call 5551234567", "t.txt", ROSTER)
    assert number[0].fix == ""
    for h in exact + slip + place:
        assert "Rosa" not in str(h) and "Delgado" not in str(h) and "Riverside" not in str(h)
        assert h.fix in str(h)


def test_the_hint_is_not_part_of_a_hit_identity():
    assert Hit("f", 1, "protected name", "a name of roster entry M01") == Hit(
        "f", 1, "protected name"
    )
    assert len({Hit("f", 1, "k", "x"), Hit("f", 1, "k")}) == 1
