import subprocess
import sys

from flows.cli import summary_table
from tests.conftest import ROOT


def test_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0
    for cmd in ("transcribe", "models", "serve"):
        assert cmd in out.stdout
    sub = subprocess.run(
        [sys.executable, "-m", "flows.cli", "transcribe", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "--session" in sub.stdout and "--out" in sub.stdout


def test_bad_config_is_one_line_and_exit_2(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("asr:\n  engine: whisperx\n")
    out = subprocess.run(
        [sys.executable, "-m", "flows.cli", "--config", str(cfg), "transcribe", "x.wav"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "Unknown asr.engine 'whisperx'. Available: faster_whisper, openai_whisper" in out.stderr


def test_summary_table():
    rows = [
        {
            "file": "/x/REC_20240314_101512.wav",
            "session_id": "rec",
            "duration": 3725.0,
            "seconds": 300.0,
            "rtf": 0.081,
            "status": "done",
            "error": None,
        },
        {
            "file": "/x/b.mp3",
            "session_id": "b",
            "duration": None,
            "seconds": 0.0,
            "rtf": None,
            "status": "failed",
            "error": "b.mp3: file is empty (0 bytes).",
        },
    ]
    table = summary_table(rows).splitlines()
    assert table[0].split() == ["file", "session", "duration", "seconds", "RTF", "status"]
    assert table[2].split()[:6] == [
        "REC_20240314_101512.wav",
        "rec",
        "1:02:05",
        "300.0",
        "0.081",
        "done",
    ]
    assert table[3].endswith("failed: b.mp3: file is empty (0 bytes).")
