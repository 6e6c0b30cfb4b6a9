import pytest
import yaml

from pipeline.errors import PipelineError
from pipeline.manifest import Person, SessionManifest
from pipeline.speakers.review import quotes, read_answers, write_review
from pipeline.speakers.roles import Voice
from tests.support.roles import FOCUS, session


def manifest():
    return SessionManifest(
        session_id="s",
        kind="member_focus_group",
        people=[Person(id="M1", name="Rosa D", role="member")],
    )


def test_review_file_round_trip(tmp_path):
    t, _d = session(FOCUS)
    voices = [
        Voice("SPK0", 5.0, 0.0, "facilitator", None, "FACILITATOR", 0.55),
        Voice("SPK1", 3.0, 4.0, "member", None, "MEMBER-A", 0.4),
    ]
    path = write_review(tmp_path / "speakers.review.yaml", t, voices, manifest(), ["SPK1: low"])
    text = path.read_text()
    assert text.startswith("# Speakers to check for session s.")
    assert oct(path.stat().st_mode)[-3:] == "600"
    data = yaml.safe_load(text)
    assert data["voices"][1]["quotes"][0].startswith("[00:00:04] We go out for pizza")
    assert read_answers(path, manifest()) == {}
    data["voices"][1]["person"] = "M1"
    data["voices"][0]["role"] = "facilitator"
    path.write_text(yaml.safe_dump(data))
    assert read_answers(path, manifest()) == {
        "SPK0": {"role": "facilitator", "person": None},
        "SPK1": {"role": None, "person": "M1"},
    }
    # Rewriting keeps what the RA filled in.
    write_review(path, t, voices, manifest(), [], read_answers(path, manifest()))
    assert read_answers(path, manifest())["SPK1"]["person"] == "M1"


def test_bad_answers_are_clear(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("voices:\n  - {voice: SPK1, role: boss}\n")
    with pytest.raises(PipelineError, match="unknown role 'boss'"):
        read_answers(path, manifest())
    path.write_text("voices:\n  - {voice: SPK1, person: Z9}\n")
    with pytest.raises(PipelineError, match="person 'Z9' is not in the session manifest"):
        read_answers(path, manifest())


def test_quotes_are_short_and_stamped():
    t, _ = session(FOCUS)
    q = quotes(t, "SPK0")
    assert len(q) == 3 and all(x.startswith("[00:00:") for x in q)


def test_review_shows_a_voice_named_in_the_transcript(tmp_path):
    from pipeline.config import RolesConfig
    from pipeline.speakers.roles import assign_roles

    lines = [
        ("SPK0", "Could each of you say your first name?"),
        ("SPK1", "Hi, I'm Rosa. Six years now."),
        ("SPK0", "What do you do together with staff?"),
        ("SPK1", "We go out for pizza on Fridays most weeks."),
        ("SPK2", "Sometimes bowling, when we have the money."),
    ]
    t, d = session(lines)
    m = SessionManifest(
        session_id="s",
        kind="member_focus_group",
        people=[
            Person(id="M1", name="Rosa D", role="member"),
            Person(id="M2", name="Tom B", role="member"),
        ],
    )
    voices = assign_roles(t, d, m, {}, {}, RolesConfig())
    path = write_review(tmp_path / "speakers.review.yaml", t, voices, m, ["check"])
    entry = next(v for v in yaml.safe_load(path.read_text())["voices"] if v["voice"] == "SPK1")
    assert entry["guess"]["person"] == "M1" and entry["guess"]["from"] == "names"
    assert 0.6 <= entry["guess"]["confidence"] <= 0.95
    assert entry["guess"]["why"] == ["named in the transcript (intro)"]
