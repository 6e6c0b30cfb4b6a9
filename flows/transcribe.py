"""The ``transcribe-session`` and ``transcribe-batch`` flows.

Each recording is a chain of stage tasks. Chains are independent: a bad file
fails its own chain and is listed in the summary while the others go on. Tasks
run on a thread pool (``runner.kind: local``) or on a Dask cluster through
prefect-dask (``runner.kind: dask``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import ThreadPoolTaskRunner

from flows.env import settings_of
from flows.tasks import asr_task, deid_task, diarize_task, export_task, ingest_task, roles_task
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest, load_manifest
from pipeline.stages import find_recordings, session_id_for


@dataclass
class Job:
    """One recording to process."""

    src: str
    session_id: str
    manifest: str | None = None


def _manifests(session: str | None) -> list[tuple[Path, SessionManifest]]:
    """(path, manifest) for a manifest file or every YAML manifest in a folder."""
    if not session:
        return []
    p = Path(session)
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    return [(f, load_manifest(f)) for f in files]


def plan_jobs(input_path: str, session: str | None = None) -> list[Job]:
    """Recordings under ``input_path`` with their session ids (from manifests when given)."""
    src = Path(input_path)
    if not src.exists():
        raise PipelineError(f"{src}: no such file or folder.", hint="Check IN=<file or folder>.")
    recordings = [src] if src.is_file() else find_recordings(src)
    if not recordings:
        raise PipelineError(
            f"{src}: no audio or video files found.",
            hint="Supported: wav, mp3, m4a, flac, ogg, mp4, mov and more.",
        )
    manifests = _manifests(session)
    if src.is_file() and len(manifests) == 1:
        path, only = manifests[0]
        return [Job(str(src), only.session_id, str(path.resolve()))]
    by_name: dict[str, tuple[Path, SessionManifest]] = {}
    for path, m in manifests:
        if m.recording:
            by_name[Path(m.recording).name] = (path, m)
        by_name.setdefault(m.session_id, (path, m))
    jobs: list[Job] = []
    seen: set[str] = set()
    for rec in recordings:
        match = by_name.get(rec.name) or by_name.get(rec.stem)
        sid = session_id_for(rec, match[1] if match else None)
        base, n = sid, 2
        while sid in seen:  # two files with the same name in different folders
            sid, n = f"{base}-{n}", n + 1
        seen.add(sid)
        jobs.append(Job(str(rec), sid, str(match[0].resolve()) if match else None))
    return jobs


def submit(
    job: Job, out: str, opts: dict[str, Any], show_progress: bool, speakers: bool
) -> list[PrefectFuture]:
    """The stage tasks of one recording; ASR and diarization both wait only for ingest."""
    f_ingest = ingest_task.submit(job.src, job.session_id, opts)
    f_asr = asr_task.submit(
        job.session_id, opts, show_progress, wait_for=[f_ingest], return_state=False
    )
    chain = [f_ingest, f_asr]
    if speakers:
        f_diar = diarize_task.submit(
            job.session_id, job.manifest, opts, wait_for=[f_ingest], return_state=False
        )
        f_roles = roles_task.submit(
            job.session_id, job.manifest, opts, wait_for=[f_asr, f_diar], return_state=False
        )
        chain += [f_diar, f_roles]
    f_deid = deid_task.submit(
        job.session_id, job.manifest, opts, wait_for=[chain[-1]], return_state=False
    )
    f_export = export_task.submit(
        job.session_id, out, job.manifest, opts, wait_for=[f_deid], return_state=False
    )
    return [*chain, f_deid, f_export]


def outcome(job: Job, futures: list[PrefectFuture]) -> dict[str, Any]:
    """One summary row: ids, numbers and a one-line status (never transcript text)."""
    row: dict[str, Any] = {
        "file": job.src,
        "session_id": job.session_id,
        "duration": None,
        "seconds": 0.0,
        "rtf": None,
        "status": "done",
        "error": None,
        "review": None,
        "identified": None,
    }
    results = []
    for fut in futures:
        state = fut.state
        if not state.is_completed():
            exc = fut.result(raise_on_failure=False) if state.is_failed() else None
            row["status"] = "failed"
            row["error"] = str(exc) if isinstance(exc, Exception) else (state.message or state.name)
            break
        results.append(fut.result())
    for r in results:
        row["seconds"] += r["seconds"]
        if r["stage"] == "ingest":
            row["duration"] = r["counts"].get("duration")
        if r["stage"] in ("asr", "roles"):
            row["identified"] = r["path"]
        if r["stage"] == "roles" and r["counts"].get("review"):
            row["review"] = r["counts"]["review"]
    if row["status"] == "done" and results and all(r["cached"] for r in results[:-1]):
        row["status"] = "already done"
    elif row["status"] == "done" and any(r["counts"].get("resumed_pieces") for r in results):
        row["status"] = "resumed"
    row["seconds"] = round(row["seconds"], 2)
    if row["duration"] and row["status"] != "already done":
        row["rtf"] = round(row["seconds"] / row["duration"], 3)
    return row


def task_runner(cfg: Settings) -> Any:
    if cfg.runner.kind == "dask":
        from prefect_dask import DaskTaskRunner

        if cfg.runner.dask_address:
            return DaskTaskRunner(address=cfg.runner.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": cfg.runner.workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return ThreadPoolTaskRunner(max_workers=cfg.runner.workers)


def _run(jobs: list[Job], out: str, opts: dict[str, Any], show_progress: bool) -> list[dict]:
    speakers = settings_of(opts).diarization.enabled
    chains = [(job, submit(job, out, opts, show_progress, speakers)) for job in jobs]
    wait([f for _, fs in chains for f in fs])
    return [outcome(job, fs) for job, fs in chains]


@flow(name="transcribe-batch", persist_result=False, validate_parameters=False)
def transcribe_batch(
    input_path: str,
    out: str,
    opts: dict[str, Any],
    session: str | None = None,
    show_progress: bool = True,
) -> list[dict]:
    """Every recording in a folder (or one file), each isolated from the others."""
    return _run(plan_jobs(input_path, session), out, opts, show_progress)


@flow(name="transcribe-session", persist_result=False, validate_parameters=False)
def transcribe_session(
    audio: str,
    out: str,
    opts: dict[str, Any],
    session: str | None = None,
    show_progress: bool = True,
) -> dict:
    """One recording, optionally described by a session manifest."""
    jobs = plan_jobs(audio, session)
    if len(jobs) != 1:
        raise PipelineError(f"{audio}: transcribe-session takes one recording, found {len(jobs)}.")
    return _run(jobs, out, opts, show_progress)[0]


def run(
    input_path: str,
    out: str,
    opts: dict[str, Any],
    session: str | None = None,
    show_progress: bool = True,
) -> list[dict]:
    """Run the batch flow on the task runner the settings ask for."""
    cfg = settings_of(opts)
    flow_ = transcribe_batch.with_options(task_runner=task_runner(cfg))
    return flow_(input_path, out, opts, session, show_progress)
