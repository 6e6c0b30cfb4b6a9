"""Run options and Prefect's environment (project-local home, no analytics).

:func:`prepare` must run before ``import prefect``: Prefect reads these variables
when it loads its settings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline import offline
from pipeline.config import Settings, load_settings
from pipeline.workdir import make_dir


class RunOptions(BaseModel):
    """What every run needs to load the same settings (paths and plain values only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: An extra settings YAML over configs/base and configs/local.
    config: str | None = None
    #: Settings from the command line, as nested mappings (``{"asr": {"model": "tiny.en"}}``).
    overrides: dict[str, Any] = {}

    def settings(self) -> Settings:
        return load_settings(self.config, overrides=self.overrides or None)


def run_options(config: str | Path | None, overrides: dict[str, Any] | None) -> RunOptions:
    return RunOptions(
        config=str(Path(config).resolve()) if config else None, overrides=overrides or {}
    )


def prepare(opts: RunOptions) -> Settings:
    """Load settings and set Prefect's environment from them (before importing prefect)."""
    settings = opts.settings()
    offline.apply_prefect(make_dir(settings.paths.prefect_home))
    return settings


def migrate_database(settings: Settings) -> None:
    """Create Prefect's database ahead of the first run (``make setup`` does this).

    The temporary server otherwise creates and migrates it while the first command
    waits; on a slow machine that is where a first run used to time out.
    """
    offline.apply_prefect(make_dir(settings.paths.prefect_home))
    subprocess.run(
        [sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def settings_of(opts: RunOptions) -> Settings:
    return opts.settings()
