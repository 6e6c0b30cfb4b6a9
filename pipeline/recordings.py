"""Which recordings a run takes, and the neutral session id each one gets.

Recorders name files with dates and counters (``REC_20240314_101512.m4a``,
``230314_0012.wav``). A session id names folders and files on the de-identified
side, so it keeps neither: the manifest's id when there is one, else the words of
the file name without dates and digit runs (``rec``, ``interview-01``, or
``recording``), made unique per recording. The map from recording (by content
hash) to id lives in the restricted work area (``recordings.json``, 0600), so a
rerun, or a renamed copy of the same audio, gets the same id.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest, load_manifest
from pipeline.workdir import RESTRICTED_FILE, make_dir, sha256_file, write_json

#: Audio and video formats a batch picks up from a folder.
MEDIA_SUFFIXES = frozenset(
    ".wav .mp3 .m4a .flac .ogg .oga .opus .aac .wma .aif .aiff .mp4 .mov .m4v .mkv .webm "
    ".avi .3gp .amr".split()
)
#: Dates written with separators (2024-03-14, 14.03.24, 3_14_2024).
_DATE = re.compile(r"(?<![0-9])\d{1,4}[-_./]\d{1,2}[-_./]\d{1,4}(?![0-9])")
#: Words and numbers of a file name (letters and digits split apart: ZOOM0001 -> ZOOM 0001).
_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+")
GENERIC_ID = "recording"
REGISTER = "recordings.json"


@dataclass(frozen=True)
class Job:
    """One recording of a run: where it is, its session id and manifest, its content hash."""

    src: str
    session_id: str
    manifest: str | None = None
    sha256: str = ""
    #: Set when the same audio is already in this run under another file name.
    duplicate_of: str | None = None


def find_recordings(folder: str | Path) -> list[Path]:
    """Audio/video files in ``folder`` or below it, in a stable order (hidden files skipped)."""
    return sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES and not p.name.startswith(".")
    )


def neutral_id(file_name: str | Path) -> str:
    """The words of a file name without dates or digit runs of three or more digits."""
    stem = _DATE.sub(" ", Path(file_name).stem)
    kept = [t.lower() for t in _TOKEN.findall(stem) if not (t.isdigit() and len(t) > 2)]
    if not any(t.isalpha() for t in kept):
        return GENERIC_ID
    return "-".join(kept)[:40].strip("-")


class Register:
    """The restricted map recording -> session id (and a hash cache keyed by path, size, mtime)."""

    def __init__(self, work: str | Path) -> None:
        self.path = make_dir(work) / REGISTER
        self.data: dict[str, Any] = {"ids": {}, "files": {}}

    @contextlib.contextmanager
    def locked(self) -> Iterator[Register]:
        """Read, let the caller change, and write back, with concurrent runs kept in turn."""
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, RESTRICTED_FILE)
        os.fchmod(fd, RESTRICTED_FILE)
        with os.fdopen(fd, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                if self.path.is_file():
                    self.data = json.loads(self.path.read_text(encoding="utf-8"))
                yield self
                write_json(self.path, self.data)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def digest(self, path: Path) -> str:
        """sha256 of a file, recomputed only when its size or modification time changed."""
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        known = self.data["files"].get(str(path))
        if known and known["stamp"] == stamp:
            return str(known["sha256"])
        digest = sha256_file(path)
        self.data["files"][str(path)] = {"stamp": stamp, "sha256": digest}
        return digest

    def session_id(self, digest: str, wanted: str, fixed: bool) -> str:
        """The id this recording already has, else ``wanted`` made unique (unless ``fixed``)."""
        ids: dict[str, str] = self.data["ids"]
        if fixed:
            ids[digest] = wanted
            return wanted
        if digest in ids:
            return ids[digest]
        taken = set(ids.values())
        sid, n = wanted, 2
        while sid in taken:
            sid, n = f"{wanted}-{n}", n + 1
        ids[digest] = sid
        return sid


def _manifests(session: str | Path | None) -> list[tuple[Path, SessionManifest]]:
    """(path, manifest) for a manifest file or every YAML manifest in a folder."""
    if not session:
        return []
    p = Path(session)
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    return [(f.resolve(), load_manifest(f)) for f in files]


def plan_jobs(
    input_path: str | Path,
    session: str | Path | None,
    work: str | Path,
    *,
    allow_empty: bool = False,
) -> list[Job]:
    """The recordings under ``input_path``, each with its session id and manifest.

    An empty folder is an error for a command someone typed, and nothing to do for a
    scheduled run (``allow_empty``).
    """
    src = Path(input_path)
    if not src.exists():
        raise PipelineError(f"{src}: no such file or folder.", hint="Check IN=<file or folder>.")
    recordings = [src.resolve()] if src.is_file() else find_recordings(src.resolve())
    if not recordings and allow_empty:
        return []
    if not recordings:
        raise PipelineError(
            f"{src}: no audio or video files found.",
            hint=f"Supported: {', '.join(sorted(s[1:] for s in MEDIA_SUFFIXES))}.",
        )
    manifests = _manifests(session)
    by_name: dict[str, tuple[Path, SessionManifest]] = {}
    for path, m in manifests:
        if m.recording:
            by_name[Path(m.recording).name] = (path, m)
        by_name.setdefault(m.session_id, (path, m))
    only = manifests[0] if src.is_file() and len(manifests) == 1 else None
    jobs: list[Job] = []
    first_file: dict[str, str] = {}
    with Register(work).locked() as register:
        for rec in recordings:
            match = only or by_name.get(rec.name) or by_name.get(rec.stem)
            try:
                digest = register.digest(rec)
            except OSError as exc:
                raise PipelineError(f"{rec}: cannot be read ({exc.strerror}).") from None
            wanted = match[1].session_id if match else neutral_id(rec.name)
            sid = register.session_id(digest, wanted, fixed=match is not None)
            manifest = str(match[0]) if match else None
            dup = first_file.setdefault(f"{sid}:{digest}", str(rec))
            jobs.append(Job(str(rec), sid, manifest, digest, dup if dup != str(rec) else None))
    return jobs


def summary_row(
    job: Job, results: list[dict[str, Any]], error: str | None = None
) -> dict[str, Any]:
    """One row of a run's summary: ids, numbers and a one-line status (never transcript text).

    ``results`` are the stage results (as dicts) in order; ``error`` the first failure.
    """
    row: dict[str, Any] = {
        "file": job.src,
        "session_id": job.session_id,
        "duration": None,
        "seconds": 0.0,
        "rtf": None,
        "status": "done",
        "error": error,
        "review": None,
        "identified": None,
    }
    if job.duplicate_of:
        row["status"] = f"skipped: same audio as {Path(job.duplicate_of).name}"
        return row
    for r in results:
        row["seconds"] += r["seconds"]
        if r["stage"] == "ingest":
            row["duration"] = r["counts"].get("duration")
        if r["stage"] in ("asr", "roles"):
            row["identified"] = r["path"]
        if r["stage"] == "roles" and r["counts"].get("review"):
            row["review"] = r["counts"]["review"]
    if error is not None:
        row["status"] = "failed"
    elif results and all(r["cached"] for r in results):
        row["status"] = "already done"
    elif any(r["counts"].get("resumed_pieces") for r in results):
        row["status"] = "resumed"
    row["seconds"] = round(row["seconds"], 2)
    if row["duration"] and row["status"] not in ("already done", "failed"):
        row["rtf"] = round(row["seconds"] / row["duration"], 3)
    return row


def record_run(logs: str | Path, rows: list[dict[str, Any]]) -> None:
    """One audit entry per run: which sessions, and how many done, already done, failed."""
    from pipeline import audit

    statuses = [r["status"] for r in rows]
    audit.append(
        Path(logs),
        "batch",
        sessions=[r["session_id"] for r in rows],
        recordings=len(rows),
        done=sum(s in ("done", "resumed") for s in statuses),
        already_done=statuses.count("already done"),
        failed=statuses.count("failed"),
    )
