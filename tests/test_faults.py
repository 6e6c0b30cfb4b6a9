"""Faults and load as a lab meets them: a full or read-only output disk, two runs at
once, a damaged checkpoint, a batch of a hundred recordings."""

import contextlib
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.slow


def config(tmp_path, models_dir, **extra):
    """Every zone under ``tmp_path`` (Prefect's home too); no diarization (not tested here)."""
    extra = {"diarization": {"enabled": False}, **extra}
    return write_config(tmp_path, models_dir, tmp_path / "prefect", extra)


def qscribe(cfg, *args, **kw):
    return subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "--config", str(cfg), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def finish(proc, timeout=900):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@contextlib.contextmanager
def small_disk(path, size, *options):
    """A real tmpfs of ``size`` mounted at ``path`` (root only)."""
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size}", *options])
    if subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)]).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)])


@pytest.fixture
def batch(tmp_path, clips):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name, path in clips.items():
        shutil.copy(path, incoming / f"{name}.wav")
    return incoming


@pytest.mark.parametrize("options", [("size=12k",), ("ro",)], ids=["full", "read-only"])
def test_output_disk_full_or_read_only(tmp_path, models_dir, batch, options):
    cfg = config(tmp_path, models_dir)
    size = "12k" if options == ("size=12k",) else "1m"
    with small_disk(tmp_path / "out", size, *[o for o in options if o == "ro"]) as out:
        code, stdout, _err = finish(qscribe(cfg, "transcribe", str(batch), "--out", str(out)))
        assert code == 1
        assert "failed: session" in stdout and "cannot write the output folder" in stdout
        # Nothing half-written: no temp files, no partial session folder.
        assert [p for p in out.rglob("*") if ".tmp-" in p.name] == []
        for sid in os.listdir(out):
            exported = set(os.listdir(tmp_path / "work" / sid / "05_deid")) - {"stage.json"}
            assert set(os.listdir(out / sid)) == exported
    # Nothing lost: with room to write, only the export runs again.
    code, stdout, err = finish(
        qscribe(cfg, "transcribe", str(batch), "--out", str(tmp_path / "o2"))
    )
    assert code == 0, err[-2000:]
    assert len(os.listdir(tmp_path / "o2")) == 3


def test_two_runs_on_one_folder_at_once(tmp_path, models_dir, batch):
    cfg = config(tmp_path, models_dir)
    out = tmp_path / "out"
    runs = [qscribe(cfg, "transcribe", str(batch), "--out", str(out), "--quiet") for _ in range(2)]
    results = [finish(p) for p in runs]
    assert [r[0] for r in results] == [0, 0], [r[2][-2000:] for r in results]
    assert sorted(os.listdir(out)) == ["bowling", "diner", "speech"]
    for sid in os.listdir(out):
        assert [p for p in (out / sid).iterdir() if ".tmp-" in p.name] == []


def test_damaged_checkpoint_is_detected_and_redone(tmp_path, models_dir, batch):
    cfg = config(tmp_path, models_dir)
    out = tmp_path / "out"
    assert finish(qscribe(cfg, "transcribe", str(batch), "--out", str(out)))[0] == 0
    before = (out / "speech" / "transcript.json").read_bytes()
    asr = tmp_path / "work" / "speech" / "02_asr" / "transcript.json"
    asr.write_bytes(asr.read_bytes()[:100])  # a disk error, a bad copy
    code, stdout, err = finish(qscribe(cfg, "transcribe", str(batch), "--out", str(out)))
    assert code == 0, err[-2000:]
    row = next(line for line in stdout.splitlines() if line.startswith("speech.wav"))
    assert "already done" not in row
    assert (out / "speech" / "transcript.json").read_bytes() == before


def test_a_batch_of_a_hundred_recordings(tmp_path, models_dir, clips):
    from pipeline.ingest import read_wav
    from tests.support.synth import write_audio

    incoming = tmp_path / "incoming"
    sources = [read_wav(p) for p in clips.values()]
    for i in range(100):
        pad = np.zeros(160 * (i + 1), dtype=np.float32)  # each file its own audio
        write_audio(
            incoming / f"{230314 + i}_{i:04d}.wav", np.concatenate([sources[i % 3], pad]), 16000
        )
    cfg = config(tmp_path, models_dir, runner={"workers": 2})
    code, stdout, err = finish(
        qscribe(cfg, "transcribe", str(incoming), "--out", str(tmp_path / "out"), "--quiet"), 1800
    )
    assert code == 0, err[-2000:]
    assert "100 of 100 recording(s) transcribed" in stdout
    assert len(os.listdir(tmp_path / "out")) == 100
