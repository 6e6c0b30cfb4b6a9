"""Speech recognition engines, picked by name in config (``asr.engine``).

Each engine module has a class with ``is_available()``, ``transcribe()`` and
``provenance()``; engines are imported only when used, so a missing optional
engine costs nothing until someone asks for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.errors import PipelineError
from pipeline.transcript import Segment

if TYPE_CHECKING:
    import numpy as np

    from pipeline.config import AsrConfig

#: name -> "module:Class"
ENGINES = {
    "faster_whisper": "pipeline.asr.faster_whisper:FasterWhisperEngine",
    "openai_whisper": "pipeline.asr.openai_whisper:OpenAIWhisperEngine",
}

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


def engine_class(name: str) -> Any:
    if name not in ENGINES:
        raise PipelineError(f"Unknown asr.engine '{name}'. Available: {', '.join(ENGINES)}")
    module, _, cls = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def available() -> dict[str, bool]:
    """Which engines can run here (their packages are installed)."""
    return {name: engine_class(name).is_available() for name in ENGINES}


_loaded: dict[tuple[Any, ...], AsrEngine] = {}


def get_engine(cfg: AsrConfig, models_dir: Path) -> AsrEngine:
    """The engine for ``cfg``, loaded once per process (models take seconds to load)."""
    key = (cfg, str(models_dir))
    if key not in _loaded:
        cls = engine_class(cfg.engine)
        if not cls.is_available():
            raise PipelineError(
                f"asr.engine '{cfg.engine}' is not installed.", hint=cls.INSTALL_HINT
            )
        _loaded[key] = cls(cfg, models_dir)
    return _loaded[key]


def model_fingerprint(cfg: AsrConfig, models_dir: Path) -> str:
    """sha256 of the model's weights: part of the ASR stage's checkpoint key."""
    from pipeline.models import file_sha256, resolve_faster_whisper

    as_file = Path(os.path.expanduser(cfg.model))
    if as_file.is_file():
        return file_sha256(as_file)
    return resolve_faster_whisper(cfg.model, models_dir).sha256


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
