"""Checkpointed stages of one session, as plain functions over paths.

Every stage takes the session's work folder and the settings, returns a small
:class:`StageResult` (ids, paths, counts; never text) and skips itself when its
checkpoint key matches. The Prefect flows call these and nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.asr import Progress
from pipeline.asr.stage import transcribe_session
from pipeline.config import Settings
from pipeline.ingest import ingest
from pipeline.manifest import SessionManifest
from pipeline.transcript import Transcript
from pipeline.workdir import (
    RESTRICTED_DIR,
    RESTRICTED_FILE,
    SessionDir,
    make_dir,
    remove_partials,
    sha256_file,
    stage_key,
    write_json,
)
from pipeline.writers import write_all

logger = logging.getLogger(__name__)

INGEST_VERSION = 1

#: Audio and video formats the batch flow picks up from a folder.
MEDIA_SUFFIXES = {
    ".wav",
    ".mp3",
    ".m4a",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".aac",
    ".wma",
    ".aif",
    ".aiff",
    ".mp4",
    ".mov",
    ".m4v",
    ".mkv",
    ".webm",
    ".avi",
    ".3gp",
    ".amr",
}


@dataclass
class StageResult:
    """What a stage did, in ids and numbers only (safe to log and to hand to Prefect)."""

    session_id: str
    stage: str
    path: str
    cached: bool
    seconds: float
    counts: dict[str, Any] = field(default_factory=dict)


def session_id_for(path: str | Path, manifest: SessionManifest | None = None) -> str:
    """The manifest's id, else a folder-safe form of the file name."""
    if manifest:
        return manifest.session_id
    stem = Path(path).stem
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.")[:48]
    if not slug:
        slug = "recording-" + hashlib.sha256(stem.encode()).hexdigest()[:8]
    return slug


def find_recordings(folder: str | Path) -> list[Path]:
    """Audio/video files directly in ``folder`` or below it, in a stable order."""
    folder = Path(folder)
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES and not p.name.startswith(".")
    )


def open_session(cfg: Settings, session_id: str) -> SessionDir:
    make_dir(cfg.paths.work)
    session = SessionDir(cfg.paths.work, session_id)
    make_dir(session.root)
    return session


def run_ingest(src: str | Path, session: SessionDir, cfg: Settings) -> StageResult:
    """Decode the recording into ``01_audio/audio.wav`` (skipped when already done)."""
    started = time.monotonic()
    remove_partials(session.root)
    digest = sha256_file(src)
    key = stage_key("ingest", INGEST_VERSION, digest, cfg.ingest.model_dump())
    folder = session.stage("audio")
    if not session.is_done("audio", key):
        session.invalidate_from("audio")
        result = ingest(
            src,
            folder / "audio.wav",
            sha256=digest,
            min_duration_s=cfg.ingest.min_duration_s,
            silence_dbfs=cfg.ingest.silence_dbfs,
        )
        write_json(folder / "ingest.json", result.to_dict())
        seconds = time.monotonic() - started
        session.mark_done(
            "audio",
            key,
            ["audio.wav", "ingest.json"],
            seconds=round(seconds, 3),
            duration=result.source.duration,
        )
        cached = False
    else:
        cached = True
    rec = session.read_record("audio") or {}
    return StageResult(
        session.session_id,
        "ingest",
        str(folder / "audio.wav"),
        cached,
        0.0 if cached else round(time.monotonic() - started, 3),
        {"duration": rec.get("duration")},
    )


def run_asr(session: SessionDir, cfg: Settings, progress: Progress | None = None) -> StageResult:
    started = time.monotonic()
    _transcript, cached = transcribe_session(session, cfg, progress=progress)
    rec = session.read_record("asr") or {}
    return StageResult(
        session.session_id,
        "asr",
        str(session.root / "02_asr" / "transcript.json"),
        cached,
        0.0 if cached else round(time.monotonic() - started, 3),
        {k: rec.get(k) for k in ("segments", "words", "pieces", "resumed_pieces")},
    )


def run_export(transcript_path: str | Path, out_root: str | Path) -> StageResult:
    """Write json/txt/vtt/srt for a finished transcript into ``<out>/<session_id>/``."""
    started = time.monotonic()
    transcript = Transcript.load(transcript_path)
    # Identified until the de-identification stage exists: keep it restricted.
    folder = make_dir(Path(out_root) / transcript.session_id, RESTRICTED_DIR)
    paths = write_all(transcript, folder, mode=RESTRICTED_FILE)
    return StageResult(
        transcript.session_id,
        "export",
        str(folder),
        False,
        round(time.monotonic() - started, 3),
        {"files": len(paths)},
    )
