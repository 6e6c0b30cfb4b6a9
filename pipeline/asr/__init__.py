"""Speech recognition engines, picked by name in config (``asr.engine``).

Each engine module has a class with ``is_available()``, ``transcribe()`` and
``provenance()``; engines are imported only when used, so a missing optional
engine costs nothing until someone asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipeline import registry
from pipeline.errors import PipelineError
from pipeline.registry import has_module
from pipeline.transcript import Segment

if TYPE_CHECKING:
    import numpy as np

    from pipeline.config import AsrConfig

__all__ = ["AsrEngine", "AsrResult", "Progress", "get_engine", "has_module", "model_fingerprint"]

Progress = Callable[[float], None]


@dataclass
class AsrResult:
    segments: list[Segment] = field(default_factory=list)
    language: str = "en"


class AsrEngine(Protocol):
    name: str

    def transcribe(
        self, audio: np.ndarray, *, offset: float = 0.0, progress: Progress | None = None
    ) -> AsrResult: ...

    def provenance(self) -> dict[str, Any]: ...


def available() -> dict[str, bool]:
    """Which engines can run here (their packages are installed)."""
    return {
        name: registry.engine_class("asr.engine", name).is_available()
        for name in registry.names("asr.engine")
    }


def get_engine(cfg: AsrConfig, models_dir: Path) -> AsrEngine:
    """The engine for ``cfg``, loaded once per process (models take seconds to load)."""
    cls = registry.engine_class("asr.engine", cfg.engine)
    if not cls.is_available():
        raise PipelineError(f"asr.engine '{cfg.engine}' is not installed.", hint=cls.INSTALL_HINT)
    return registry.cached(("asr", cfg, str(models_dir)), lambda: cls(cfg, models_dir))


def model_fingerprint(cfg: AsrConfig, models_dir: Path) -> str:
    """sha256 of the model's weights: part of the ASR stage's checkpoint key."""
    from pipeline.models import file_sha256, resolve_faster_whisper

    as_file = Path(os.path.expanduser(cfg.model))
    if as_file.is_file():
        return file_sha256(as_file)
    return resolve_faster_whisper(cfg.model, models_dir).sha256
