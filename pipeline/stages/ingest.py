"""Ingest: decode the recording into ``01_audio/audio.wav`` (16 kHz mono) with its facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.ingest import ingest
from pipeline.stages.base import Context, Done, Stage
from pipeline.workdir import sha256_file, stage_key, write_json


class Ingest(Stage):
    name = "ingest"
    folder = "audio"
    title = "decoding"
    version = 1

    def key(self, ctx: Context) -> str:
        assert ctx.src is not None, "ingest needs the recording"
        ctx.src_sha256 = ctx.src_sha256 or sha256_file(ctx.src)
        return stage_key("ingest", self.version, ctx.src_sha256, ctx.cfg.ingest.model_dump())

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        assert ctx.src is not None
        result = ingest(
            ctx.src,
            folder / "audio.wav",
            sha256=ctx.src_sha256,
            min_duration_s=ctx.cfg.ingest.min_duration_s,
            silence_dbfs=ctx.cfg.ingest.silence_dbfs,
        )
        write_json(folder / "ingest.json", result.to_dict())
        return Done(["audio.wav", "ingest.json"], {"duration": result.source.duration})

    def path(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name / "audio.wav"

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {"duration": record.get("duration")}
