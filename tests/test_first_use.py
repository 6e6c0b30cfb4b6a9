"""A new lab's first command: a fresh Prefect home on a busy machine, recorder-named files,
and a rerun with nothing to do that never starts Prefect."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, write_config

pytestmark = pytest.mark.slow

RECORDER_NAMES = {
    "speech": "REC_20240314_101512.wav",
    "bowling": "230314_0012.wav",
    "diner": "1089-134686-0000.wav",
}


def qscribe(*args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def fresh(tmp_path, models_dir, clips):
    """Settings with every zone (Prefect's home too) new and empty; a recorder's folder."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for src, name in RECORDER_NAMES.items():
        shutil.copy(clips[src], incoming / name)
    write_config(
        tmp_path, models_dir, tmp_path / "prefect-new", {"diarization": {"enabled": False}}
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return tmp_path, incoming, env


def test_first_command_on_a_busy_machine_then_a_quick_rerun(fresh):
    tmp_path, incoming, env = fresh
    config = str(tmp_path / "config.yaml")
    out = tmp_path / "out"
    cmd = ["-m", "flows.cli", "--config", config, "transcribe", str(incoming), "--out", str(out)]
    # Every core busy while Prefect creates its database and starts its server.
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        first = qscribe(*cmd, "--quiet", env=env)
    finally:
        for b in burners:
            b.kill()
    assert first.returncode == 0, first.stderr[-2000:]
    assert (tmp_path / "prefect-new").is_dir()
    # Recorder-named files come out under neutral ids: no dates, no digit runs.
    assert sorted(p.name for p in out.iterdir()) == ["rec", "recording", "recording-2"]
    assert "your country" in (out / "rec" / "transcript.txt").read_text().lower()
    for name in RECORDER_NAMES.values():
        assert name in first.stdout  # the summary maps each file to its id
    register = tmp_path / "work" / "recordings.json"
    assert register.stat().st_mode & 0o777 == 0o600
    assert sorted(json.loads(register.read_text())["ids"].values()) == sorted(
        ["rec", "recording", "recording-2"]
    )

    # Nothing new: answered from the checkpoints, Prefect never imported.
    again = qscribe("-X", "importtime", *cmd, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("already done") == 3
    assert " prefect" not in again.stderr, "a rerun with nothing to do must not start Prefect"

    # An output file removed by hand is exported again (and only that stage runs).
    (out / "rec" / "transcript.txt").unlink()
    third = qscribe(*cmd, "--quiet", env=env)
    assert third.returncode == 0, third.stderr[-2000:]
    assert (out / "rec" / "transcript.txt").is_file()
