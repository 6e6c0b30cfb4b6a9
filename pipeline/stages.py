"""Checkpointed stages of one session, as plain functions over paths.

Every stage takes the session's work folder and the settings, returns a small
:class:`StageResult` (ids, paths, counts; never text) and skips itself when its
checkpoint key matches. The Prefect flows call these and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.asr import Progress
from pipeline.asr.stage import transcribe_session, transcript_path
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.ingest import ingest
from pipeline.manifest import SessionManifest
from pipeline.transcript import Transcript
from pipeline.workdir import (
    SHARED_DIR,
    SHARED_FILE,
    SessionDir,
    atomic_path,
    make_dir,
    remove_partials,
    sha256_file,
    stage_key,
    write_json,
)
from pipeline.writers import write_all

logger = logging.getLogger(__name__)

INGEST_VERSION = 1
DIARIZE_VERSION = 2
ROLES_VERSION = 1
DEID_VERSION = 1

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


def finished(
    session: SessionDir,
    stage: str,
    path: Path,
    cached: bool,
    started: float,
    counts: dict[str, Any],
) -> StageResult:
    """The StageResult of a stage that ran (seconds taken) or was skipped (0 s)."""
    seconds = 0.0 if cached else round(time.monotonic() - started, 3)
    return StageResult(session.session_id, stage, str(path), cached, seconds, counts)


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
    return finished(
        session, "ingest", folder / "audio.wav", cached, started, {"duration": rec.get("duration")}
    )


def run_asr(session: SessionDir, cfg: Settings, progress: Progress | None = None) -> StageResult:
    started = time.monotonic()
    _transcript, cached = transcribe_session(session, cfg, progress=progress)
    rec = session.read_record("asr") or {}
    return finished(
        session,
        "asr",
        transcript_path(session),
        cached,
        started,
        {k: rec.get(k) for k in ("segments", "words", "pieces", "resumed_pieces")},
    )


def clustering_bounds(manifest: SessionManifest | None) -> tuple[int, int]:
    """Voices the clustering may find: an exact count is enforced, a range only capped."""
    if manifest is None:
        return 1, 10
    lo, hi = manifest.speaker_bounds()
    return (lo, hi) if isinstance(manifest.expected_speakers, int) else (1, hi)


def run_diarize(
    session: SessionDir, cfg: Settings, manifest: SessionManifest | None
) -> StageResult:
    """Who spoke when: ``03_speakers/diarization.json`` (skipped when already done)."""
    from pipeline.diarize import get_diarizer
    from pipeline.ingest import open_wav

    started = time.monotonic()
    audio_rec = session.read_record("audio") or {}
    bounds = clustering_bounds(manifest)
    dcfg = cfg.diarization.model_dump(mode="json", exclude={"cpu_threads", "enabled"})
    key = stage_key("diarize", DIARIZE_VERSION, audio_rec.get("key"), dcfg, bounds)
    folder = session.stage("speakers")
    cached = session.is_done("speakers", key)
    if not cached:
        session.invalidate_from("speakers")
        audio = open_wav(session.root / "01_audio" / "audio.wav")
        result = get_diarizer(cfg.diarization).diarize(audio, *bounds)
        write_json(folder / "diarization.json", result.to_dict())
        session.mark_done(
            "speakers",
            key,
            ["diarization.json"],
            seconds=round(time.monotonic() - started, 3),
            voices=len(result.voices),
            turns=len(result.turns),
        )
    rec = session.read_record("speakers") or {}
    return finished(
        session,
        "diarize",
        folder / "diarization.json",
        cached,
        started,
        {"voices": rec.get("voices"), "turns": rec.get("turns")},
    )


def enrollment_inputs(manifest: SessionManifest | None, cfg: Settings, embedding: str) -> list[Any]:
    """What enrolled voices depend on (clip and profile hashes): part of the roles key."""
    from pipeline.voices import profile_path

    inputs: list[Any] = []
    for person in manifest.people if manifest else []:
        profile = profile_path(cfg.paths.keys, embedding, person.voice_profile or person.id)
        clips = [sha256_file(c) if Path(c).is_file() else f"missing:{c}" for c in person.enrollment]
        if clips or profile.is_file():
            inputs.append([person.id, clips, None if clips else sha256_file(profile)])
    return inputs


def enroll_people(
    manifest: SessionManifest | None, cfg: Settings, embedding: str
) -> tuple[dict[str, Any], list[str]]:
    """Enrolled voices of the manifest's people, and one-line problems with their clips."""
    from pipeline.diarize import get_diarizer
    from pipeline.voices import enroll

    enrolled: dict[str, Any] = {}
    problems: list[str] = []
    for person in manifest.people if manifest else []:
        vec, issues = enroll(
            person,
            lambda clips: get_diarizer(cfg.diarization).embed(clips),
            embedding,
            make_dir(cfg.paths.keys),
        )
        problems += issues
        if vec is not None:
            enrolled[person.id] = vec
    return enrolled, problems


def run_roles(session: SessionDir, cfg: Settings, manifest: SessionManifest | None) -> StageResult:
    """Speakers on every word, roles and labels: ``04_roles/transcript.json`` (+ review file)."""
    from pipeline.diarize import Diarization
    from pipeline.labels import LabelRegistry
    from pipeline.review import read_answers, write_review
    from pipeline.roles import apply_roles, assign_roles, label_voices, needs_review
    from pipeline.speakers import assign_speakers

    started = time.monotonic()
    folder = session.stage("roles")
    review_path = folder / "speakers.review.yaml"
    answers = read_answers(review_path, manifest)
    diar_path = session.root / "03_speakers" / "diarization.json"
    diarization = Diarization.from_dict(json.loads(diar_path.read_text(encoding="utf-8")))
    embedding = diarization.embedding or cfg.diarization.embedding
    key = stage_key(
        "roles",
        ROLES_VERSION,
        (session.read_record("asr") or {}).get("key"),
        (session.read_record("speakers") or {}).get("key"),
        manifest.model_dump(mode="json") if manifest else None,
        answers,
        enrollment_inputs(manifest, cfg, embedding),
        cfg.roles.model_dump(),
    )
    cached = session.is_done("roles", key)
    if not cached:
        session.invalidate_from("roles")
        enrolled, problems = enroll_people(manifest, cfg, embedding)
        transcript = assign_speakers(Transcript.load(transcript_path(session)), diarization)
        voices = assign_roles(transcript, diarization, manifest, enrolled, answers, cfg.roles)
        known = [
            (v.person, v.role)
            for v in voices
            if v.person and v.role in ("staff", "member", "facilitator")
        ]
        label_voices(voices, LabelRegistry(cfg.paths.keys).labels_for(known))
        transcript = apply_roles(transcript, voices)
        transcript.provenance.append(
            {
                "stage": "speakers",
                "engine": diarization.engine,
                "embedding": diarization.embedding,
                "voices": len(voices),
                "enrolled": len(enrolled),
            }
        )
        write_json(folder / "transcript.json", transcript.to_dict())
        reasons = problems + needs_review(voices, manifest, cfg.roles)
        if reasons and manifest is not None:
            write_review(review_path, transcript, voices, manifest, reasons, answers)
        elif not answers:
            review_path.unlink(missing_ok=True)
        session.mark_done(
            "roles",
            key,
            ["transcript.json"],
            seconds=round(time.monotonic() - started, 3),
            voices=len(voices),
            review=bool(reasons and manifest is not None),
            problems=len(problems),
        )
    rec = session.read_record("roles") or {}
    review = str(review_path) if rec.get("review") else None
    return finished(
        session,
        "roles",
        folder / "transcript.json",
        cached,
        started,
        {"voices": rec.get("voices"), "review": review},
    )


def adopt_transcript(session: SessionDir, path: Path, transcript: Transcript) -> None:
    """Take an identified transcript made elsewhere as this session's ASR output."""
    folder = session.stage("asr")
    write_json(folder / "transcript.json", transcript.to_dict())
    session.invalidate_from("asr")
    session.mark_done("asr", stage_key("adopted", sha256_file(path)), ["transcript.json"])


def identified_transcript(session: SessionDir) -> tuple[Path, dict[str, Any]]:
    """The most finished identified transcript (with speakers when that stage ran), and
    the record of the stage that wrote it."""
    roles = session.read_record("roles")
    if roles:
        return session.root / "04_roles" / "transcript.json", roles
    return transcript_path(session), session.read_record("asr") or {}


def _roster(manifest: SessionManifest | None) -> Any:
    from pipeline.deid.apply import roster_for

    if manifest is None:
        return None
    return roster_for(manifest.protected_people(), manifest.organizations, manifest.places)


def run_deid(session: SessionDir, cfg: Settings, manifest: SessionManifest | None) -> StageResult:
    """De-identified transcript, outputs and report in ``05_deid`` (still restricted)."""
    from pipeline.deid.apply import deidentify, turn_texts
    from pipeline.deid.keystore import KeyStore
    from pipeline.deid.presidio_engine import get_engine
    from pipeline.deid.pseudonyms import Pseudonymizer
    from pipeline.labels import LabelRegistry

    started = time.monotonic()
    source, upstream = identified_transcript(session)
    people = manifest.protected_people() if manifest else []
    key = stage_key(
        "deid",
        DEID_VERSION,
        upstream.get("key"),
        [p.model_dump(mode="json", exclude={"enrollment", "voice_profile"}) for p in people],
        manifest.organizations if manifest else [],
        manifest.places if manifest else [],
        cfg.deid.model_dump(mode="json", exclude={"passphrase_file"}),
        sha256_file(cfg.deid.presidio_config),
        deid_data_digest(),
    )
    folder = session.stage("deid")
    cached = session.is_done("deid", key)
    if not cached:
        session.invalidate_from("deid")
        remove_outputs(folder)
        transcript = Transcript.load(source)
        turns = turn_texts(transcript)
        engine = get_engine(cfg.deid.presidio_config, cfg.deid.score_threshold)
        roster = _roster(manifest)
        findings = engine.analyze([text for text, _ in turns], roster, fuzzy=cfg.deid.fuzzy_names)
        labels = LabelRegistry(cfg.paths.keys).labels_for([(p.id, p.role) for p in people])
        with KeyStore(cfg.paths.keys, cfg.deid.passphrase_file).open() as crosswalk:
            names = Pseudonymizer(
                crosswalk, session.session_id, labels, {p.id: p.name for p in people}
            )
            result = deidentify(transcript, findings, turns, names)
        replaced = sum(result.counts.values())
        result.transcript.provenance.append(
            {"stage": "deid", "engine": "presidio", "replaced": replaced}
        )
        outputs = [p.name for p in write_all(result.transcript, folder)]
        report = {
            "session_id": session.session_id,
            "replaced": dict(sorted(result.counts.items())),
            "by_recognizer": dict(sorted(result.sources.items())),
            "operator": "replace with a pseudonym tag",
            "roster_people": len(people),
            "words_in": len(transcript.words()),
            "words_out": len(result.transcript.words()),
        }
        if cfg.deid.audio:
            from pipeline.deid.audio import bleep

            covered = bleep(
                session.root / "01_audio" / "audio.wav",
                result.spans,
                folder / "audio.deid.m4a",
                pad=cfg.deid.bleep_padding_s,
            )
            report["audio_seconds_covered"] = round(sum(b - a for a, b in covered), 2)
            outputs.append("audio.deid.m4a")
        write_json(folder / "deid_report.json", report)
        outputs.append("deid_report.json")
        session.mark_done(
            "deid",
            key,
            outputs,
            seconds=round(time.monotonic() - started, 3),
            replaced=replaced,
        )
    rec = session.read_record("deid") or {}
    return finished(session, "deid", folder, cached, started, {"replaced": rec.get("replaced")})


def remove_outputs(folder: Path) -> None:
    for p in folder.iterdir():
        if p.is_file() and p.name != "stage.json":
            p.unlink()


def deid_data_digest() -> str:
    """The recognizers' word lists are part of what the de-identification stage depends on."""
    from importlib import resources

    data = resources.files("pipeline.deid.data")
    return stage_key(
        *[
            (f.name, f.read_text(encoding="utf-8"))
            for f in sorted(data.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".txt")
        ]
    )


def run_export(
    session: SessionDir, out_root: str | Path, manifest: SessionManifest | None
) -> StageResult:
    """Leak gate, then the de-identified files into ``<out>/<session_id>/`` (0750/0640)."""
    from pipeline.deid.apply import roster_for
    from pipeline.deid.gate import scan_files

    started = time.monotonic()
    record = session.read_record("deid") or {}
    folder = session.root / "05_deid"
    files = [folder / name for name in record.get("outputs", [])]
    if not files:
        raise PipelineError(f"session {session.session_id}: nothing de-identified to export yet.")
    roster = _roster(manifest) or roster_for([], [], [])
    hits = scan_files(files, roster, label=session.session_id)
    if hits:
        shown = "; ".join(str(h) for h in hits[:5])
        raise PipelineError(
            f"leak gate blocked session {session.session_id}: {len(hits)} possible identifier(s) "
            f"left ({shown}{'; ...' if len(hits) > 5 else ''}); nothing was written to the output folder.",
            hint="Add the missing name or alias to the roster (or check the transcript), then run again.",
        )
    target = make_dir(Path(out_root), SHARED_DIR)
    target = make_dir(target / session.session_id, SHARED_DIR)
    for f in files:
        with atomic_path(target / f.name, SHARED_FILE) as tmp:
            shutil.copyfile(f, tmp)
    return finished(
        session, "export", target, False, started, {"files": len(files), "gate_hits": 0}
    )
