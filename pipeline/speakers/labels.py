"""Project-wide speaker labels: each roster person keeps one label in every session.

``MEMBER-3`` is the third member the project has met, whichever session it is,
so speaker turns and the de-identified text (``[MEMBER-3]``) agree everywhere.
The registry maps person ids (never names) to labels; it lives in the restricted
key area and is updated under a file lock (batch workers share it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import string
from collections.abc import Iterator
from pathlib import Path

from pipeline.workdir import make_dir, write_json

PREFIX = {"facilitator": "FACILITATOR", "staff": "STAFF", "member": "MEMBER", "unknown": "SPEAKER"}


class LabelRegistry:
    def __init__(self, keys_dir: str | Path) -> None:
        self.path = make_dir(keys_dir) / "labels.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, str]]:
        lock = self.path.with_suffix(".lock")
        with open(lock, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.is_file() else {}
            before = dict(data)
            yield data
            if data != before:
                write_json(self.path, data)

    def labels_for(self, people: list[tuple[str, str]]) -> dict[str, str]:
        """Labels for (person id, role) pairs, allocating new numbers as needed."""
        with self._locked() as data:
            out = {}
            for pid, role in people:
                if pid not in data:
                    if role == "facilitator":
                        data[pid] = "FACILITATOR"
                    else:
                        used = {v for v in data.values() if v.startswith(PREFIX[role] + "-")}
                        n = 1
                        while f"{PREFIX[role]}-{n}" in used:
                            n += 1
                        data[pid] = f"{PREFIX[role]}-{n}"
                out[pid] = data[pid]
            return out


def letter_label(role: str, index: int) -> str:
    """Label of a voice not tied to a roster person: ``MEMBER-A``, ``MEMBER-B``, ..."""
    letters = string.ascii_uppercase
    tag = letters[index % 26] * (index // 26 + 1)
    return f"{PREFIX[role]}-{tag}"
