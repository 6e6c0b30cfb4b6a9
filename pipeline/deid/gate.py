"""The leak gate: nothing reaches the de-identified area while it names anyone.

Before a session's files are written to OUT, every file name and every text file
is scanned, by a method independent of the analyzer, for:
- each roster person's full name, first name, surname and alias, each organization
  and place (case-insensitive, with possessives and plurals, and one-letter slips
  of longer names);
- digit runs shaped like phone or id numbers (7+ digits, written or spoken).
A hit blocks the session and is reported as (file, offset, kind), never the name.
Name parts that are everyday words (will, grace, may) are checked only where they
are capitalized away from the start of a sentence: elsewhere the gate cannot tell
the name from the word, and the analyzer's context rules are what protects them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from pipeline.deid.roster import Roster, name_words, sentence_start
from pipeline.deid.spoken import number_runs

TEXT_SUFFIXES = {".json", ".txt", ".vtt", ".srt", ".csv", ".md", ".yaml", ".yml", ".qdpx", ".xml"}
HEX = re.compile(r"\b[0-9a-f]{32,}\b")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: A possessive or plural ending, dropped before looking a word up.
PLURAL = re.compile(r"(['’]s|s|es)$")


@dataclass(frozen=True)
class Hit:
    file: str
    offset: int
    kind: str

    def __str__(self) -> str:
        return f"{self.file}@{self.offset} {self.kind}"


def scan_text(text: str, name: str, roster: Roster) -> list[Hit]:
    hits: list[Hit] = []
    _, words = roster.protected_terms
    low = text.lower()
    for pattern in roster.phrase_patterns:
        for m in pattern.finditer(low):
            hits.append(Hit(name, m.start(), "protected name"))
    everyday = name_words()
    for m in WORD.finditer(text):
        token = m.group(0)
        base = PLURAL.sub("", token.lower())
        t_low = token.lower()
        if t_low in words or base in words:
            if (t_low in everyday or base in everyday) and not (
                token[0].isupper() and not sentence_start(text, m.start())
            ):
                continue
            hits.append(Hit(name, m.start(), "protected name"))
        elif len(t_low) >= 5 and t_low not in everyday and _one_slip(t_low, words, everyday):
            hits.append(Hit(name, m.start(), "near-miss of a protected name"))
    scrubbed = HEX.sub(lambda m: "x" * len(m.group(0)), text)
    for start, _end, digits in number_runs(scrubbed):
        if len(digits) >= 7:
            hits.append(Hit(name, start, "phone/id-shaped number"))
    return sorted(set(hits), key=lambda h: h.offset)


def _one_slip(token: str, words: frozenset[str], everyday: frozenset[str]) -> bool:
    """One letter off a longer protected name ("Delgato" for "Delgado")."""
    return any(
        len(w) >= 5 and w not in everyday and Levenshtein.distance(token, w) == 1 for w in words
    )


def strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string in a JSON value, with its path (numbers are timings, not text)."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [
            x
            for k, v in value.items()
            for x in strings(k, f"{path}/{k}:key") + strings(v, f"{path}/{k}")
        ]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in strings(v, f"{path}/{i}")]
    return []


#: Subtitle timing lines and cue numbers: timings, not text (blanked, offsets kept).
CUE_LINE = re.compile(r"^(?:\d+|[\d:.,]+ --> [\d:.,]+.*)$", re.MULTILINE)


def scan_file(path: Path, rel: str, roster: Roster) -> list[Hit]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() in (".vtt", ".srt"):
        text = CUE_LINE.sub(lambda m: " " * len(m.group(0)), text)
    if path.suffix.lower() != ".json":
        return scan_text(text, rel, roster)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return scan_text(text, rel, roster)
    hits = []
    for where, value in strings(data):
        hits += [Hit(f"{rel}:{where}", h.offset, h.kind) for h in scan_text(value, rel, roster)]
    return hits


def scan_files(files: list[Path], roster: Roster, *, label: str = "") -> list[Hit]:
    """Hits in the names (as they will be written: ``label/name``) and texts of ``files``."""
    hits: list[Hit] = []
    for path in files:
        rel = f"{label}/{path.name}" if label else path.name
        hits += [
            Hit(rel, h.offset, f"{h.kind} in the file name") for h in scan_text(rel, rel, roster)
        ]
        if path.suffix.lower() in TEXT_SUFFIXES:
            hits += scan_file(path, rel, roster)
    return hits
