"""The ``transcribe-session`` and ``transcribe-batch`` flows.

Each recording is a chain of stage tasks built from :data:`pipeline.stages.ORDER`
(each stage waits for the stages it reads; ASR and diarization both wait only for
ingest). Chains are independent: a bad file fails its own chain and is listed in
the summary while the others go on. Tasks run on a thread pool (``runner.kind:
local``) or on a Dask cluster through prefect-dask (``runner.kind: dask``).
"""

from typing import Any

from prefect import flow
from prefect.futures import PrefectFuture, wait
from prefect.task_runners import ThreadPoolTaskRunner

from flows.env import RunOptions
from flows.tasks import Sealed, stage_task
from pipeline import stages
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest, load_manifest
from pipeline.recordings import Job, plan_jobs, record_run, summary_row


def submit(
    job: Job, cfg: Settings, manifest: SessionManifest | None, out: str, show_progress: bool
) -> list[PrefectFuture]:
    """The stage tasks of one recording, each waiting for the stages it reads."""
    futures: dict[str, PrefectFuture] = {}
    for stage in stages.enabled_stages(cfg):
        futures[stage.name] = stage_task.with_options(name=stage.name).submit(
            stage.name,
            job,
            Sealed(cfg),
            Sealed(manifest),
            out,
            show_progress,
            wait_for=[futures[d] for d in stages.dependencies(stage, cfg)],
            return_state=False,
        )
    return list(futures.values())


def outcome(job: Job, futures: list[PrefectFuture]) -> dict[str, Any]:
    """The summary row of one recording from its tasks' states."""
    results: list[dict[str, Any]] = []
    error = None
    for fut in futures:
        state = fut.state
        if not state.is_completed():
            exc = fut.result(raise_on_failure=False) if state.is_failed() else None
            error = str(exc) if isinstance(exc, Exception) else (state.message or state.name)
            break
        results.append(fut.result())
    return summary_row(job, results, error)


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


def run_jobs(jobs: list[Job], cfg: Settings, out: str, show_progress: bool) -> list[dict]:
    """Submit every recording's chain, wait, and return one summary row per recording."""
    chains: list[tuple[Job, list[PrefectFuture]]] = []
    for job in jobs:
        if job.duplicate_of:
            chains.append((job, []))
            continue
        manifest = load_manifest(job.manifest) if job.manifest else None
        chains.append((job, submit(job, cfg, manifest, out, show_progress)))
    wait([f for _, fs in chains for f in fs])
    rows = [outcome(job, fs) for job, fs in chains]
    record_run(cfg.paths.logs, rows)
    return rows


@flow(name="transcribe-batch", persist_result=False)
def transcribe_batch(
    input_path: str,
    out: str,
    opts: RunOptions,
    session: str | None = None,
    show_progress: bool = True,
    allow_empty: bool = False,
) -> list[dict]:
    """Every recording in a folder (or one file), each isolated from the others.

    ``allow_empty``: an empty folder is a run with nothing to do (scheduled runs).
    """
    cfg = opts.settings()
    jobs = plan_jobs(input_path, session, cfg.paths.work, allow_empty=allow_empty)
    return run_jobs(jobs, cfg, out, show_progress)


@flow(name="transcribe-session", persist_result=False)
def transcribe_session(
    audio: str,
    out: str,
    opts: RunOptions,
    session: str | None = None,
    show_progress: bool = True,
) -> dict:
    """One recording, optionally described by a session manifest."""
    cfg = opts.settings()
    jobs = plan_jobs(audio, session, cfg.paths.work)
    if len(jobs) != 1:
        raise PipelineError(f"{audio}: transcribe-session takes one recording, found {len(jobs)}.")
    return run_jobs(jobs, cfg, out, show_progress)[0]


def run(
    input_path: str,
    out: str,
    opts: RunOptions,
    session: str | None = None,
    show_progress: bool = True,
) -> list[dict]:
    """Run the batch flow on the task runner the settings ask for."""
    flow_ = transcribe_batch.with_options(task_runner=task_runner(opts.settings()))
    return flow_(input_path, out, opts, session, show_progress)
