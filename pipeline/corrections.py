"""The review files an RA's corrections are kept in, and how the stages apply them.

The review app writes them; the stages read them (their digests are in the stage keys, so
a save reruns what depends on it). Every file lives in the session's restricted work
folder and is written atomically (0600):

``02_asr/edits.json``
    text corrections, an edit layer over the ASR output: ``{"edits": [{"start", "end",
    "text", "was"}]}``; the ASR words whose start lies in ``[start, end)`` become the
    words of ``text`` (``""`` deletes them). Applied in order before words go to voices,
    so a rerun of the speakers stage keeps them.
``04_roles/speakers.review.yaml``
    who a voice is and its role: the pipeline's own review file (``voices: [{voice,
    role, person}]``), read by the speakers stage as before.
``04_roles/speakers.edits.json``
    voices merged and words moved: ``{"merge": {voice: into}, "moves": [{"start", "end",
    "voice"}]}``; applied after words go to voices, before roles and labels.
``review/deid.json``
    de-identification rules of the session: ``{"missed": [{"text", "kind", "person"}],
    "allow": [text]}``; a missed name is replaced wherever it occurs (and joins the
    session's roster for the leak gate), an allowed text is no longer replaced.
``06_codes/review.json`` and ``06_codes/codings.jsonl``
    code decisions on the pre-tagger's suggestions, and the team's codings made from
    them (one line per coded turn, de-identified text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pipeline.errors import PipelineError
from pipeline.manifest import SessionManifest
from pipeline.transcript import Segment, Transcript, Word
from pipeline.workdir import make_dir, stage_key, write_json, write_text

if TYPE_CHECKING:  # the analyzer loads spaCy: imported where it is used
    from pipeline.deid.presidio_engine import Finding
    from pipeline.deid.roster import Roster

TEXT_EDITS = Path("02_asr") / "edits.json"
SPEAKER_ANSWERS = Path("04_roles") / "speakers.review.yaml"
SPEAKER_EDITS = Path("04_roles") / "speakers.edits.json"
DEID_RULES = Path("review") / "deid.json"
CODE_REVIEW = Path("06_codes") / "review.json"
CODINGS = Path("06_codes") / "codings.jsonl"
SUGGESTIONS = Path("06_codes") / "suggestions.json"

#: What a missed name is replaced as.
KINDS = {"person": "PERSON", "place": "PLACE", "org": "ORG"}
#: Time slack when matching words by their start (seconds).
EPS = 0.0005


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise PipelineError(
            f"{path}: not valid JSON.", hint="Fix it, or delete it to drop those corrections."
        ) from None


def _save_json(root: Path, rel: Path, data: Any) -> Path:
    make_dir((root / rel).parent)
    return write_json(root / rel, data)


def file_digest(root: Path, *rels: Path) -> str:
    """One digest of some review files (missing ones count as empty): for a stage key."""
    parts = []
    for rel in rels:
        p = root / rel
        parts.append([str(rel), p.read_text(encoding="utf-8") if p.is_file() else None])
    return stage_key("review", parts)


# --------------------------------------------------------------------------- text edits


def read_text_edits(root: Path) -> list[dict[str, Any]]:
    edits = _read_json(root / TEXT_EDITS, {}).get("edits", [])
    for e in edits:
        if not isinstance(e.get("start"), int | float) or not isinstance(e.get("end"), int | float):
            raise PipelineError(f"{root / TEXT_EDITS}: an edit without start/end times.")
    return list(edits)


def add_text_edit(root: Path, start: float, end: float, text: str, was: str = "") -> int:
    """Append one correction; returns how many there are."""
    edits = read_text_edits(root)
    edits.append(
        {"start": round(start, 3), "end": round(end, 3), "text": " ".join(text.split()), "was": was}
    )
    _save_json(root, TEXT_EDITS, {"edits": edits})
    return len(edits)


def _spread(words: list[Word], tokens: list[str]) -> list[Word]:
    if len(tokens) == len(words):
        return [
            Word(w.start, w.end, tok, 1.0, w.speaker) for w, tok in zip(words, tokens, strict=True)
        ]
    a, b = words[0].start, words[-1].end
    step = (b - a) / max(len(tokens), 1)
    return [
        Word(round(a + i * step, 3), round(a + (i + 1) * step, 3), tok, 1.0, words[0].speaker)
        for i, tok in enumerate(tokens)
    ]


def apply_text_edits(t: Transcript, edits: list[dict[str, Any]]) -> Transcript:
    """``t`` with the corrections applied in order (timings kept, or spread evenly)."""
    for e in edits:
        lo, hi = float(e["start"]) - EPS, float(e["end"]) - EPS
        hits = [
            (si, wi)
            for si, seg in enumerate(t.segments)
            for wi, w in enumerate(seg.words)
            if lo <= w.start < hi
        ]
        if not hits:
            continue
        tokens = str(e.get("text", "")).split()
        first_seg = hits[0][0]
        covered = [t.segments[si].words[wi] for si, wi in hits]
        new = _spread(covered, tokens) if tokens else []
        drop = set(hits)
        for si in sorted({si for si, _ in hits}):
            seg = t.segments[si]
            kept: list[Word] = []
            placed = False
            for wi, w in enumerate(seg.words):
                if (si, wi) in drop:
                    if si == first_seg and not placed:
                        kept += new
                        placed = True
                    continue
                kept.append(w)
            seg.words = kept
            seg.text = " ".join(w.text for w in kept)
            if kept:
                seg.start, seg.end = min(seg.start, kept[0].start), max(seg.end, kept[-1].end)
        t.segments = [s for s in t.segments if s.words or s.text.strip()]
    return t


# --------------------------------------------------------------------------- speakers


def read_speaker_edits(root: Path) -> dict[str, Any]:
    data = _read_json(root / SPEAKER_EDITS, {})
    return {"merge": dict(data.get("merge", {})), "moves": list(data.get("moves", []))}


def save_speaker_edits(root: Path, edits: dict[str, Any]) -> Path:
    return _save_json(root, SPEAKER_EDITS, {"merge": edits["merge"], "moves": edits["moves"]})


def _resolve(merge: dict[str, str], voice: str | None) -> str | None:
    seen = set()
    while voice in merge and voice not in seen:
        seen.add(voice)
        voice = merge[voice]
    return voice


def apply_speaker_edits(t: Transcript, edits: dict[str, Any]) -> Transcript:
    """Merged voices and moved words applied; segments split again where the voice changes."""
    merge, moves = edits.get("merge", {}), edits.get("moves", [])
    if not merge and not moves:
        return t
    from pipeline.speakers.assign import split_by_speaker

    def voice_at(start: float, current: str | None) -> str | None:
        v = _resolve(merge, current)
        for m in moves:
            if float(m["start"]) - EPS <= start < float(m["end"]) - EPS:
                v = _resolve(merge, m["voice"])
        return v

    segments: list[Segment] = []
    for seg in t.segments:
        if not seg.words:
            seg.speaker = voice_at(seg.start, seg.speaker)
            segments.append(seg)
            continue
        words = [
            Word(w.start, w.end, w.text, w.probability, voice_at(w.start, w.speaker))
            for w in seg.words
        ]
        for part in split_by_speaker(seg, words):
            part.role = seg.role
            segments.append(part)
    for i, s in enumerate(segments):
        s.id = i
    t.segments = segments
    return t


def read_speaker_answers(root: Path, manifest: SessionManifest | None) -> dict[str, dict[str, Any]]:
    from pipeline.speakers.review import read_answers

    return read_answers(root / SPEAKER_ANSWERS, manifest)


def save_speaker_answers(
    root: Path,
    session_id: str,
    answers: dict[str, dict[str, Any]],
    manifest: SessionManifest | None,
) -> Path:
    """Write role/person answers into ``speakers.review.yaml`` (the file the stage reads).

    An existing file keeps its header, quotes and guesses; voices it lacks are added.
    """
    import yaml

    path = root / SPEAKER_ANSWERS
    header = ""
    data: dict[str, Any] = {}
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        n = 0
        while n < len(lines) and lines[n].startswith("#"):
            n += 1
        header = "".join(lines[:n])
        data = yaml.safe_load("".join(lines[n:])) or {}
    if not header:
        header = (
            f"# Speakers of session {session_id}, answered in the review app.\n"
            "#   role: facilitator | staff | member | unknown; person: an id of the manifest.\n"
        )
    data.setdefault("session_id", session_id)
    entries = data.setdefault("voices", [])
    by_voice = {str(e.get("voice")): e for e in entries}
    for voice, a in answers.items():
        entry = by_voice.get(voice)
        if entry is None:
            entry = {"voice": voice}
            entries.append(entry)
        entry["role"] = a.get("role") or None
        entry["person"] = a.get("person") or None
    if manifest is not None and "people" not in data:
        data["people"] = [{"id": p.id, "name": p.name, "role": p.role} for p in manifest.people]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    make_dir(path.parent)
    write_text(path, header + body)
    read_speaker_answers(root, manifest)  # refuse to leave a file the stage would reject
    return path


def speakers_digest(root: Path) -> str:
    """For the speakers stage's key: text corrections and merged/moved voices."""
    return file_digest(root, TEXT_EDITS, SPEAKER_EDITS)


# --------------------------------------------------------------------------- de-identification


@dataclass
class DeidRules:
    missed: list[dict[str, Any]] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"missed": self.missed, "allow": self.allow}


def read_deid_rules(root: Path) -> DeidRules:
    data = _read_json(root / DEID_RULES, {})
    missed = []
    for m in data.get("missed", []):
        text = " ".join(str(m.get("text", "")).split())
        kind = m.get("kind", "person")
        if not text:
            continue
        if kind not in KINDS:
            raise PipelineError(
                f"{root / DEID_RULES}: unknown kind '{kind}'.",
                hint=f"Use one of: {', '.join(KINDS)}.",
            )
        missed.append({"text": text, "kind": kind, "person": m.get("person") or None})
    allow = [" ".join(str(a).split()) for a in data.get("allow", []) if str(a).strip()]
    return DeidRules(missed, allow)


def save_deid_rules(root: Path, rules: DeidRules) -> Path:
    return _save_json(root, DEID_RULES, rules.to_dict())


def deid_digest(root: Path) -> str:
    """For the de-identification and export stages' keys."""
    return file_digest(root, DEID_RULES)


def _pattern(text: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in text.split()]
    return re.compile(r"(?<![\w])" + r"\s+".join(words) + r"(?:['’]s)?(?![\w])", re.IGNORECASE)


def apply_deid_rules(
    texts: list[str], findings: list[list[Finding]], rules: DeidRules
) -> list[list[Finding]]:
    """The analyzer's findings without allowed texts, plus every missed name found.

    Missed names come after the analyzer's findings of a turn, so a longer name the
    analyzer found ("Dr. Kent Moore") still wins over its part ("Kent").
    """
    from pipeline.deid.presidio_engine import Finding
    from pipeline.deid.pseudonyms import normalize

    allowed = {normalize(a) for a in rules.allow}
    out: list[list[Finding]] = []
    for text, found in zip(texts, findings, strict=True):
        kept = [f for f in found if normalize(text[f.start : f.end]) not in allowed]
        for m in rules.missed:
            kind = "ROSTER_PERSON" if m.get("person") else KINDS[m["kind"]]
            for hit in _pattern(m["text"]).finditer(text):
                kept.append(Finding(hit.start(), hit.end(), kind, 1.0, "review", m.get("person")))
        out.append(kept)
    return out


def session_roster(manifest: SessionManifest | None, rules: DeidRules) -> Roster:
    """The session's de-identification roster with the missed names added (for the gate)."""
    from pipeline.deid.apply import roster_for

    people: list[Any] = list(manifest.protected_people()) if manifest else []
    orgs = list(manifest.organizations) if manifest else []
    places = list(manifest.places) if manifest else []
    for i, m in enumerate(rules.missed):
        if m["kind"] == "place":
            places.append(m["text"])
        elif m["kind"] == "org":
            orgs.append(m["text"])
        else:
            people.append(
                SimpleNamespace(id=m.get("person") or f"review-{i}", name=m["text"], aliases=[])
            )
    return roster_for(people, orgs, places)


# --------------------------------------------------------------------------- codes


def read_suggestions(root: Path) -> list[dict[str, Any]]:
    data = _read_json(root / SUGGESTIONS, [])
    if isinstance(data, dict):
        data = data.get("suggestions", [])
    return [s for s in data if isinstance(s, dict) and "code" in s and "segment_id" in s]


def read_code_review(root: Path) -> dict[str, Any]:
    data = _read_json(root / CODE_REVIEW, {})
    return {"decisions": dict(data.get("decisions", {})), "added": dict(data.get("added", {}))}


def code_key(segment_id: int | str, code: str) -> str:
    return f"{segment_id}|{code}"


def save_codes(
    root: Path, session_id: str, review: dict[str, Any], turns: list[tuple[int | str, str]]
) -> int:
    """Write the decisions and the codings (accepted and added codes per turn).

    ``turns``: (segment_id, de-identified text) of every turn. Returns coded turns.
    """
    _save_json(root, CODE_REVIEW, review)
    lines = []
    for sid, text in turns:
        codes = [
            k.split("|", 1)[1]
            for k, v in review["decisions"].items()
            if v == "accepted" and k.split("|", 1)[0] == str(sid)
        ]
        codes += [c for c in review["added"].get(str(sid), []) if c not in codes]
        if codes:
            lines.append(
                json.dumps(
                    {"session_id": session_id, "segment_id": sid, "text": text, "codes": codes},
                    ensure_ascii=False,
                )
            )
    make_dir((root / CODINGS).parent)
    write_text(root / CODINGS, "".join(line + "\n" for line in lines))
    return len(lines)


def version(root: Path) -> str:
    """The version of a session's review state: a save against another one is refused."""
    return file_digest(
        root,
        TEXT_EDITS,
        SPEAKER_ANSWERS,
        SPEAKER_EDITS,
        DEID_RULES,
        CODE_REVIEW,
        Path("review") / "state.json",
    )[:16]
