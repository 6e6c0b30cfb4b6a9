"""De-identified audio: every replaced word covered by a tone, so a coder can listen
without hearing names. Written block by block (hours-long files stay small in memory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.ingest import SAMPLE_RATE, open_wav
from pipeline.workdir import SHARED_FILE, atomic_path

TONE_HZ = 1000.0
TONE_LEVEL = 0.2  # about -14 dBFS


def merge(spans: list[tuple[float, float]], pad: float, total: float) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        a, b = max(0.0, a - pad), min(total, b + pad)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def bleep(
    wav: Path, spans: list[tuple[float, float]], out: Path, pad: float = 0.15, block_s: float = 60.0
) -> list[tuple[float, float]]:
    """Write ``out`` (.m4a, AAC) from ``wav`` with tones over ``spans``; returns the spans used."""
    import av

    audio = open_wav(wav)
    total = len(audio) / SAMPLE_RATE
    covered = merge(spans, pad, total)
    block = int(block_s * SAMPLE_RATE)
    with atomic_path(out, mode=SHARED_FILE) as tmp, av.open(str(tmp), "w", format="ipod") as c:
        stream = c.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        for start in range(0, len(audio), block):
            x = np.asarray(audio[start : start + block]).astype(np.float32) / 32768.0
            t0, t1 = start / SAMPLE_RATE, (start + len(x)) / SAMPLE_RATE
            for a, b in covered:
                if b <= t0 or a >= t1:
                    continue
                i, j = int(max(a - t0, 0) * SAMPLE_RATE), int(min(b - t0, t1 - t0) * SAMPLE_RATE)
                t = (start + np.arange(i, j)) / SAMPLE_RATE
                x[i:j] = TONE_LEVEL * np.sin(2 * np.pi * TONE_HZ * t)
            frame = av.AudioFrame.from_ndarray(
                (np.clip(x, -1, 1) * 32767).astype(np.int16)[None, :], format="s16", layout="mono"
            )
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return covered
