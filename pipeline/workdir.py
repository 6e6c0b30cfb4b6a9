"""Work folders: restricted zones, atomic writes and stage checkpoints.

Each session gets ``<work>/<session_id>/`` with one numbered folder per stage
(``01_audio``, ``02_asr``, ...). A stage writes its files atomically (temp file,
then rename) and finishes by writing ``stage.json`` with a key made of its
inputs' hashes and its config; a rerun whose key matches skips the stage.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Identified data: only the owner may read it.
RESTRICTED_DIR = 0o700
RESTRICTED_FILE = 0o600
#: De-identified outputs: the lab group may read them.
SHARED_DIR = 0o750
SHARED_FILE = 0o640

STAGE_DIRS = {
    "audio": "01_audio",
    "asr": "02_asr",
    "speakers": "03_speakers",
    "roles": "04_roles",
    "deid": "05_deid",
    "codes": "06_codes",
    "export": "07_export",
}
_TMP_MARK = ".tmp-"
logger = logging.getLogger(__name__)


def make_dir(path: str | Path, mode: int = RESTRICTED_DIR) -> Path:
    """Create ``path`` (and parents) and set its mode, whatever the umask."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


@contextlib.contextmanager
def atomic_path(path: str | Path, mode: int = RESTRICTED_FILE) -> Iterator[Path]:
    """Yield a temp path next to ``path``; rename it over ``path`` only on success.

    A crash or kill leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{_TMP_MARK}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        os.chmod(tmp_path, mode)
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(path: str | Path, text: str, mode: int = RESTRICTED_FILE) -> Path:
    with atomic_path(path, mode) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, data: Any, mode: int = RESTRICTED_FILE) -> Path:
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n", mode)


def remove_partials(folder: str | Path) -> int:
    """Delete temp files a killed run left behind; returns how many."""
    count = 0
    for p in Path(folder).rglob(f"*{_TMP_MARK}*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            count += 1
    return count


def sha256_file(path: str | Path, block: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()


def stage_key(*parts: Any) -> str:
    """A stable key for a stage's inputs and config."""
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


class SessionDir:
    """The restricted work folder of one session."""

    def __init__(self, work_root: str | Path, session_id: str) -> None:
        self.root = Path(work_root) / session_id
        self.session_id = session_id

    def stage(self, name: str) -> Path:
        folder = make_dir(self.root / STAGE_DIRS[name])
        os.chmod(self.root, RESTRICTED_DIR)
        return folder

    def record_path(self, name: str) -> Path:
        return self.root / STAGE_DIRS[name] / "stage.json"

    def read_record(self, name: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.record_path(name).read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def is_done(self, name: str, key: str) -> bool:
        """True when the stage finished with this key and its outputs are all there, unchanged.

        Each output's sha256 is in the record: a file damaged or replaced since (a disk
        error, a bad copy, a hand edit) makes the stage run again.
        """
        rec = self.read_record(name)
        if not rec or rec.get("key") != key:
            return False
        folder = self.root / STAGE_DIRS[name]
        digests = rec.get("digests", {})
        for out in rec.get("outputs", []):
            path = folder / out
            if not path.is_file():
                return False
            if out in digests and sha256_file(path) != digests[out]:
                logger.warning(
                    "%s: %s/%s changed since it was written; redoing that stage",
                    self.session_id,
                    STAGE_DIRS[name],
                    out,
                )
                return False
        return True

    def mark_done(self, name: str, key: str, outputs: list[str], **info: Any) -> None:
        folder = self.root / STAGE_DIRS[name]
        digests = {out: sha256_file(folder / out) for out in outputs}
        record = {"stage": name, "key": key, "outputs": outputs, "digests": digests, **info}
        write_json(self.record_path(name), record)

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Hold one stage of this session; another run on it waits (and says so)."""
        make_dir(self.root)
        fd = os.open(self.root / f".{name}.lock", os.O_WRONLY | os.O_CREAT, RESTRICTED_FILE)
        os.fchmod(fd, RESTRICTED_FILE)
        with os.fdopen(fd, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning(
                    "%s: another run is working on %s; waiting for it", self.session_id, name
                )
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def invalidate_from(self, name: str) -> None:
        """Forget this stage and every later one (their inputs changed)."""
        order = list(STAGE_DIRS)
        for later in order[order.index(name) :]:
            self.record_path(later).unlink(missing_ok=True)
