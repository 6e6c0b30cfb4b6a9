"""Consistent pseudonyms, within a session and across the project.

- roster people get their speaker label: ``[MEMBER-3]``, ``[STAFF-1]``, ``[FACILITATOR]``;
- other people, places and organizations get numbered tags, the same for the same
  name everywhere in the project: ``[PERSON-2]``, ``[PLACE-7]``, ``[ORG-1]``
  ("Dr. Greene" and "Alan Greene" share one);
- dates, numbers, emails, web and street addresses, ages get a type tag:
  ``[DATE]``, ``[PHONE]``, ``[ID]``, ``[EMAIL]``, ``[URL]``, ``[ADDRESS]``, ``[AGE]``.

The crosswalk (the key) records every pseudonym's real value, and per session the
values behind its type tags in order, so ``qscribe reidentify`` can restore a text.
"""

from __future__ import annotations

import re
from typing import Any

#: Kinds replaced by a numbered tag ([PLACE-2]), the same number for the same value.
NUMBERED = frozenset({"PERSON", "PLACE", "ORG"})
#: Kinds replaced by their name ([PHONE]); any other kind by [REDACTED].
FIXED = frozenset({"DATE", "PHONE", "ID", "EMAIL", "URL", "ADDRESS", "AGE"})
TITLES = re.compile(
    r"^(?:mr|mrs|ms|miss|mister|missus|dr|doctor|prof|professor)\.?\s+", re.IGNORECASE
)
TAG = re.compile(r"\[(?:[A-Z]+(?:-[A-Z0-9]+)?)\]")


def normalize(value: str) -> str:
    v = TITLES.sub("", value.strip().lower())
    v = re.sub(r"['’]s$", "", v)
    return " ".join(re.sub(r"[^\w\s-]", " ", v).split())


class Pseudonymizer:
    """Hands out pseudonyms, recording them in an open crosswalk."""

    def __init__(
        self,
        crosswalk: dict[str, Any],
        session_id: str,
        roster_labels: dict[str, str],
        roster_names: dict[str, str],
    ) -> None:
        self.cw = crosswalk
        self.cw.setdefault("sessions", {})
        self.session = self.cw["sessions"].setdefault(session_id, [])
        self.session.clear()  # a rerun rewrites this session's order of tags
        self.session_id = session_id
        self.roster_labels = roster_labels
        self.roster_names = roster_names

    def tag(self, kind: str, value: str, key: str | None = None) -> str:
        if kind == "ROSTER_PERSON" and key in self.roster_labels:
            label = self.roster_labels[key]
            self._record(label, "ROSTER_PERSON", self.roster_names.get(key, value))
            tag = f"[{label}]"
        elif kind in NUMBERED:
            tag = f"[{self._numbered(kind, value)}]"
        else:
            tag = f"[{kind if kind in FIXED else 'REDACTED'}]"
        self.session.append([tag, value])
        return tag

    def _numbered(self, kind: str, value: str) -> str:
        norm = normalize(value)
        index = self.cw["index"]
        key = f"{kind}|{norm}"
        if key not in index:
            # "Greene" or "Alan" after "Alan Greene": the same person.
            words = set(norm.split())
            for other, label in index.items():
                okind, _, onorm = other.partition("|")
                if (
                    okind == kind
                    and words
                    and (words <= set(onorm.split()) or set(onorm.split()) <= words)
                ):
                    index[key] = label
                    break
        if key not in index:
            n = self.cw["counters"].get(kind, 0) + 1
            self.cw["counters"][kind] = n
            index[key] = f"{kind}-{n}"
        self._record(index[key], kind, value)
        return index[key]

    def _record(self, label: str, kind: str, value: str) -> None:
        entry = self.cw["entries"].setdefault(label, {"type": kind, "values": [], "sessions": []})
        if value not in entry["values"]:
            entry["values"].append(value)
        if self.session_id not in entry["sessions"]:
            entry["sessions"].append(self.session_id)


def reidentify(text: str, crosswalk: dict[str, Any], session_id: str) -> str:
    """Put the real values back into a de-identified text of ``session_id``."""
    order = iter(crosswalk.get("sessions", {}).get(session_id, []))
    pending: dict[str, list[str]] = {}
    for tag, value in order:
        pending.setdefault(tag, []).append(value)
    used: dict[str, int] = {}

    def back(m: re.Match[str]) -> str:
        tag = m.group(0)
        values = pending.get(tag)
        if not values:
            return tag
        i = used.get(tag, 0)
        used[tag] = i + 1
        return values[min(i, len(values) - 1)]

    return TAG.sub(back, text)
