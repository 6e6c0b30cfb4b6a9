"""The one skeleton every stage runs on: checkpoint key, skip, invalidate, timing.

A stage is a small class in its own module under ``pipeline/stages/``: its name, its
work folder (:data:`pipeline.workdir.STAGE_DIRS`), the stages it reads from, a
``key`` (its inputs' hashes and config) and a ``run`` that writes its files. The
skeleton skips a stage whose key and outputs are already there, forgets it and every
later stage otherwise, and records what it did. Results carry ids, paths and counts,
never text, so they are safe to log and to hand to Prefect.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pipeline.asr import Progress
from pipeline.config import Settings
from pipeline.manifest import SessionManifest
from pipeline.workdir import SessionDir, make_dir, remove_partials


@dataclass
class StageResult:
    """What a stage did, in ids and numbers only."""

    session_id: str
    stage: str
    path: str
    cached: bool
    seconds: float
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What the stages of one recording share: its work folder, settings and manifest."""

    session: SessionDir
    cfg: Settings
    manifest: SessionManifest | None = None
    #: The recording (ingest) and its sha256 when already known.
    src: Path | None = None
    src_sha256: str | None = None
    #: The de-identified output folder (export).
    out: Path | None = None
    #: Called with seconds of audio done (stages that report progress).
    progress: Progress | None = None


@dataclass
class Done:
    """A stage's files (in its folder) and the numbers to keep in its record."""

    outputs: list[str]
    info: dict[str, Any] = field(default_factory=dict)


class Stage:
    """Base class: subclasses set the class attributes and implement ``key`` and ``run``."""

    #: Name in results, logs and the flow's task names.
    name: ClassVar[str]
    #: Key of its work folder in STAGE_DIRS.
    folder: ClassVar[str]
    #: Bump when the stage's output changes for the same inputs.
    version: ClassVar[int] = 1
    #: Stages whose outputs it reads (the flow waits for them).
    after: ClassVar[tuple[str, ...]] = ()
    #: Its outputs go to OUT (after the leak gate).
    public: ClassVar[bool] = False
    #: What a user reads in an error ("transcribe failed unexpectedly").
    title: ClassVar[str] = ""

    def enabled(self, cfg: Settings) -> bool:
        return True

    def key(self, ctx: Context) -> str:
        raise NotImplementedError

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        raise NotImplementedError

    def path(self, ctx: Context) -> Path:
        """What the result points at (its main file, or its folder)."""
        return ctx.session.root / self.folder_name

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {}

    def current(self, ctx: Context, key: str) -> bool:
        """Finished with this key, its outputs all there."""
        return ctx.session.is_done(self.folder, key)

    @property
    def folder_name(self) -> str:
        from pipeline.workdir import STAGE_DIRS

        return STAGE_DIRS[self.folder]


def open_session(cfg: Settings, session_id: str) -> SessionDir:
    """The restricted work folder of a session (created 0700)."""
    make_dir(cfg.paths.work)
    session = SessionDir(cfg.paths.work, session_id)
    make_dir(session.root)
    return session


def run_stage(stage: Stage, ctx: Context) -> StageResult:
    """Run ``stage`` unless its checkpoint is current; return what it did."""
    started = time.monotonic()
    session = ctx.session
    with session.lock(stage.folder):
        # Temp files a killed run left in this stage's folder (nobody else writes it now).
        remove_partials(session.root / stage.folder_name)
        key = stage.key(ctx)
        cached = stage.current(ctx, key)
        if not cached:
            session.invalidate_from(stage.folder)
            done = stage.run(ctx, session.stage(stage.folder), key)
            seconds = round(time.monotonic() - started, 3)
            session.mark_done(stage.folder, key, done.outputs, seconds=seconds, **done.info)
        record = session.read_record(stage.folder) or {}
    return StageResult(
        session.session_id,
        stage.name,
        str(stage.path(ctx)),
        cached,
        0.0 if cached else round(time.monotonic() - started, 3),
        stage.counts(ctx, record),
    )
