"""ASR: transcribe ``01_audio/audio.wav`` piece by piece into ``02_asr/transcript.json``.

Each piece (see :mod:`pipeline.chunking`) is saved as soon as it is done, so a rerun
after a crash or kill resumes at the first unfinished piece.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.asr import Progress, get_engine, model_fingerprint
from pipeline.chunking import plan_chunks
from pipeline.ingest import IngestResult, frame_levels, read_wav
from pipeline.stages.base import Context, Done, Stage
from pipeline.transcript import Segment, Transcript, Word
from pipeline.workdir import SessionDir, make_dir, stage_key, write_json

logger = logging.getLogger(__name__)


def transcript_path(session: SessionDir) -> Path:
    return session.root / "02_asr" / "transcript.json"


def _segments_from(data: list[dict]) -> list[Segment]:
    return [Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in data]


def _shifted(progress: Progress | None, offset: float) -> Progress | None:
    """Progress within a piece, reported as seconds into the whole recording."""
    if progress is None:
        return None
    return lambda t: progress(offset + t)


class Asr(Stage):
    name = "asr"
    folder = "asr"
    after = ("ingest",)
    title = "transcribe"

    def key(self, ctx: Context) -> str:
        audio = ctx.session.read_record("audio") or {}
        cfg = ctx.cfg
        return stage_key(
            "asr",
            self.version,
            audio.get("key"),
            cfg.asr.model_dump(exclude={"cpu_threads"}),
            model_fingerprint(cfg.asr, cfg.paths.models),
        )

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        cfg, progress = ctx.cfg, ctx.progress
        wav = ctx.session.root / "01_audio" / "audio.wav"
        ingested = IngestResult.from_dict(
            json.loads((wav.parent / "ingest.json").read_text(encoding="utf-8"))
        )
        chunk_dir = make_dir(folder / "chunks")
        for stale in chunk_dir.glob("*.json"):
            if not stale.name.endswith(f"-{key[:12]}.json"):
                stale.unlink()
        pieces = plan_chunks(frame_levels(wav), cfg.asr.chunk_minutes * 60)
        segments: list[Segment] = []
        data: dict[str, Any] = {"language": cfg.asr.language or "en", "provenance": {}}
        engine = None
        resumed = 0
        for i, (a, b) in enumerate(pieces):
            path = chunk_dir / f"{i:04d}-{key[:12]}.json"
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                resumed += 1
            else:
                engine = engine or get_engine(cfg.asr, cfg.paths.models)
                result = engine.transcribe(
                    read_wav(wav, a, b), offset=a, progress=_shifted(progress, a)
                )
                data = {
                    "start": a,
                    "end": b,
                    "language": result.language,
                    "provenance": engine.provenance(),
                    "segments": [asdict(s) for s in result.segments],
                }
                write_json(path, data)
            segments += _segments_from(data["segments"])
            if progress:
                progress(b)
        for n, seg in enumerate(segments):
            seg.id = n
        transcript = Transcript(
            session_id=ctx.session.session_id,
            source=ingested.source,
            language=data["language"],
            segments=segments,
            provenance=[{"stage": "asr", **data["provenance"], "pieces": len(pieces)}],
        )
        write_json(folder / "transcript.json", transcript.to_dict())
        logger.info(
            "asr done: %d pieces (%d resumed), %d segments", len(pieces), resumed, len(segments)
        )
        return Done(
            ["transcript.json"],
            {
                "pieces": len(pieces),
                "resumed_pieces": resumed,
                "segments": len(segments),
                "words": sum(len(s.words) for s in segments),
            },
        )

    def path(self, ctx: Context) -> Path:
        return transcript_path(ctx.session)

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {k: record.get(k) for k in ("segments", "words", "pieces", "resumed_pieces")}
