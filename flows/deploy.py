"""Scheduled batch runs on a lab server: ``qscribe serve`` (or ``make serve``).

``Flow.serve`` registers a deployment with a cron schedule and polls for its runs
until stopped. Point ``PREFECT_API_URL`` at the lab's Prefect server
(``prefect server start``) to see runs and logs in its UI; without it, Prefect's
temporary local server is used for as long as ``serve`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.env import settings_of
from flows.transcribe import task_runner, transcribe_batch


def deployment_parameters(
    input_path: str, out: str, opts: dict[str, Any], session: str | None
) -> dict[str, Any]:
    return {
        "input_path": str(Path(input_path).resolve()),
        "out": str(Path(out).resolve()),
        "opts": opts,
        "session": str(Path(session).resolve()) if session else None,
        "show_progress": False,
    }


def serve(
    input_path: str,
    out: str,
    opts: dict[str, Any],
    *,
    cron: str,
    session: str | None = None,
    name: str = "nightly",
) -> None:
    flow_ = transcribe_batch.with_options(task_runner=task_runner(settings_of(opts)))
    flow_.serve(
        name=name,
        cron=cron,
        parameters=deployment_parameters(input_path, out, opts, session),
        description="Transcribe new recordings; finished ones are skipped (checkpoints).",
    )
