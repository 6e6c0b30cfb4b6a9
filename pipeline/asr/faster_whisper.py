"""The default engine: faster-whisper (CTranslate2), int8 on CPU."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.asr import AsrResult, Progress, has_module
from pipeline.config import AsrConfig
from pipeline.models import resolve_faster_whisper, weight_path
from pipeline.transcript import Segment, Word, round_time


class FasterWhisperEngine:
    name = "faster_whisper"
    INSTALL_HINT = "Run `make setup` (it installs faster-whisper)."

    @classmethod
    def is_available(cls) -> bool:
        return has_module("faster_whisper") and has_module("ctranslate2")

    def __init__(self, cfg: AsrConfig, models_dir: Path) -> None:
        from faster_whisper import WhisperModel

        self.cfg = cfg
        self.model_info = resolve_faster_whisper(cfg.model, models_dir)
        if cfg.vad_filter:
            weight_path("silero_vad")  # faster-whisper loads it itself; check it first
        self.threads = cfg.cpu_threads or os.cpu_count() or 1
        self.model = WhisperModel(
            str(self.model_info.path),
            device="cpu",
            compute_type=cfg.compute_type,
            cpu_threads=self.threads,
            local_files_only=True,
        )

    def transcribe(
        self, audio: np.ndarray, *, offset: float = 0.0, progress: Progress | None = None
    ) -> AsrResult:
        import ctranslate2

        # Temperature fallback samples at random; a fixed seed makes reruns identical.
        ctranslate2.set_random_seed(0)
        cfg = self.cfg
        segments, info = self.model.transcribe(
            audio,
            language=cfg.language,
            beam_size=cfg.beam_size,
            vad_filter=cfg.vad_filter,
            condition_on_previous_text=cfg.condition_on_previous_text,
            word_timestamps=cfg.word_timestamps,
        )
        out: list[Segment] = []
        for s in segments:
            words = [
                Word(
                    start=round_time(w.start + offset),
                    end=round_time(w.end + offset),
                    text=w.word.strip(),
                    probability=round(float(w.probability), 4),
                )
                for w in (s.words or [])
                if w.word.strip()
            ]
            out.append(
                Segment(
                    id=len(out),
                    start=round_time(s.start + offset),
                    end=round_time(s.end + offset),
                    text=s.text.strip(),
                    words=words,
                )
            )
            if progress:
                progress(s.end)
        return AsrResult(out, info.language)

    def provenance(self) -> dict[str, Any]:
        import faster_whisper

        return {
            "engine": self.name,
            "engine_version": faster_whisper.__version__,
            "model": self.model_info.name,
            "model_sha256": self.model_info.sha256,
            "model_pinned": self.model_info.pinned,
            "compute_type": self.cfg.compute_type,
            "beam_size": self.cfg.beam_size,
            "vad_filter": self.cfg.vad_filter,
            "condition_on_previous_text": self.cfg.condition_on_previous_text,
        }
