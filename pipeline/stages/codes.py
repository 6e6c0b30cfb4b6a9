"""Pre-tagging: codebook suggestions for every de-identified turn; ``06_codes``.

Runs when the manifest or the settings name a codebook (else it writes nothing). Its
files (suggestions JSON/CSV/XLSX and a REFI-QDA ``.qdpx``) are public: the export
passes them through the leak gate with the de-identified transcript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.stages.base import Context, Done, Stage
from pipeline.stages.deid import roster_of
from pipeline.workdir import sha256_file, stage_key


def codebook_of(ctx: Context) -> Path | None:
    m = ctx.manifest
    return (m.codebook if m and m.codebook else None) or ctx.cfg.coding.codebook


def _digest(path: Path | None) -> str | None:
    return sha256_file(path) if path and path.is_file() else (str(path) if path else None)


class Codes(Stage):
    name = "codes"
    folder = "codes"
    version = 2
    after = ("deid",)
    public = True
    title = "pre-tag"

    def key(self, ctx: Context) -> str:
        from importlib import resources

        codebook = codebook_of(ctx)
        lexicon = codebook.with_suffix(".lexicon.yaml") if codebook else None
        coding = ctx.cfg.coding
        prior = resources.files("pipeline.coding").joinpath("prior.json").read_bytes()
        return stage_key(
            "codes",
            self.version,
            (ctx.session.read_record("deid") or {}).get("key"),
            _digest(codebook),
            _digest(lexicon),
            _digest(coding.coded),
            coding.embedder,
            stage_key(prior.decode()),
            ctx.manifest.kind if ctx.manifest else None,
        )

    def run(self, ctx: Context, folder: Path, key: str) -> Done:
        codebook = codebook_of(ctx)
        # Only this stage's own files: the RA's code decisions and codings from the review
        # app (review.json, codings.jsonl) live here too and must survive a rerun.
        for old in folder.iterdir():
            if old.is_file() and (old.name.startswith("suggestions.") or old.suffix == ".qdpx"):
                old.unlink()
        if codebook is None:
            return Done([], {"suggestions": None})
        from pipeline.coding.pretag import run_pretag

        cfg, m = ctx.cfg, ctx.manifest
        result = run_pretag(
            ctx.session.root / "05_deid" / "transcript.json",
            folder,
            codebook=codebook,
            coded=cfg.coding.coded,
            models_dir=cfg.paths.models,
            roster=roster_of(m),
            session_kind=m.kind if m else None,
            embedder=cfg.coding.embedder,
            per_session_folders=False,
            restricted=True,
        )
        one = result.sessions[0]
        return Done(
            list(one.files),
            {"suggestions": one.suggestions, "method": result.method, "turns": one.turns},
        )

    def path(self, ctx: Context) -> Path:
        return ctx.session.root / self.folder_name

    def counts(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return {"suggestions": record.get("suggestions")}
