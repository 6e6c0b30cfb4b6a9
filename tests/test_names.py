"""Voices tied to roster people from what is said (pipeline.speakers.names)."""

from pipeline.config import RolesConfig
from pipeline.manifest import Person, SessionManifest
from pipeline.speakers.labels import LabelRegistry
from pipeline.speakers.names import evidence
from pipeline.speakers.roles import apply_roles, assign_roles, label_voices, needs_review
from tests.support.roles import session

CFG = RolesConfig()
PEOPLE = [
    Person(id="F01", name="Dana Whitfield", role="facilitator"),
    Person(id="M01", name="Rosa Delgado", aliases=["Rosie"], role="member"),
    Person(id="M02", name="Tom Becker", role="member"),
    Person(id="M03", name="Priya Natarajan", role="member"),
]


def manifest(people=PEOPLE):
    return SessionManifest(session_id="s", kind="member_focus_group", people=list(people))


INTRO_ROUND = [
    ("SPK0", "Good afternoon. My name is Dana Whitfield and I will lead today."),
    ("SPK0", "Could each of you say your first name?"),
    ("SPK1", "Sure. I'm Rosa Delgado. Six years now."),
    ("SPK2", "My name is Tom Becker. Three years."),
    ("SPK3", "And I'm Prianna Natarajan. Almost two years."),
    ("SPK0", "Thank you. What do you do together with staff?"),
    ("SPK1", "Mostly dinner with Marcus from the staff."),
    ("SPK0", "Thank you, Rosa, Tom and Priya. This was very helpful."),
]


def kinds(ev):
    return {(e.voice, e.person, e.kind) for e in ev}


def test_self_introductions_tie_each_voice_to_its_person():
    t, d = session(INTRO_ROUND)
    ev = evidence(t, manifest())
    assert {("SPK0", "F01", "intro"), ("SPK1", "M01", "intro"), ("SPK2", "M02", "intro")} <= kinds(
        ev
    )
    # A misheard first name before the right surname still introduces Priya.
    assert ("SPK3", "M03", "intro") in kinds(ev)
    # Thanking several people at once ties nobody; it rules the speaker out.
    assert not [e for e in ev if e.voice != "SPK0" and e.at >= 14.0]
    voices = assign_roles(t, d, manifest(), {}, {}, CFG)
    by = {v.id: (v.person, v.role, v.source) for v in voices}
    assert by == {
        "SPK0": ("F01", "facilitator", "names"),
        "SPK1": ("M01", "member", "names"),
        "SPK2": ("M02", "member", "names"),
        "SPK3": ("M03", "member", "names"),
    }
    assert all(v.confidence >= CFG.review_below for v in voices)
    assert needs_review(voices, manifest(), CFG) == []


def test_labels_of_named_voices_are_the_pseudonyms(tmp_path):
    t, d = session(INTRO_ROUND)
    voices = assign_roles(t, d, manifest(), {}, {}, CFG)
    known = [(v.person, v.role) for v in voices if v.person]
    registry = LabelRegistry(tmp_path)
    label_voices(voices, registry.labels_for(known))
    # The de-identification asks the same registry for every roster person's pseudonym.
    pseudonyms = registry.labels_for([(p.id, p.role) for p in PEOPLE])
    assert {v.id: v.label for v in voices} == {
        "SPK0": pseudonyms["F01"],
        "SPK1": pseudonyms["M01"],
        "SPK2": pseudonyms["M02"],
        "SPK3": pseudonyms["M03"],
    }
    apply_roles(t, voices)
    assert {s["id"]: s["person"] for s in t.speakers}["SPK3"] == "M03"


def test_addressed_by_name_at_a_turn_change():
    lines = [
        ("SPK0", "What do you do on weekends? Tom, what about you?"),
        ("SPK2", "Sometimes we go bowling on Saturday."),
        ("SPK0", "And how was that for you, Rosie?"),
        ("SPK3", "Mm-hm."),
        ("SPK1", "It was fun, I liked it a lot."),
        ("SPK0", "Thank you, Priya. So how often do you go?"),
    ]
    # SPK3 answers last before the thanks: make it speak a full sentence.
    lines.insert(5, ("SPK3", "For me it was hard because of the money."))
    t, d = session(lines)
    ev = evidence(t, manifest())
    assert ("SPK2", "M02", "addressed") in kinds(ev)
    # The short backchannel is skipped: the next voice to take the floor is Rosa.
    assert ("SPK1", "M01", "addressed") in kinds(ev)
    assert ("SPK3", "M03", "thanked") in kinds(ev)
    # The one who calls on people is none of them.
    assert {("SPK0", p, "mentioned") for p in ("M01", "M02", "M03")} <= kinds(ev)
    voices = assign_roles(t, d, manifest(), {}, {}, CFG)
    assert {v.id: v.person for v in voices if v.source == "names"} == {
        "SPK1": "M01",
        "SPK2": "M02",
        "SPK3": "M03",
    }


def test_a_one_word_answer_is_a_name():
    lines = [
        ("SPK0", "Please say your first name for the recording."),
        ("SPK1", "Rosa."),
        ("SPK2", "Um, Tom."),
        ("SPK0", "Thanks. What do you do together with staff?"),
        ("SPK1", "We go out for dinner every other Friday."),
        ("SPK2", "Sometimes we go bowling together."),
    ]
    t, _d = session(lines)
    assert {("SPK1", "M01", "answer"), ("SPK2", "M02", "answer")} <= kinds(evidence(t, manifest()))


def test_a_name_in_passing_ties_nobody():
    lines = [
        ("SPK0", "What do you do together with staff?"),
        ("SPK1", "I talked it through with Tom afterwards, and that helped."),
        ("SPK2", "Tom is the one who drives us to the diner."),
    ]
    t, d = session(lines)
    voices = assign_roles(t, d, manifest(), {}, {}, CFG)
    assert not [v for v in voices if v.source == "names"]
    assert {(e.voice, e.kind) for e in evidence(t, manifest())} == {
        ("SPK1", "mentioned"),
        ("SPK2", "mentioned"),
    }


def test_no_manifest_no_people_no_evidence():
    t, _ = session(INTRO_ROUND)
    assert evidence(t, None) == []
    assert evidence(t, SessionManifest(session_id="s")) == []


def test_enrollment_and_review_answers_outrank_names():
    t, d = session(INTRO_ROUND)
    answers = {"SPK1": {"role": "member", "person": "M02"}}
    voices = assign_roles(t, d, manifest(), {}, answers, CFG)
    by = {v.id: (v.person, v.source) for v in voices}
    assert by["SPK1"] == ("M02", "review")
    # Tom is taken by the RA's answer: the voice that said "My name is Tom" stays open.
    assert by["SPK2"][1] != "names"


def test_a_name_that_opens_the_answer_to_a_name_round():
    lines = [
        ("SPK0", "Could each of you say your first name, and how long you have been here?"),
        ("SPK1", "Tom, five years, I think."),
        ("SPK2", "Rosa. Two years."),
        ("SPK0", "What do you do together with staff?"),
        ("SPK1", "Tom said we go bowling, I think."),
    ]
    t, _ = session(lines)
    ev = kinds(evidence(t, manifest()))
    assert {("SPK1", "M02", "answer"), ("SPK2", "M01", "answer")} <= ev
    # Outside a round of names, a name that opens a turn is not the speaker's own.
    assert ("SPK1", "M02", "mentioned") in ev
