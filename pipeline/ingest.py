"""Ingest: decode any audio or video file to 16 kHz mono PCM with PyAV.

No ffmpeg binary is needed: PyAV carries FFmpeg's libraries. Decoding streams
block by block into a WAV file, so an hours-long recording never sits in memory.
"""

from __future__ import annotations

import logging
import math
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pipeline.config import IngestConfig
from pipeline.errors import PipelineError
from pipeline.transcript import Source
from pipeline.workdir import atomic_path, sha256_file

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
#: Level frames for silence checks and chunk planning.
FRAME_S = 0.1
FRAME = int(SAMPLE_RATE * FRAME_S)


@dataclass
class IngestResult:
    """What ingest learned about a recording (saved as ``01_audio/ingest.json``)."""

    source: Source
    #: Level of the loudest 100 ms frame, in dBFS.
    peak_dbfs: float

    def to_dict(self) -> dict:
        return {"source": asdict(self.source), "peak_dbfs": self.peak_dbfs}

    @classmethod
    def from_dict(cls, d: dict) -> IngestResult:
        return cls(Source(**d["source"]), d["peak_dbfs"])


def _fail(path: Path, reason: str, hint: str = "") -> PipelineError:
    return PipelineError(f"{path.name}: {reason}", hint=hint or None)


def check_readable(path: Path) -> None:
    if not path.exists():
        raise _fail(path, "file not found.", "Check the path and spelling.")
    if path.is_dir():
        raise _fail(path, "is a folder, not a recording.")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror}).", "Check file permissions.") from None
    if path.stat().st_size == 0:
        raise _fail(path, "file is empty (0 bytes).", "Copy the recording again from its source.")


def _dbfs(rms: float) -> float:
    return 20 * math.log10(rms) if rms > 0 else -120.0


def decode_to_wav(src: Path, dst: Path, min_duration_s: float = 0.5) -> tuple[Source, float]:
    """Decode ``src`` (checked readable by the caller) to 16 kHz mono 16-bit ``dst``."""
    import av

    try:
        container = av.open(str(src), metadata_errors="ignore")
    except av.error.FFmpegError:
        raise _fail(
            src,
            "cannot be decoded (damaged file or not an audio/video format).",
            "Check that it plays in a media player, or export it again as WAV or MP3.",
        ) from None
    with container:
        if not container.streams.audio:
            raise _fail(
                src,
                "has no audio track.",
                "Export the recording again with sound, or give the audio file instead.",
            )
        stream = container.streams.audio[0]
        fmt = container.format.name
        rate = stream.codec_context.sample_rate or None
        channels = stream.codec_context.channels or None
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        n = 0
        peak = 0.0
        carry = np.zeros(0, dtype=np.int16)
        with atomic_path(dst) as tmp:
            with wave.open(str(tmp), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(SAMPLE_RATE)

                def emit(frames: list) -> None:
                    nonlocal n, peak, carry
                    for fr in frames:
                        pcm = fr.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                        out.writeframes(pcm.tobytes())
                        n += pcm.size
                        carry = np.concatenate([carry, pcm])
                        whole = carry.size // FRAME * FRAME
                        if whole:
                            blocks = carry[:whole].astype(np.float32).reshape(-1, FRAME) / 32768
                            peak = max(peak, float(np.sqrt((blocks**2).mean(axis=1)).max()))
                            carry = carry[whole:]

                try:
                    for frame in container.decode(stream):
                        frame.pts = None  # the resampler re-times frames itself
                        emit(resampler.resample(frame))
                    emit(resampler.resample(None))
                except av.error.FFmpegError:
                    raise _fail(
                        src,
                        f"is damaged: decoding stopped after {n / SAMPLE_RATE:.1f} s.",
                        "Export the recording again from its source.",
                    ) from None
                if carry.size:
                    tail = carry.astype(np.float32) / 32768
                    peak = max(peak, float(np.sqrt((tail**2).mean())))
            duration = n / SAMPLE_RATE
            if n == 0:
                raise _fail(src, "contains no audio (zero length).", "Check the recording.")
            if duration < min_duration_s:
                raise _fail(
                    src,
                    f"is too short ({duration:.2f} s; at least {min_duration_s} s needed).",
                )
    source = Source(
        path=str(src),
        sha256="",  # filled by the caller, which hashes before deciding to decode
        duration=round(duration, 3),
        format=fmt,
        sample_rate=rate,
        channels=channels,
    )
    return source, _dbfs(peak)


#: The settings' defaults (one place), for callers without settings (enrollment clips).
DEFAULTS = IngestConfig()


def ingest(
    src: str | Path,
    dst: str | Path,
    *,
    sha256: str | None = None,
    min_duration_s: float = DEFAULTS.min_duration_s,
    silence_dbfs: float = DEFAULTS.silence_dbfs,
) -> IngestResult:
    """Decode ``src`` into ``dst`` (WAV) and check it holds sound."""
    src, dst = Path(src), Path(dst)
    check_readable(src)
    digest = sha256 or sha256_file(src)
    try:
        source, peak_db = decode_to_wav(src, dst, min_duration_s)
    except PipelineError:
        dst.unlink(missing_ok=True)
        raise
    source.sha256 = digest
    if peak_db < silence_dbfs:
        dst.unlink(missing_ok=True)
        raise _fail(
            src,
            f"is silent throughout (loudest moment {peak_db:.0f} dBFS).",
            "Check the microphone track was recorded, or that this is the right file.",
        )
    logger.info("ingested %.1f s of audio (peak %.0f dBFS)", source.duration, peak_db)
    return IngestResult(source, round(peak_db, 2))


def wav_duration(path: str | Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def read_wav(path: str | Path, start: float = 0.0, end: float | None = None) -> np.ndarray:
    """Samples between ``start`` and ``end`` seconds as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as w:
        total = w.getnframes()
        a = min(total, max(0, round(start * SAMPLE_RATE)))
        b = total if end is None else min(total, round(end * SAMPLE_RATE))
        w.setpos(a)
        raw = w.readframes(max(0, b - a))
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0


def open_wav(path: str | Path) -> np.ndarray:
    """The samples of a work WAV as a read-only int16 memory map (nothing loaded)."""
    with wave.open(str(path), "rb") as w:
        n = w.getnframes()
        if (w.getnchannels(), w.getsampwidth()) != (1, 2):
            raise PipelineError(f"{Path(path).name}: expected 16-bit mono audio.")
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    pos = 12
    while pos + 8 <= len(head):
        chunk, size = head[pos : pos + 4], int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk == b"data":
            return np.memmap(path, dtype=np.int16, mode="r", offset=pos + 8, shape=(n,))
        pos += 8 + size + (size & 1)
    raise PipelineError(f"{Path(path).name}: no data chunk found in the WAV file.")


def frame_levels(path: str | Path, block_s: float = 60.0) -> np.ndarray:
    """RMS level (dBFS) of every 100 ms frame, read a minute at a time."""
    levels = []
    with wave.open(str(path), "rb") as w:
        per_block = int(block_s * SAMPLE_RATE) // FRAME * FRAME
        while True:
            raw = w.readframes(per_block)
            if not raw:
                break
            x = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
            whole = x.size // FRAME * FRAME
            if whole:
                rms = np.sqrt((x[:whole].reshape(-1, FRAME) ** 2).mean(axis=1))
                levels.append(20 * np.log10(np.maximum(rms, 1e-6)))
            if x.size > whole:
                levels.append(np.array([_dbfs(float(np.sqrt((x[whole:] ** 2).mean())))]))
    return np.concatenate(levels) if levels else np.zeros(0)
