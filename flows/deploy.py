"""Lab servers: a persistent Prefect server, and scheduled batch runs over an incoming folder.

``qscribe serve`` (``make serve``) registers the batch deployment on a cron (or
interval) schedule in an explicit timezone and polls for its runs until stopped (the
schedule needs a real Prefect server: :mod:`flows.server`). Each recording is processed once: the restricted
register maps content to session, and finished stages are skipped, so a tick with
nothing new does nothing (and a renamed copy is not done twice).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from flows.env import RunOptions
from flows.transcribe import task_runner, transcribe_batch


def local_timezone() -> str:
    """The machine's IANA timezone (TZ, /etc/timezone, /etc/localtime), else UTC."""
    if os.environ.get("TZ"):
        return os.environ["TZ"].lstrip(":")
    etc = Path("/etc/timezone")
    if etc.is_file() and etc.read_text().strip():
        return etc.read_text().strip()
    link = Path("/etc/localtime")
    if link.is_symlink() and "zoneinfo/" in str(link.resolve()):
        return str(link.resolve()).split("zoneinfo/", 1)[1]
    return "UTC"


def deployment_parameters(
    input_path: str, out: str, opts: RunOptions, session: str | None
) -> dict[str, Any]:
    return {
        "input_path": str(Path(input_path).resolve()),
        "out": str(Path(out).resolve()),
        "opts": opts.model_dump(),
        "session": str(Path(session).resolve()) if session else None,
        "show_progress": False,
        "allow_empty": True,
    }


def schedule(cron: str | None, interval_s: float | None, timezone: str) -> Any:
    from prefect.schedules import Cron, Interval

    if interval_s:
        return Interval(dt.timedelta(seconds=interval_s), timezone=timezone)
    return Cron(cron or "0 2 * * *", timezone=timezone)


def serve(
    input_path: str,
    out: str,
    opts: RunOptions,
    *,
    cron: str | None = "0 2 * * *",
    interval_s: float | None = None,
    timezone: str | None = None,
    session: str | None = None,
    name: str = "nightly",
) -> None:
    tz = timezone or local_timezone()
    when = f"every {interval_s:g} s" if interval_s else f"cron '{cron}'"
    print(f"serving '{name}': {when} ({tz}) over {input_path} -> {out}; Ctrl-C stops.")
    flow_ = transcribe_batch.with_options(task_runner=task_runner(opts.settings()))
    flow_.serve(
        name=name,
        schedules=[schedule(cron, interval_s, tz)],
        parameters=deployment_parameters(input_path, out, opts, session),
        description="Transcribe new recordings; finished ones are skipped (checkpoints).",
    )
