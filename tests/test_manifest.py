import pytest

from pipeline.errors import PipelineError
from pipeline.manifest import load_manifest

from .conftest import ROOT


def write(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


def test_example_manifest_merges_its_roster():
    m = load_manifest(ROOT / "configs" / "sessions" / "example.yaml")
    assert m.session_id == "example-focus-group"
    assert m.kind == "member_focus_group"
    roles = {p.id: p.role for p in m.people}
    assert roles["F01"] == "facilitator" and "S01" not in roles
    assert [p.id for p in m.protected_people()][-1] == "S01"
    assert "Riverside Diner" in m.places
    assert m.speaker_bounds() == (3, 6)


def test_unknown_role_is_a_clear_error(tmp_path):
    p = write(tmp_path, "session_id: s1\npeople:\n  - {id: P1, name: A B, role: boss}\n")
    with pytest.raises(PipelineError) as e:
        load_manifest(p)
    assert "people.0.role" in str(e.value)
    assert "'facilitator', 'staff' or 'member'" in str(e.value)


def test_duplicate_people_and_bad_session_id(tmp_path):
    p = write(
        tmp_path,
        "session_id: s1\npeople:\n  - {id: P1, name: A, role: member}\n"
        "  - {id: P1, name: B, role: member}\n",
    )
    with pytest.raises(PipelineError, match="repeated: P1"):
        load_manifest(p)
    p = write(tmp_path, "session_id: 'Maria Lopez interview'\n")
    with pytest.raises(PipelineError, match="session_id"):
        load_manifest(p)


def test_speaker_bounds(tmp_path):
    assert load_manifest(
        write(tmp_path, "session_id: s\nexpected_speakers: 2\n")
    ).speaker_bounds() == (2, 2)
    p = write(tmp_path, "session_id: s\nexpected_speakers: {min: 5, max: 3}\n")
    with pytest.raises(PipelineError, match="min"):
        load_manifest(p)
