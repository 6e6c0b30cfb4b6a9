"""``qscribe review``: start the review server (the command's logic; flows/cli.py wires it)."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest, load_manifest

#: Where manifests are looked for when none are given (local ones win).
DEFAULT_MANIFESTS = ("configs/sessions", "configs/local/sessions")


def find_manifests(root: Path) -> dict[str, SessionManifest]:
    """The project's manifests by session id; one that does not load is skipped."""
    out: dict[str, SessionManifest] = {}
    for folder in DEFAULT_MANIFESTS:
        for f in sorted([*(root / folder).glob("*.yaml"), *(root / folder).glob("*.yml")]):
            try:
                m = load_manifest(f)
            except PipelineError:
                logging.getLogger("review").warning("skipped a manifest that does not load")
                continue
            out[m.session_id] = m
    return out


def manifests_of(path: str | Path | None) -> dict[str, SessionManifest]:
    """Session id -> manifest, from a manifest file or a folder of them (default: the
    project's ``configs/sessions`` and ``configs/local/sessions``)."""
    if not path:
        from pipeline.config import PROJECT_ROOT

        return find_manifests(PROJECT_ROOT)
    p = Path(path)
    if not p.exists():
        raise PipelineError(f"{p}: no such manifest file or folder.")
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    out: dict[str, SessionManifest] = {}
    for f in files:
        m = load_manifest(f)
        out[m.session_id] = m
    return out


def run(
    cfg: Settings,
    session: str | None = None,
    manifests: str | None = None,
    out: str | None = None,
    port: int = 0,
    export: bool = False,
) -> int:
    from review.server import serve
    from review.store import Review

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    review = Review(
        cfg, manifests_of(manifests), Path(out).resolve() if out else None, only=session
    )
    if session and session not in review.session_ids():
        raise PipelineError(
            f"session '{session}' is not in the work area {cfg.paths.work}.",
            hint="Run `qscribe transcribe` on its recording first, or leave SESSION empty.",
        )
    if export:
        return export_all(review)
    # uvicorn shuts down cleanly on Ctrl-C, then passes it on: the normal way to stop.
    with contextlib.suppress(KeyboardInterrupt):
        serve(review, port)
    print("Review server stopped; every save was already written.", file=sys.stderr)
    return 0


def export_all(review: Any) -> int:
    """The de-identified HTML of every session (leak gate first), without a server."""
    failed = 0
    for sid in review.session_ids():
        try:
            done = review.export_html(sid)
            print(f"{sid}: {done['path']}")
        except PipelineError as exc:
            failed += 1
            print(f"{sid}: not exported: {exc}", file=sys.stderr)
    return 1 if failed else 0
