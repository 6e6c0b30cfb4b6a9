"""Recordings as recorders name them: neutral session ids, kept stable in the restricted map."""

import json

import pytest

from pipeline.errors import PipelineError
from pipeline.recordings import REGISTER, Register, find_recordings, neutral_id, plan_jobs


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("REC_20240314_101512.m4a", "rec"),
        ("230314_0012.wav", "recording"),
        ("1089-134686-0000.flac", "recording"),
        ("ZOOM0001.m4a", "zoom"),
        ("Voice 003.m4a", "voice"),
        ("2024-03-14 focus group.mp3", "focus-group"),
        ("fg_14.03.24_site-b.wav", "fg-site-b"),
        ("interview-01.wav", "interview-01"),
        ("jfk.flac", "jfk"),
        ("...", "recording"),
    ],
)
def test_neutral_id_keeps_no_dates_or_digit_runs(name, expected):
    assert neutral_id(name) == expected


def _audio(folder, name, content):
    p = folder / name
    p.write_bytes(content)
    return p


def test_recorder_names_get_unique_stable_ids(tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    _audio(incoming, "230314_0012.wav", b"one")
    _audio(incoming, "230314_0013.wav", b"two")
    _audio(incoming, "REC_20240314_101512.m4a", b"three")
    (incoming / "notes.txt").write_text("not audio")
    work = tmp_path / "work"
    jobs = plan_jobs(incoming, None, work)
    assert [j.session_id for j in jobs] == ["recording", "recording-2", "rec"]
    # A rerun, and a renamed copy of the same audio, keep their ids.
    (incoming / "230314_0012.wav").rename(incoming / "Z_999999.wav")
    again = {j.sha256: j.session_id for j in plan_jobs(incoming, None, work)}
    assert again == {j.sha256: j.session_id for j in jobs}
    register = work / REGISTER
    assert register.stat().st_mode & 0o777 == 0o600
    assert set(json.loads(register.read_text())["ids"].values()) == {
        "recording",
        "recording-2",
        "rec",
    }


def test_same_audio_twice_in_a_batch_is_done_once(tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    a = _audio(incoming, "a.wav", b"same")
    _audio(incoming, "b.wav", b"same")
    jobs = plan_jobs(incoming, None, tmp_path / "work")
    assert jobs[0].duplicate_of is None and jobs[1].duplicate_of == str(a.resolve())
    assert jobs[0].session_id == jobs[1].session_id == "a"


def test_manifests_match_recorder_files(tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    _audio(incoming, "REC_20240314_101512.m4a", b"x")
    _audio(incoming, "REC_20240315_090000.m4a", b"y")
    manifests = tmp_path / "m"
    manifests.mkdir()
    (manifests / "int-04.yaml").write_text(
        "session_id: int-04\nkind: staff_interview\nrecording: REC_20240314_101512.m4a\n"
    )
    jobs = {j.session_id: j for j in plan_jobs(incoming, manifests, tmp_path / "work")}
    assert set(jobs) == {"int-04", "rec"}
    assert jobs["int-04"].manifest == str((manifests / "int-04.yaml").resolve())
    assert jobs["rec"].manifest is None


def test_hash_is_reused_until_the_file_changes(tmp_path):
    f = _audio(tmp_path, "a.wav", b"first")
    register = Register(tmp_path / "work")
    d1 = register.digest(f)
    register.data["files"][str(f)]["sha256"] = "cached"
    assert register.digest(f) == "cached"
    f.write_bytes(b"second, longer")
    assert register.digest(f) not in ("cached", d1)


def test_nothing_to_transcribe_is_one_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(PipelineError, match="no audio or video files found"):
        plan_jobs(tmp_path, None, tmp_path / "work")
    assert find_recordings(tmp_path) == []
