"""The audit log: what happened to which session, when, in ids and counts only.

``<logs>/audit.jsonl`` (restricted: 0600 in a 0700 folder) gets one JSON object a
line, appended under a lock and synced, never rewritten: hand-offs, purges, and
each deletion a purge makes. Entries carry session ids, relative file names made
by the pipeline, counts and sizes; never names, text or passphrases.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pipeline.workdir import RESTRICTED_FILE, make_dir

AUDIT_FILE = "audit.jsonl"
#: Types an entry's values may have (lists of them too): ids, counts, flags.
_SAFE = (str, int, float, bool, type(None))


def audit_path(logs_dir: Path) -> Path:
    return Path(logs_dir) / AUDIT_FILE


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_check(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _check(v) for k, v in value.items()}
    if not isinstance(value, _SAFE):
        raise TypeError(f"audit values are ids and counts, not {type(value).__name__}")
    return value


def append(logs_dir: Path, event: str, **fields: Any) -> dict[str, Any]:
    """Append one entry (``time``, ``event``, then ``fields``); returns it."""
    entry = {"time": now(), "event": event, **_check(fields)}
    path = audit_path(make_dir(logs_dir))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, RESTRICTED_FILE)
    try:
        os.fchmod(fd, RESTRICTED_FILE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (json.dumps(entry, ensure_ascii=False, sort_keys=False) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def read(logs_dir: Path) -> list[dict[str, Any]]:
    """Every entry, oldest first (a damaged line, from a crash mid-write, is skipped)."""
    path = audit_path(logs_dir)
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def sessions_of(entry: dict[str, Any]) -> set[str]:
    ids = entry.get("sessions") or []
    if entry.get("session"):
        ids = [*ids, entry["session"]]
    return {str(s) for s in ids}


def for_sessions(entries: Iterable[dict[str, Any]], sessions: set[str]) -> list[dict[str, Any]]:
    """The entries about these sessions, each narrowed to them (other ids left out)."""
    out = []
    for e in entries:
        mine = sessions_of(e) & sessions
        if not mine:
            continue
        e = dict(e)
        if "sessions" in e:
            e["sessions"] = sorted(set(e["sessions"]) & sessions)
        out.append(e)
    return out


def handed_off(logs_dir: Path) -> set[str]:
    """Sessions that went out in a hand-off bag."""
    return {s for e in read(logs_dir) if e.get("event") == "handoff" for s in sessions_of(e)}
