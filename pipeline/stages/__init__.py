"""The stages of one recording, in order; each is one module on one skeleton.

``ORDER`` is the only list of stages: the Prefect flow, the command line, the bench
and the tests all take it from here. A new stage is a new module with a
:class:`~pipeline.stages.base.Stage` subclass, added to ``ORDER`` (and its work
folder to :data:`pipeline.workdir.STAGE_DIRS`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.manifest import SessionManifest
from pipeline.stages.asr import Asr, transcript_path
from pipeline.stages.base import Context, Done, Stage, StageResult, open_session, run_stage
from pipeline.stages.codes import Codes
from pipeline.stages.deid import Deid, identified_transcript
from pipeline.stages.diarize import Diarize
from pipeline.stages.export import Export
from pipeline.stages.ingest import Ingest
from pipeline.stages.roles import Roles
from pipeline.transcript import Transcript
from pipeline.workdir import SessionDir, sha256_file, stage_key, write_json

ORDER: tuple[Stage, ...] = (Ingest(), Asr(), Diarize(), Roles(), Deid(), Codes(), Export())
STAGES: dict[str, Stage] = {s.name: s for s in ORDER}

__all__ = [
    "ORDER",
    "STAGES",
    "Context",
    "Done",
    "Stage",
    "StageResult",
    "adopt_transcript",
    "dependencies",
    "enabled_stages",
    "identified_transcript",
    "open_session",
    "recorded",
    "run",
    "run_named",
    "run_stage",
    "transcript_path",
    "up_to_date",
]


def enabled_stages(cfg: Settings) -> list[Stage]:
    return [s for s in ORDER if s.enabled(cfg)]


def dependencies(stage: Stage, cfg: Settings) -> list[str]:
    """The enabled stages ``stage`` waits for (a disabled one passes on its own)."""
    deps: list[str] = []
    for name in stage.after:
        before = STAGES[name]
        for d in [name] if before.enabled(cfg) else dependencies(before, cfg):
            if d not in deps:
                deps.append(d)
    return deps


def run(name: str, ctx: Context) -> StageResult:
    """Run one stage by name (skipped when current)."""
    return run_stage(STAGES[name], ctx)


def run_named(
    name: str,
    session: SessionDir,
    cfg: Settings,
    manifest: SessionManifest | None = None,
    **kw: Any,
) -> StageResult:
    """Run one stage by name on a session (``src=``, ``out=``, ``progress=`` as it needs)."""
    for k in ("src", "out"):
        if kw.get(k) is not None:
            kw[k] = Path(kw[k])
    return run(name, Context(session=session, cfg=cfg, manifest=manifest, **kw))


def recorded(ctx: Context) -> list[dict[str, Any]]:
    """The results of every enabled stage as their records say (for a run found up to
    date: nothing is checked or hashed again)."""
    return [
        asdict(
            StageResult(
                ctx.session.session_id,
                s.name,
                str(s.path(ctx)),
                True,
                0.0,
                s.counts(ctx, ctx.session.read_record(s.folder) or {}),
            )
        )
        for s in enabled_stages(ctx.cfg)
    ]


def up_to_date(ctx: Context) -> bool:
    """True when every enabled stage is current: a run would have nothing to do.

    Reads checkpoints only (no model is loaded); anything unreadable counts as work.
    """
    if not ctx.session.root.is_dir():
        return False
    try:
        return all(s.current(ctx, s.key(ctx)) for s in enabled_stages(ctx.cfg))
    except Exception:
        return False


def adopt_transcript(session: SessionDir, path: Path, transcript: Transcript) -> None:
    """Take an identified transcript made elsewhere as this session's ASR output."""
    folder = session.stage("asr")
    write_json(folder / "transcript.json", transcript.to_dict())
    session.invalidate_from("asr")
    session.mark_done("asr", stage_key("adopted", sha256_file(path)), ["transcript.json"])
