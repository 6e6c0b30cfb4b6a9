"""The Prefect flows, in-process on one test harness: isolation, resume, runners."""

import os
import shutil

import pytest

from flows.env import run_options
from tests.conftest import write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, conversation, clips):
    from pipeline.ingest import read_wav
    from tests.support.synth import write_audio

    d = tmp_path_factory.mktemp("incoming")
    shutil.copy(conversation[0], d / "interview-01.wav")
    write_audio(d / "jfk.flac", read_wav(clips["speech"]), 16000)
    (d / "broken.mp3").write_bytes(os.urandom(3000))
    (d / "notes.txt").write_text("not audio, ignored")
    return d


def test_batch_isolates_bad_files_and_resumes(prefect_harness, batch_dir, tmp_path, models_dir):
    from flows.transcribe import run

    opts = run_options(write_config(tmp_path, models_dir), None)
    out = tmp_path / "out"
    rows = {r["session_id"]: r for r in run(str(batch_dir), str(out), opts, show_progress=False)}
    assert set(rows) == {"interview-01", "jfk", "broken"}
    assert rows["broken"]["status"] == "failed"
    assert "broken.mp3: cannot be decoded" in rows["broken"]["error"]
    for sid in ("interview-01", "jfk"):
        assert rows[sid]["status"] == "done", rows[sid]
        assert rows[sid]["rtf"] > 0
        files = sorted(p.name for p in (out / sid).iterdir())
        assert files == [
            "deid_report.json",
            "transcript.json",
            "transcript.maxqda.txt",
            "transcript.srt",
            "transcript.txt",
            "transcript.vtt",
        ]
        assert all(p.stat().st_mode & 0o777 == 0o640 for p in (out / sid).iterdir())
        assert (out / sid).stat().st_mode & 0o777 == 0o750
    assert "your country" in (out / "jfk" / "transcript.txt").read_text().lower()

    before = (out / "jfk" / "transcript.json").read_bytes()
    rows = {r["session_id"]: r for r in run(str(batch_dir), str(out), opts, show_progress=False)}
    assert rows["jfk"]["status"] == "already done"
    assert rows["broken"]["status"] == "failed"
    assert (out / "jfk" / "transcript.json").read_bytes() == before


def test_session_flow_uses_the_manifest_id(prefect_harness, clips, tmp_path, models_dir):
    from flows.transcribe import transcribe_session

    manifest = tmp_path / "m.yaml"
    manifest.write_text("session_id: int-007\nkind: staff_interview\n")
    opts = run_options(write_config(tmp_path, models_dir), None)
    row = transcribe_session(
        str(clips["speech"]), str(tmp_path / "out"), opts, str(manifest), False
    )
    assert row["session_id"] == "int-007" and row["status"] == "done"
    assert (tmp_path / "out" / "int-007" / "transcript.txt").is_file()


def test_dask_runner(prefect_harness, clips, tmp_path, models_dir):
    from flows.transcribe import run

    cfg = write_config(tmp_path, models_dir)
    opts = run_options(cfg, {"runner": {"kind": "dask", "workers": 1}})
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(clips["bowling"], d / "a.wav")
    (d / "b.wav").write_bytes(b"")
    rows = {
        r["session_id"]: r for r in run(str(d), str(tmp_path / "out"), opts, show_progress=False)
    }
    assert rows["a"]["status"] == "done"
    assert rows["b"]["status"] == "failed" and "empty" in rows["b"]["error"]
    assert "bowling" in (tmp_path / "out" / "a" / "transcript.txt").read_text().lower()


def test_unexpected_errors_are_logged_privately(tmp_path):
    from flows.tasks import guarded
    from pipeline.errors import PipelineError

    def boom():
        raise ValueError("Maria Lopez said something private")

    with pytest.raises(PipelineError) as e:
        guarded("transcribe", tmp_path / "s1", boom)
    assert "Maria" not in str(e.value) and "ValueError" in str(e.value)
    log = tmp_path / "s1" / "error.log"
    assert "Maria Lopez" in log.read_text()
    assert oct(log.stat().st_mode)[-3:] == "600"
