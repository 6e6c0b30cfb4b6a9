"""Prefect tasks: one per stage, each a thin call into :mod:`pipeline.stages`.

Tasks take and return paths, ids and counts. Results are never persisted and
tasks are never cached by Prefect: the work folders are the checkpoints.
Unexpected errors are logged in full to the session's restricted folder and
reach Prefect only as a one-line message with no transcript text.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from flows.env import settings_of
from pipeline import stages
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.ingest import wav_duration
from pipeline.manifest import SessionManifest, load_manifest
from pipeline.progress import AudioBar
from pipeline.workdir import RESTRICTED_FILE, write_text

T = TypeVar("T")
TASK_OPTS: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE, "retries": 0}


def guarded(stage: str, session_dir: Path, fn: Callable[[], T]) -> T:
    """Run ``fn``; turn an unexpected error into a PipelineError that is safe to log."""
    try:
        return fn()
    except PipelineError:
        raise
    except Exception as exc:
        session_dir.mkdir(parents=True, exist_ok=True)
        log = session_dir / "error.log"
        write_text(log, traceback.format_exc(), RESTRICTED_FILE)
        raise PipelineError(
            f"{stage} failed unexpectedly ({type(exc).__name__}).",
            hint=f"Details (restricted): {log}",
        ) from None


def _log(result: stages.StageResult) -> dict[str, Any]:
    what = "reused checkpoint" if result.cached else f"done in {result.seconds:.1f} s"
    counts = ", ".join(f"{k}={v}" for k, v in result.counts.items() if v is not None)
    get_run_logger().info("%s %s: %s %s", result.session_id, result.stage, what, counts)
    return asdict(result)


@task(name="ingest", **TASK_OPTS)
def ingest_task(src: str, session_id: str, opts: dict[str, Any]) -> dict[str, Any]:
    return _stage("ingest", session_id, opts, lambda s, cfg: stages.run_ingest(src, s, cfg))


@task(name="transcribe", **TASK_OPTS)
def asr_task(session_id: str, opts: dict[str, Any], show_progress: bool = True) -> dict[str, Any]:
    def run(session: stages.SessionDir, cfg: Settings) -> stages.StageResult:
        duration = wav_duration(session.root / "01_audio" / "audio.wav")
        with AudioBar(duration, session_id, enabled=show_progress) as bar:
            return stages.run_asr(session, cfg, progress=bar.update_to)

    return _stage("transcribe", session_id, opts, run)


def _manifest(path: str | None) -> SessionManifest | None:
    return load_manifest(path) if path else None


def _stage(
    stage: str,
    session_id: str,
    opts: dict[str, Any],
    run: Callable[[stages.SessionDir, Settings], stages.StageResult],
) -> dict[str, Any]:
    """Open the session, run one stage under the error guard, log ids and counts."""
    cfg = settings_of(opts)
    session = stages.open_session(cfg, session_id)
    return _log(guarded(stage, session.root, lambda: run(session, cfg)))


@task(name="diarize", **TASK_OPTS)
def diarize_task(session_id: str, manifest: str | None, opts: dict[str, Any]) -> dict[str, Any]:
    return _stage(
        "diarize", session_id, opts, lambda s, cfg: stages.run_diarize(s, cfg, _manifest(manifest))
    )


@task(name="speakers", **TASK_OPTS)
def roles_task(session_id: str, manifest: str | None, opts: dict[str, Any]) -> dict[str, Any]:
    return _stage(
        "speakers", session_id, opts, lambda s, cfg: stages.run_roles(s, cfg, _manifest(manifest))
    )


@task(name="deidentify", **TASK_OPTS)
def deid_task(session_id: str, manifest: str | None, opts: dict[str, Any]) -> dict[str, Any]:
    return _stage(
        "deidentify", session_id, opts, lambda s, cfg: stages.run_deid(s, cfg, _manifest(manifest))
    )


@task(name="export", **TASK_OPTS)
def export_task(
    session_id: str, out: str, manifest: str | None, opts: dict[str, Any]
) -> dict[str, Any]:
    """Leak gate, then the de-identified files into OUT."""
    return _stage(
        "export", session_id, opts, lambda s, cfg: stages.run_export(s, out, _manifest(manifest))
    )
