"""Second engine: the reference openai-whisper implementation (PyTorch, fp32 on CPU).

``asr.model`` is a path to a standard openai-whisper checkpoint (``.pt``), or a
shipped faster-whisper model name / folder, which is converted once into
``<models>/openai/`` (see :mod:`pipeline.asr.convert`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.asr import AsrResult, Progress, has_module
from pipeline.config import AsrConfig
from pipeline.errors import PipelineError
from pipeline.models import file_sha256, resolve_faster_whisper
from pipeline.transcript import Segment, Word, round_time

logger = logging.getLogger(__name__)


def checkpoint_for(model: str, models_dir: Path) -> tuple[Path, str]:
    """The checkpoint file for ``model``, converting a faster-whisper model if needed."""
    as_path = Path(os.path.expanduser(model))
    if as_path.is_file():
        return as_path, file_sha256(as_path)
    source = resolve_faster_whisper(model, models_dir)  # checks the source's hashes
    out = models_dir / "openai" / f"{source.name}-{source.sha256[:12]}.pt"
    sidecar = out.with_suffix(".pt.sha256")
    if not out.is_file() or not sidecar.is_file():
        from pipeline.asr.convert import write_openai_checkpoint

        logger.info("converting model %s to an openai-whisper checkpoint", source.name)
        write_openai_checkpoint(source.path, out)
        sidecar.write_text(file_sha256(out) + "\n")
    digest = file_sha256(out)
    if digest != sidecar.read_text().strip():
        raise PipelineError(
            f"Model file altered: {out} does not match its recorded sha256.",
            hint="Delete it; it is rebuilt from the shipped model on the next run.",
        )
    return out, digest


def speech_clips(audio: np.ndarray) -> list[float]:
    """Speech regions from the same Silero VAD faster-whisper uses, as clip timestamps."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    clips: list[float] = []
    for c in get_speech_timestamps(audio, VadOptions()):
        clips += [c["start"] / 16000, c["end"] / 16000]
    return clips


class OpenAIWhisperEngine:
    name = "openai_whisper"
    INSTALL_HINT = (
        "Run `make setup`, which installs it (openai-whisper without triton, torch==2.13.0 CPU); "
        "by hand: pip install torch==2.13.0 && pip install --no-deps openai-whisper==20250625 "
        "&& pip install 'qscribe[openai]'."
    )

    @classmethod
    def is_available(cls) -> bool:
        return has_module("whisper") and has_module("torch") and has_module("tiktoken")

    def __init__(self, cfg: AsrConfig, models_dir: Path) -> None:
        import torch
        from whisper.model import ModelDimensions, Whisper

        self.cfg = cfg
        self.path, self.sha256 = checkpoint_for(cfg.model, models_dir)
        self.threads = cfg.cpu_threads or os.cpu_count() or 1
        torch.set_num_threads(self.threads)
        ckpt = torch.load(self.path, map_location="cpu", weights_only=False)
        model = Whisper(ModelDimensions(**ckpt["dims"]))
        model.load_state_dict(ckpt["model_state_dict"])
        heads = ckpt.get("alignment_heads")
        if heads:
            mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
        self.model = model.eval()

    def transcribe(
        self, audio: np.ndarray, *, offset: float = 0.0, progress: Progress | None = None
    ) -> AsrResult:
        import torch
        import whisper

        torch.manual_seed(0)
        cfg = self.cfg
        clips: str | list[float] = "0"
        if cfg.vad_filter:
            clips = speech_clips(audio)
            if not clips:
                return AsrResult([], cfg.language or "en")
        with torch.inference_mode():
            result = whisper.transcribe(
                self.model,
                audio.astype(np.float32),
                language=cfg.language,
                beam_size=cfg.beam_size,
                best_of=5,
                condition_on_previous_text=cfg.condition_on_previous_text,
                word_timestamps=cfg.word_timestamps,
                clip_timestamps=clips,
                fp16=False,
                verbose=None,
            )
        out: list[Segment] = []
        for s in result["segments"]:
            words = [
                Word(
                    start=round_time(w["start"] + offset),
                    end=round_time(w["end"] + offset),
                    text=w["word"].strip(),
                    probability=round(float(w["probability"]), 4),
                )
                for w in s.get("words", [])
                if w["word"].strip()
            ]
            text = s["text"].strip()
            if not text:
                continue
            out.append(
                Segment(
                    id=len(out),
                    start=round_time(s["start"] + offset),
                    end=round_time(s["end"] + offset),
                    text=text,
                    words=words,
                )
            )
        if progress:
            progress(len(audio) / 16000)
        return AsrResult(out, result.get("language") or cfg.language or "en")

    def provenance(self) -> dict[str, Any]:
        import whisper

        return {
            "engine": self.name,
            "engine_version": whisper.__version__,
            "model": self.path.name,
            "model_sha256": self.sha256,
            "compute_type": "float32",
            "beam_size": self.cfg.beam_size,
            "vad_filter": self.cfg.vad_filter,
            "condition_on_previous_text": self.cfg.condition_on_previous_text,
        }
