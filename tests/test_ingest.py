"""Ingest decodes every format RAs bring, and rejects bad files with one clear line."""

import os
import wave

import av
import numpy as np
import pytest

from pipeline.errors import PipelineError
from pipeline.ingest import SAMPLE_RATE, frame_levels, ingest, read_wav, wav_duration
from tests.support.synth import write_audio


def tone(seconds=2.0, sr=16000, freq=440.0, level=0.3):
    t = np.arange(int(seconds * sr)) / sr
    # A warbling tone: not silence, and not one pure frequency.
    return (level * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    )


@pytest.mark.parametrize(
    ("suffix", "sr", "channels"),
    [
        (".wav", 16000, 1),
        (".wav", 48000, 2),
        (".flac", 44100, 2),
        (".mp3", 44100, 1),
        (".m4a", 22050, 1),
        (".ogg", 48000, 1),
        (".wav", 8000, 1),
    ],
)
def test_formats_rates_and_channels_decode_to_16k_mono(tmp_path, suffix, sr, channels):
    src = write_audio(tmp_path / f"in{suffix}", tone(2.0, sr), sr, channels)
    out = tmp_path / "audio.wav"
    r = ingest(src, out)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2)
    assert abs(r.source.duration - 2.0) < 0.1
    assert r.source.channels == channels
    assert len(r.source.sha256) == 64
    assert r.peak_dbfs > -30


def write_video(path, seconds=2.0, with_audio=True):
    with av.open(str(path), "w") as c:
        v = c.add_stream("mpeg4", rate=25)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        a = c.add_stream("aac", rate=16000, layout="mono") if with_audio else None
        for i in range(int(seconds * 25)):
            img = np.full((48, 64, 3), i % 255, dtype=np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
        if a is not None:
            pcm = (tone(seconds) * 32767).astype(np.int16)[None, :]
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = 16000
            for p in a.encode(frame):
                c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_audio_track_of_video(tmp_path, suffix):
    src = write_video(tmp_path / f"clip{suffix}")
    r = ingest(src, tmp_path / "audio.wav")
    assert abs(r.source.duration - 2.0) < 0.15


def expect_one_line_error(src, tmp_path, match):
    out = tmp_path / "audio.wav"
    with pytest.raises(PipelineError) as e:
        ingest(src, out)
    msg = str(e.value)
    assert src.name in msg and "\n" not in msg
    assert match in msg
    assert not out.exists(), "no half-written output"
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    return msg


def test_video_without_audio(tmp_path):
    src = write_video(tmp_path / "silent_film.mp4", with_audio=False)
    expect_one_line_error(src, tmp_path, "has no audio track")


def test_corrupt(tmp_path):
    src = tmp_path / "broken.m4a"
    src.write_bytes(os.urandom(4000))
    expect_one_line_error(src, tmp_path, "cannot be decoded")


def test_truncated_file(tmp_path):
    full = write_audio(tmp_path / "full.mp3", tone(5.0, 44100), 44100)
    src = tmp_path / "cut.flac"
    good = write_audio(tmp_path / "g.flac", tone(5.0, 44100), 44100)
    src.write_bytes(good.read_bytes()[:2000])
    # A cut file either decodes what is there or fails with one line; never a crash.
    try:
        r = ingest(src, tmp_path / "audio.wav")
        assert r.source.duration < 5.0
    except PipelineError as e:
        assert "\n" not in str(e)
    assert full.exists()


def test_empty(tmp_path):
    src = tmp_path / "empty.wav"
    src.write_bytes(b"")
    expect_one_line_error(src, tmp_path, "file is empty (0 bytes)")


def test_zero_length(tmp_path):
    src = tmp_path / "zero.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    expect_one_line_error(src, tmp_path, "zero length")


def test_all_silence(tmp_path):
    src = write_audio(tmp_path / "quiet.wav", np.zeros(16000 * 3, dtype=np.float32), 16000)
    expect_one_line_error(src, tmp_path, "silent throughout")


def test_too_short(tmp_path):
    src = write_audio(tmp_path / "blip.wav", tone(0.2), 16000)
    expect_one_line_error(src, tmp_path, "too short")


def test_missing_and_folder(tmp_path):
    expect_one_line_error(tmp_path / "nope.wav", tmp_path, "file not found")
    (tmp_path / "dir.wav").mkdir()
    expect_one_line_error(tmp_path / "dir.wav", tmp_path, "is a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable(tmp_path):
    src = write_audio(tmp_path / "locked.wav", tone(), 16000)
    src.chmod(0)
    expect_one_line_error(src, tmp_path, "cannot be read")


def test_read_wav_and_levels(tmp_path):
    src = write_audio(
        tmp_path / "t.wav", np.concatenate([tone(1.0), np.zeros(16000, np.float32)]), 16000
    )
    out = tmp_path / "audio.wav"
    ingest(src, out)
    assert wav_duration(out) == pytest.approx(2.0, abs=0.01)
    part = read_wav(out, 0.5, 1.5)
    assert part.dtype == np.float32 and len(part) == 16000
    levels = frame_levels(out)
    assert len(levels) == 20
    assert levels[:10].min() > -30 and levels[10:].max() < -80
