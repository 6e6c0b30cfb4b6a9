"""Render scripted multi-voice recordings with espeak-ng, with their reference turns.

Used by ``make example`` (the bundled mock focus group), by the tests (fixtures
that build their own audio) and by the evaluations (focus groups with known
turns). The encoder is PyAV, so any format the pipeline reads can be produced.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import yaml

SR = 22050  # espeak-ng's native rate

#: Clearly different voices (accent + voice variant + pitch + speed), picked greedily
#: among 91 espeak-ng combinations for the lowest voice-embedding similarity.
VOICE_BANK = [
    {"voice": "en-029+f2", "speed": 160, "pitch": 70},
    {"voice": "en-us+klatt", "speed": 150, "pitch": 50},
    {"voice": "en-gb-x-gbcwmd+m7", "speed": 170, "pitch": 45},
    {"voice": "en-us+f4", "speed": 155, "pitch": 80},
    {"voice": "en-gb-x-gbcwmd+m5", "speed": 165, "pitch": 30},
    {"voice": "en-gb+f4", "speed": 150, "pitch": 80},
    {"voice": "en-us+m3", "speed": 140, "pitch": 35},
    {"voice": "en-029+f1", "speed": 175, "pitch": 50},
]


@dataclass
class Voice:
    voice: str
    speed: int = 160
    pitch: int = 50


@dataclass
class Turn:
    speaker: str
    start: float
    end: float
    text: str


@dataclass
class Rendering:
    audio: np.ndarray
    sample_rate: int
    turns: list[Turn] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak(text: str, voice: Voice) -> np.ndarray:
    """One utterance as float32 samples at 22.05 kHz, edge silence trimmed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "u.wav"
        subprocess.run(
            [
                "espeak-ng",
                "-v",
                voice.voice,
                "-s",
                str(voice.speed),
                "-p",
                str(voice.pitch),
                "-w",
                str(out),
                text,
            ],
            check=True,
            capture_output=True,
        )
        with wave.open(str(out), "rb") as w:
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    x = x.astype(np.float32) / 32768.0
    loud = np.flatnonzero(np.abs(x) > 0.01)
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def render(
    lines: list[tuple[str, str]] | list[tuple[str, str, float]],
    voices: dict[str, Voice],
    *,
    pause: float = 0.6,
    lead: float = 0.5,
    noise_db: float | None = -50.0,
    seed: int = 0,
) -> Rendering:
    """Lines (speaker, text[, gap]) one after another, with light room noise.

    ``gap`` is the silence before the line (default ``pause``); a negative gap
    starts the line that long before the previous one ends (overlapping speech).
    """
    clips, starts = [], []
    prev_end = lead
    for line in lines:
        speaker, text = line[0], line[1]
        gap = float(line[2]) if len(line) > 2 else pause  # type: ignore[misc]
        x = speak(text, voices[speaker])
        start = max(0.0, prev_end + gap)
        clips.append((speaker, text, x))
        starts.append(start)
        prev_end = max(prev_end, start + len(x) / SR)
    audio = np.zeros(int((prev_end + pause) * SR) + 1, dtype=np.float32)
    turns = []
    for (speaker, text, x), start in zip(clips, starts, strict=True):
        a = round(start * SR)
        audio[a : a + len(x)] += x
        turns.append(Turn(speaker, round(a / SR, 3), round((a + len(x)) / SR, 3), text))
    if noise_db is not None:
        rng = np.random.default_rng(seed)
        audio = audio + rng.normal(0, 10 ** (noise_db / 20), audio.size).astype(np.float32)
    return Rendering(np.clip(audio, -1, 1).astype(np.float32), SR, turns)


_CODECS = {
    ".m4a": ("ipod", "aac"),
    ".mp4": ("mp4", "aac"),
    ".mp3": ("mp3", "libmp3lame"),
    ".ogg": ("ogg", "libopus"),
    ".flac": ("flac", "flac"),
    ".wav": ("wav", "pcm_s16le"),
}


def write_audio(path: str | Path, audio: np.ndarray, sr: int, channels: int = 1) -> Path:
    """Encode float samples into the format the suffix names (wav, flac, mp3, m4a, ogg)."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt, codec = _CODECS[path.suffix.lower()]
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    layout = "mono" if channels == 1 else "stereo"
    data = np.repeat(pcm[None, :], channels, axis=0).T.reshape(1, -1)  # interleaved
    out_rate = 48000 if codec == "libopus" else sr
    with av.open(str(path), "w", format=fmt) as c:
        stream = c.add_stream(codec, rate=out_rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout=layout)
        frame.sample_rate = sr
        if out_rate != sr:
            resampler = av.AudioResampler(format="s16", layout=layout, rate=out_rate)
            frames = resampler.resample(frame) + resampler.resample(None)
        else:
            frames = [frame]
        for fr in frames:
            for packet in stream.encode(fr):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return path


def write_reference(prefix: str | Path, r: Rendering, uri: str) -> None:
    """``<prefix>.ref.json`` (turns with text) and ``<prefix>.rttm`` (who spoke when)."""
    prefix = Path(prefix)
    Path(f"{prefix}.ref.json").write_text(
        json.dumps(
            {"duration": round(r.duration, 3), "turns": [asdict(t) for t in r.turns]}, indent=1
        )
        + "\n"
    )
    rttm = [
        f"SPEAKER {uri} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>"
        for t in r.turns
    ]
    Path(f"{prefix}.rttm").write_text("\n".join(rttm) + "\n")


def render_script(script: str | Path, out: str | Path) -> Rendering:
    """Render a script YAML (see ``examples/focus_group.yaml``) to ``out`` plus references."""
    spec = yaml.safe_load(Path(script).read_text())
    voices = {k: Voice(**v) for k, v in spec["voices"].items()}
    lines = [(s, t) for s, t in spec["lines"]]
    r = render(lines, voices, pause=spec.get("pause", 0.6))
    out = Path(out)
    write_audio(out, r.audio, r.sample_rate)
    write_reference(out.with_suffix(""), r, spec.get("session_id", out.stem))
    return r


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description="Render a scripted recording with espeak-ng.")
    p.add_argument("script")
    p.add_argument("out", help="audio file to write (.m4a, .mp3, .wav, .flac, .ogg)")
    a = p.parse_args()
    if not espeak_available():
        raise SystemExit(
            "espeak-ng is not installed. Run `make setup` (or: sudo apt-get install espeak-ng sox)."
        )
    r = render_script(a.script, a.out)
    print(f"wrote {a.out}: {r.duration:.1f} s, {len(r.turns)} turns")


if __name__ == "__main__":
    main()
