import pytest
import yaml

from pipeline.errors import PipelineError
from pipeline.manifest import Person, SessionManifest
from pipeline.review import quotes, read_answers, write_review
from pipeline.roles import Voice
from tests.test_roles import FOCUS, session


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
