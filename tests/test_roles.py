import numpy as np
import pytest

from pipeline.config import RolesConfig
from pipeline.manifest import Person, SessionManifest
from pipeline.speakers.labels import LabelRegistry, letter_label
from pipeline.speakers.roles import (
    apply_roles,
    assign_roles,
    is_question,
    label_voices,
    needs_review,
)
from tests.support.roles import FOCUS, session

CFG = RolesConfig()


def manifest(kind="member_focus_group", people=()):
    return SessionManifest(session_id="s", kind=kind, people=list(people))


def test_question_detection():
    assert is_question("What do you do?") and is_question("how often do you go out")
    assert not is_question("We go out for pizza.") and not is_question("Yeah.")


def test_facilitator_and_members_without_enrollment():
    t, d = session(FOCUS)
    voices = assign_roles(t, d, manifest(), {}, {}, CFG)
    roles = {v.id: v.role for v in voices}
    assert roles == {"SPK0": "facilitator", "SPK1": "member", "SPK2": "member", "SPK3": "member"}
    fac = next(v for v in voices if v.id == "SPK0")
    assert fac.confidence >= 0.8
    label_voices(voices, {})
    assert [v.label for v in voices] == ["FACILITATOR", "MEMBER-A", "MEMBER-B", "MEMBER-C"]


def test_staff_interview_names_the_one_staff_member():
    lines = [
        ("SPK1", "Thanks for talking with me today."),
        ("SPK1", "How long have you worked here?"),
        ("SPK0", "About six years now, mostly in the kitchen unit."),
        ("SPK1", "Why do you go out with members?"),
        ("SPK0", "Because I enjoy it and so do they."),
    ]
    t, d = session(lines)
    people = [
        Person(id="F1", name="A B", role="facilitator"),
        Person(id="S1", name="C D", role="staff"),
    ]
    voices = assign_roles(t, d, manifest("staff_interview", people), {}, {}, CFG)
    by = {v.id: (v.role, v.person) for v in voices}
    assert by == {"SPK1": ("facilitator", "F1"), "SPK0": ("staff", "S1")}


def test_enrollment_matches_one_to_one_above_threshold():
    t, d = session(FOCUS)
    people = [
        Person(id="M1", name="x", role="member"),
        Person(id="M2", name="y", role="member"),
        Person(id="F1", name="z", role="facilitator"),
    ]
    e = np.eye(4)
    enrolled = {"M1": e[2] * 0.9 + e[1] * 0.1, "M2": e[1], "F1": e[0]}
    enrolled = {k: v / np.linalg.norm(v) for k, v in enrolled.items()}
    voices = {v.id: v for v in assign_roles(t, d, manifest(people=people), enrolled, {}, CFG)}
    assert (voices["SPK2"].person, voices["SPK2"].source) == ("M1", "enrollment")
    assert voices["SPK1"].person == "M2" and voices["SPK0"].person == "F1"
    assert voices["SPK3"].person is None and voices["SPK3"].role == "member"


def test_review_answers_win_and_voices_of_one_person_merge():
    t, d = session(FOCUS)
    people = [Person(id="M1", name="x", role="member")]
    answers = {"SPK3": {"role": None, "person": "M1"}, "SPK1": {"role": "member", "person": "M1"}}
    voices = assign_roles(t, d, manifest(people=people), {}, answers, CFG)
    by = {v.id: v for v in voices}
    assert by["SPK3"].source == "review" and by["SPK3"].role == "member"
    label_voices(voices, {"M1": "MEMBER-7"})
    out = apply_roles(t, voices)
    assert {s.speaker for s in out.segments} == {"SPK0", "SPK1", "SPK2"}
    assert [s["label"] for s in out.speakers if s["id"] == "SPK1"] == ["MEMBER-7"]


def test_more_voices_than_people_goes_to_review():
    t, d = session(FOCUS)
    people = [
        Person(id="F1", name="z", role="facilitator"),
        Person(id="M1", name="x", role="member"),
    ]
    voices = assign_roles(t, d, manifest(people=people), {}, {}, RolesConfig(min_talk_s=0.5))
    reasons = needs_review(voices, manifest(people=people), RolesConfig(min_talk_s=0.5))
    assert any("confidence" in r for r in reasons)
    assert needs_review(voices, None, CFG) == []


def test_single_voice_in_a_focus_group_is_flagged():
    t, d = session([("SPK0", "I am the only one talking here today, it seems.")] * 3)
    m = SessionManifest(
        session_id="s", kind="member_focus_group", expected_speakers={"min": 3, "max": 8}
    )
    voices = assign_roles(t, d, m, {}, {}, CFG)
    assert any("expects at least 3" in r for r in needs_review(voices, m, CFG))


def test_label_registry_is_project_wide(tmp_path):
    reg = LabelRegistry(tmp_path)
    assert reg.labels_for([("M01", "member"), ("S01", "staff"), ("M02", "member")]) == {
        "M01": "MEMBER-1",
        "S01": "STAFF-1",
        "M02": "MEMBER-2",
    }
    again = LabelRegistry(tmp_path).labels_for(
        [("M02", "member"), ("M09", "member"), ("F1", "facilitator")]
    )
    assert again == {"M02": "MEMBER-2", "M09": "MEMBER-3", "F1": "FACILITATOR"}
    assert oct((tmp_path / "labels.json").stat().st_mode)[-3:] == "600"
    assert letter_label("member", 0) == "MEMBER-A" and letter_label("unknown", 27) == "SPEAKER-BB"


@pytest.mark.parametrize("kind", ["other"])
def test_other_kind_leaves_non_facilitators_unknown(kind):
    t, d = session(FOCUS)
    voices = assign_roles(t, d, None, {}, {}, CFG)
    assert {v.role for v in voices if v.id != "SPK0"} == {"unknown"}
