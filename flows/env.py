"""Prefect's environment: project-local home, no analytics, no persisted results.

Must run before ``import prefect``: Prefect reads these variables when it loads
its settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pipeline.config import Settings, load_settings
from pipeline.workdir import make_dir

FORCED = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    # Task results stay in memory: tasks return paths and counts, never text,
    # and nothing a task returns is written to Prefect's storage.
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    # Library logs (ids and counts only) go to Prefect's run logs too.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "pipeline",
    # Library logs outside a flow run (CLI helpers, tests) stay local.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def run_options(config: str | Path | None, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """What every task needs to load the same settings (paths and plain values only)."""
    return {"config": str(Path(config).resolve()) if config else None, "overrides": overrides or {}}


def settings_of(opts: dict[str, Any]) -> Settings:
    return load_settings(opts.get("config"), overrides=opts.get("overrides") or None)


def prepare(opts: dict[str, Any]) -> Settings:
    """Load settings and set Prefect's environment from them (before importing prefect)."""
    settings = settings_of(opts)
    os.environ.update(FORCED)
    os.environ["PREFECT_HOME"] = str(make_dir(settings.paths.prefect_home))
    return settings
