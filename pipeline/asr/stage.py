"""The ASR stage: transcribe ``01_audio/audio.wav`` piece by piece into ``02_asr``.

Each piece (see :mod:`pipeline.chunking`) is saved as soon as it is done, so a
rerun after a crash or kill resumes at the first unfinished piece.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from pathlib import Path

from pipeline.asr import Progress, get_engine, model_fingerprint
from pipeline.chunking import plan_chunks
from pipeline.config import Settings
from pipeline.ingest import IngestResult, frame_levels, read_wav
from pipeline.transcript import Segment, Transcript, Word
from pipeline.workdir import SessionDir, make_dir, stage_key, write_json

logger = logging.getLogger(__name__)

#: Bump when the stage's output changes for the same inputs.
ASR_STAGE_VERSION = 1


def asr_key(session: SessionDir, cfg: Settings) -> str:
    audio = session.read_record("audio") or {}
    asr = cfg.asr.model_dump(exclude={"cpu_threads"})
    return stage_key(
        "asr",
        ASR_STAGE_VERSION,
        audio.get("key"),
        asr,
        model_fingerprint(cfg.asr, cfg.paths.models),
    )


def _segments_from(data: list[dict]) -> list[Segment]:
    return [Segment(**{**s, "words": [Word(**w) for w in s["words"]]}) for s in data]


def _shifted(progress: Progress | None, offset: float) -> Progress | None:
    """Progress within a piece, reported as seconds into the whole recording."""
    if progress is None:
        return None
    return lambda t: progress(offset + t)


def transcribe_session(
    session: SessionDir, cfg: Settings, *, progress: Progress | None = None
) -> tuple[Transcript, bool]:
    """Run (or resume) ASR for a session; returns the transcript and whether it was cached."""
    key = asr_key(session, cfg)
    folder = session.stage("asr")
    out = folder / "transcript.json"
    if session.is_done("asr", key):
        if progress:
            progress(float("inf"))
        return Transcript.load(out), True
    session.invalidate_from("asr")
    started = time.monotonic()
    audio_dir = session.stage("audio")
    wav = audio_dir / "audio.wav"
    ingested = IngestResult.from_dict(json.loads((audio_dir / "ingest.json").read_text()))

    chunk_dir = make_dir(folder / "chunks")
    for stale in chunk_dir.glob("*.json"):
        if not stale.name.endswith(f"-{key[:12]}.json"):
            stale.unlink()
    pieces = plan_chunks(frame_levels(wav), cfg.asr.chunk_minutes * 60)
    segments: list[Segment] = []
    language = cfg.asr.language or "en"
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
        language = data["language"]
        segments += _segments_from(data["segments"])
        if progress:
            progress(b)
    for n, seg in enumerate(segments):
        seg.id = n
    transcript = Transcript(
        session_id=session.session_id,
        source=ingested.source,
        language=language,
        segments=segments,
        provenance=[{"stage": "asr", **data["provenance"], "pieces": len(pieces)}],
    )
    write_json(out, transcript.to_dict())
    seconds = time.monotonic() - started
    session.mark_done(
        "asr",
        key,
        ["transcript.json"],
        seconds=round(seconds, 3),
        pieces=len(pieces),
        resumed_pieces=resumed,
        segments=len(segments),
        words=sum(len(s.words) for s in segments),
    )
    logger.info(
        "asr done: %d pieces (%d resumed), %d segments", len(pieces), resumed, len(segments)
    )
    return transcript, False


def transcript_path(session: SessionDir) -> Path:
    return session.root / "02_asr" / "transcript.json"
