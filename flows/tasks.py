"""Prefect's task: one generic task that runs one stage of :mod:`pipeline.stages`.

Tasks take and return paths, ids and counts. Results are never persisted and
tasks are never cached by Prefect: the work folders are the checkpoints.
Unexpected errors are logged in full to the session's restricted folder and
reach Prefect only as a one-line message with no transcript text.
"""

from __future__ import annotations

import errno
import math
import sys
import traceback
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from pipeline import stages
from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest
from pipeline.progress import AudioBar
from pipeline.recordings import Job
from pipeline.workdir import RESTRICTED_FILE, write_text

T = TypeVar("T")
#: Errors of a full, read-only or forbidden disk: the user can fix these.
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
TASK_OPTS: dict[str, Any] = {"persist_result": False, "cache_policy": NO_CACHE, "retries": 0}


class Sealed(Generic[T]):
    """A value handed to a task that Prefect must not walk into.

    Prefect (and prefect-dask) visit task arguments looking for futures; a settings
    object has a field named ``keys``, which that visit mistakes for a mapping.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


def guarded(stage: str, session_dir: Path, fn: Callable[[], T]) -> T:
    """Run ``fn``; turn an unexpected error into a PipelineError that is safe to log."""
    try:
        return fn()
    except PipelineError:
        raise
    except OSError as exc:
        if exc.errno not in DISK_ERRORS:
            raise guarded_error(stage, session_dir) from None
        raise PipelineError(
            f"{stage}: cannot write the work area ({exc.strerror}).",
            hint="Free disk space (or fix the folder's permissions), then run again: "
            "finished stages are kept.",
        ) from None
    except Exception:
        raise guarded_error(stage, session_dir) from None


def guarded_error(stage: str, session_dir: Path) -> PipelineError:
    """The full traceback to the session's restricted error.log; one line for Prefect."""
    exc_type = sys.exc_info()[0]
    session_dir.mkdir(parents=True, exist_ok=True)
    log = session_dir / "error.log"
    write_text(log, traceback.format_exc(), RESTRICTED_FILE)
    return PipelineError(
        f"{stage} failed unexpectedly ({exc_type.__name__ if exc_type else 'error'}).",
        hint=f"Details (restricted): {log}",
    )


def context(
    job: Job, cfg: Settings, manifest: SessionManifest | None, out: str | None
) -> stages.Context:
    return stages.Context(
        session=stages.open_session(cfg, job.session_id),
        cfg=cfg,
        manifest=manifest,
        src=Path(job.src),
        src_sha256=job.sha256 or None,
        out=Path(out) if out else None,
    )


def run_one(
    name: str,
    job: Job,
    cfg: Settings,
    manifest: SessionManifest | None,
    out: str,
    show_progress: bool,
) -> stages.StageResult:
    """One stage of one recording, with a progress bar where it reports audio seconds."""
    stage = stages.STAGES[name]
    ctx = context(job, cfg, manifest, out)
    if name != "asr":
        return guarded(stage.title, ctx.session.root, lambda: stages.run_stage(stage, ctx))
    duration = (ctx.session.read_record("audio") or {}).get("duration") or 0.0
    with AudioBar(duration, job.session_id, enabled=show_progress) as bar:
        ctx.progress = bar.update_to
        result = guarded(stage.title, ctx.session.root, lambda: stages.run_stage(stage, ctx))
        bar.update_to(math.inf)
    return result


@task(name="stage", **TASK_OPTS)
def stage_task(
    name: str,
    job: Job,
    cfg: Sealed[Settings],
    manifest: Sealed[SessionManifest | None],
    out: str,
    show_progress: bool = True,
) -> dict[str, Any]:
    result = run_one(name, job, cfg.value, manifest.value, out, show_progress)
    what = "reused checkpoint" if result.cached else f"done in {result.seconds:.1f} s"
    counts = ", ".join(f"{k}={v}" for k, v in result.counts.items() if v is not None)
    get_run_logger().info("%s %s: %s %s", result.session_id, result.stage, what, counts)
    return asdict(result)
