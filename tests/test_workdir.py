import os
import stat

import pytest

from pipeline.workdir import (
    SessionDir,
    atomic_path,
    make_dir,
    remove_partials,
    stage_key,
    write_json,
    write_text,
)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_restricted_modes_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        d = make_dir(tmp_path / "work" / "s1")
        f = write_text(d / "a.txt", "x")
    finally:
        os.umask(old)
    assert mode(d) == 0o700
    assert mode(f) == 0o600


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("killed")
    assert target.read_text().strip().startswith("{")
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_remove_partials(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".transcript.json.tmp-abc").write_text("partial")
    (tmp_path / "keep.json").write_text("{}")
    assert remove_partials(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.json"]


def test_stage_records_and_invalidation(tmp_path):
    s = SessionDir(tmp_path, "s1")
    key = stage_key("asr", {"model": "tiny.en"})
    assert key == stage_key("asr", {"model": "tiny.en"})
    assert key != stage_key("asr", {"model": "base"})
    folder = s.stage("audio")
    (folder / "audio.wav").write_bytes(b"x")
    s.mark_done("audio", key, ["audio.wav"])
    assert s.is_done("audio", key)
    assert not s.is_done("audio", "other")
    (folder / "audio.wav").unlink()
    assert not s.is_done("audio", key), "a missing output means the stage must rerun"
    s.stage("asr")
    s.mark_done("asr", "k", [])
    s.invalidate_from("audio")
    assert s.read_record("audio") is None and s.read_record("asr") is None
