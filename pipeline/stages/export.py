"""Export: the leak gate, then the public stages' files into ``<OUT>/<session_id>/``.

Only what passed the gate is written (0750 folder, 0640 files, each file atomically).
The stage is current while every exported file is still in OUT as it was written,
so a rerun with nothing new touches nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pipeline import corrections
from pipeline.errors import PipelineError
from pipeline.stages.base import Context, Done, Stage
from pipeline.workdir import SHARED_DIR, SHARED_FILE, atomic_path, make_dir, sha256_file, stage_key


def public_files(ctx: Context) -> list[Path]:
    """The outputs of every public stage, in stage order."""
    from pipeline.stages import ORDER

    files: list[Path] = []
    for stage in ORDER:
        if stage.public and stage.enabled(ctx.cfg):
            record = ctx.session.read_record(stage.folder) or {}
            folder = ctx.session.root / stage.folder_name
            files += [folder / name for name in record.get("outputs", [])]
    return files


def publish(files: list[Path], target: Path) -> dict[str, str]:
    """Copy ``files`` into ``target`` as one step: a staging folder beside it, then renamed.

    A full or read-only disk, or a kill, leaves OUT as it was (a stale staging folder
    is removed by the next export); returns each file's sha256.
    """
    parent = make_dir(target.parent, SHARED_DIR)
    for stale in parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        os.chmod(staging, SHARED_DIR)
        written = {}
        for f in files:
            with atomic_path(staging / f.name, SHARED_FILE) as tmp:
                shutil.copyfile(f, tmp)
            written[f.name] = sha256_file(staging / f.name)
        old = parent / f".{target.name}.tmp-old"
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class Export(Stage):
    name = "export"
    folder = "export"
    after = ("deid", "codes")
    title = "export"

    def _target(self, ctx: Context) -> Path:
        assert ctx.out is not None, "export needs an output folder"
        return Path(ctx.out).resolve() / ctx.session.session_id

    def key(self, ctx: Context) -> str:
        from pipeline.stages import ORDER

        m = ctx.manifest
        upstream = [
            (ctx.session.read_record(s.folder) or {}).get("key")
            for s in ORDER
            if s.public and s.enabled(ctx.cfg)
        ]
        roster = [m.protected_people(), m.organizations, m.places] if m else None
        return stage_key("export", self.version, upstream, str(self._target(ctx)), roster)

    def current(self, ctx: Context, key: str) -> bool:
        record = ctx.session.read_record(self.folder) or {}
        if record.get("key") != key:
            return False
        target = self._target(ctx)
        return all(
            (target / name).is_file() and sha256_file(target / name) == digest
            for name, digest in record.get("files", {}).items()
        )

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        from pipeline.deid.gate import scan_files

        sid = ctx.session.session_id
        files = public_files(ctx)
        if not files:
            raise PipelineError(f"session {sid}: nothing de-identified to export yet.")
        rules = corrections.read_deid_rules(ctx.session.root)
        hits = scan_files(files, corrections.session_roster(ctx.manifest, rules), label=sid)
        if hits:
            shown = "; ".join(str(h) for h in hits[:5])
            in_name = any("file name" in h.kind for h in hits)
            raise PipelineError(
                f"leak gate blocked session {sid}: {len(hits)} possible identifier(s) left "
                f"({shown}{'; ...' if len(hits) > 5 else ''}); nothing was written to the "
                "output folder.",
                hint=(
                    f"The session id '{sid}' looks like a name or number: give the recording a "
                    "manifest with a neutral session_id (or rename the file), then run again."
                    if in_name
                    else "Add the missing name or alias to the roster (or check the "
                    "transcript), then run again."
                ),
            )
        target = self._target(ctx)
        try:
            written = publish(files, target)
        except OSError as exc:
            raise PipelineError(
                f"session {sid}: cannot write the output folder {target.parent} "
                f"({exc.strerror or exc}).",
                hint="Free disk space or make it writable, then run again: nothing was "
                "half-written and the finished work is kept.",
            ) from None
        return Done([], {"out": str(target), "files": written, "gate_hits": 0})

    def path(self, ctx: Context) -> Path:
        return self._target(ctx)

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {"files": len(record.get("files", {})), "gate_hits": 0}
