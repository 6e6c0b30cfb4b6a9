"""Diarization: who spoke when, ``03_speakers/diarization.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.manifest import SessionManifest
from pipeline.stages.base import Context, Done, Stage
from pipeline.workdir import stage_key, write_json


def clustering_bounds(manifest: SessionManifest | None) -> tuple[int, int]:
    """Voices the clustering may find: an exact count is enforced, a range only capped."""
    if manifest is None:
        return 1, 10
    lo, hi = manifest.speaker_bounds()
    return (lo, hi) if isinstance(manifest.expected_speakers, int) else (1, hi)


class Diarize(Stage):
    name = "diarize"
    folder = "speakers"
    after = ("ingest",)
    title = "diarize"
    version = 2

    def enabled(self, cfg: Settings) -> bool:
        return cfg.diarization.enabled

    def key(self, ctx: Context) -> str:
        audio = ctx.session.read_record("audio") or {}
        dcfg = ctx.cfg.diarization.model_dump(mode="json", exclude={"cpu_threads", "enabled"})
        bounds = clustering_bounds(ctx.manifest)
        return stage_key("diarize", self.version, audio.get("key"), dcfg, bounds)

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        from pipeline.diarize import get_diarizer
        from pipeline.ingest import open_wav

        audio = open_wav(ctx.session.root / "01_audio" / "audio.wav")
        result = get_diarizer(ctx.cfg.diarization).diarize(audio, *clustering_bounds(ctx.manifest))
        write_json(folder / "diarization.json", result.to_dict())
        return Done(
            ["diarization.json"], {"voices": len(result.voices), "turns": len(result.turns)}
        )

    def path(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name / "diarization.json"

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {"voices": record.get("voices"), "turns": record.get("turns")}
