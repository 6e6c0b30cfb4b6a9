"""Roles: which voice is the facilitator, which are staff, which are members.

In order of authority:
1. the RA's answers in ``speakers.review.yaml``;
2. enrolled voices (clips or saved profiles), matched one to one by cosine
   similarity, above a threshold;
3. what is said: self-introductions and being addressed by name
   (:mod:`pipeline.speakers.names`);
4. heuristics: the facilitator asks most of the questions and opens the session;
   in a staff interview the other voice is staff, in a member focus group the rest
   are members. Each guess carries a confidence.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from pipeline.config import RolesConfig
from pipeline.diarize import Diarization
from pipeline.diarize.clustering import assign_distinct
from pipeline.manifest import SessionManifest
from pipeline.speakers.assign import turns
from pipeline.speakers.labels import letter_label
from pipeline.speakers.names import match_by_name
from pipeline.transcript import Transcript

QUESTION_START = re.compile(
    r"^(what|how|why|when|where|who|which|could|can|would|do|does|did|is|are|have|has|"
    r"tell me|so what|and what|and how)\b",
    re.IGNORECASE,
)


@dataclass
class Voice:
    """One voice found in the recording and what the pipeline thinks of it."""

    id: str
    talk_time: float
    first_seen: float
    role: str = "unknown"
    person: str | None = None
    label: str = ""
    confidence: float = 0.0
    source: str = "heuristic"
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["talk_time"] = round(self.talk_time, 2)
        d["confidence"] = round(self.confidence, 3)
        return d


def is_question(text: str) -> bool:
    text = text.strip()
    return "?" in text or bool(QUESTION_START.match(text) and len(text.split()) >= 3)


def voice_stats(t: Transcript) -> dict[str, dict[str, float]]:
    """Talk time, first appearance and the share of turns that are questions, per voice."""
    stats: dict[str, dict[str, float]] = {}
    for w in t.words():
        if w.speaker:
            s = stats.setdefault(
                w.speaker, {"talk": 0.0, "first": w.start, "turns": 0, "questions": 0}
            )
            s["talk"] += w.end - w.start
            s["first"] = min(s["first"], w.start)
    for turn in turns(t):
        if turn.speaker in stats and len(turn.text.split()) >= 3:
            stats[turn.speaker]["turns"] += 1
            stats[turn.speaker]["questions"] += is_question(turn.text)
    return stats


def opener(t: Transcript) -> str | None:
    """The voice of the first real turn (three words or more)."""
    return next((x.speaker for x in turns(t) if len(x.text.split()) >= 3), None)


def match_enrolled(
    voices: list[Voice],
    centroids: dict[str, list[float]],
    enrolled: dict[str, np.ndarray],
    manifest: SessionManifest,
    threshold: float,
) -> None:
    """One-to-one match of voices to enrolled people, above ``threshold``."""
    free = [v for v in voices if v.source != "review" and v.id in centroids]
    taken = {v.person for v in voices if v.person}
    people = [pid for pid in enrolled if pid not in taken]
    if not free or not people:
        return
    sim = np.array([[float(np.dot(centroids[v.id], enrolled[p])) for p in people] for v in free])
    roles = {p.id: p.role for p in manifest.people}
    if len(free) <= len(people):
        cols = assign_distinct(sim)
        pairs = [(i, int(c)) for i, c in enumerate(cols)]
    else:
        rows = assign_distinct(sim.T)
        pairs = [(int(r), j) for j, r in enumerate(rows)]
    for i, j in pairs:
        s = sim[i, j]
        if s >= threshold:
            v = free[i]
            v.person, v.role, v.source = people[j], roles[people[j]], "enrollment"
            v.confidence = float(min(1.0, 0.75 + (s - threshold)))


def guess_roles(
    voices: list[Voice],
    t: Transcript,
    manifest: SessionManifest | None,
    stats: dict[str, dict[str, float]],
) -> None:
    """Facilitator by questions and opening; the rest by the session kind."""
    kind = manifest.kind if manifest else "other"
    open_voice = opener(t)
    open_ = [v for v in voices if v.source == "heuristic"]
    has_facilitator = any(v.role == "facilitator" for v in voices if v.source != "heuristic")
    wants_facilitator = (
        manifest is None or any(p.role == "facilitator" for p in manifest.people) or kind != "other"
    )
    if open_ and not has_facilitator and wants_facilitator and len(voices) > 1:

        def score(v: Voice) -> float:
            s = stats.get(v.id, {})
            ratio = s.get("questions", 0) / max(s.get("turns", 0), 1)
            return 0.7 * ratio + 0.3 * (v.id == open_voice)

        ranked = sorted(open_, key=score, reverse=True)
        best = ranked[0]
        gap = score(best) - (score(ranked[1]) if len(ranked) > 1 else 0.0)
        best.role = "facilitator"
        best.confidence = 0.5 + 0.5 * float(np.clip(gap / 0.35, 0, 1))
        if score(best) < 0.25:
            best.confidence = min(best.confidence, 0.5)
            best.notes.append("few questions: facilitator is a guess")
    rest = [v for v in open_ if v.role == "unknown"]
    default = {"staff_interview": "staff", "member_focus_group": "member"}.get(kind)
    unmatched = [
        p for p in (manifest.people if manifest else []) if p.id not in {v.person for v in voices}
    ]
    roles_left = {p.role for p in unmatched if p.role != "facilitator"}
    if len(roles_left) == 1:
        default = next(iter(roles_left))
    expected = (
        len([p for p in unmatched if p.role != "facilitator"])
        if manifest and manifest.people
        else None
    )
    for rank, v in enumerate(sorted(rest, key=lambda v: -v.talk_time)):
        if default is None:
            v.role, v.confidence = "unknown", 0.0
            continue
        v.role = default
        v.confidence = 0.9 if len(roles_left) <= 1 else 0.6
        if expected is not None and rank >= expected:
            v.confidence = 0.4
            v.notes.append("more voices than people listed in the manifest")


def name_people(voices: list[Voice], manifest: SessionManifest | None) -> None:
    """A role held by exactly one unmatched person and one voice: that voice is that person."""
    if not manifest:
        return
    taken = {v.person for v in voices if v.person}
    for role in ("facilitator", "staff", "member"):
        people = [p for p in manifest.people if p.role == role and p.id not in taken]
        holders = [v for v in voices if v.role == role and not v.person]
        if len(people) == 1 and len(holders) == 1:
            holders[0].person = people[0].id


def label_voices(voices: list[Voice], registry_labels: dict[str, str]) -> None:
    counters: dict[str, int] = {}
    facilitators = [v for v in voices if v.role == "facilitator"]
    for v in sorted(voices, key=lambda v: v.first_seen):
        if v.person and v.person in registry_labels:
            v.label = registry_labels[v.person]
        elif v.role == "facilitator" and len(facilitators) == 1:
            v.label = "FACILITATOR"
        else:
            n = counters.get(v.role, 0)
            counters[v.role] = n + 1
            v.label = letter_label(v.role, n)


def apply_answers(
    voices: list[Voice], answers: dict[str, dict[str, Any]], manifest: SessionManifest | None
) -> None:
    roles: dict[str, str] = {p.id: p.role for p in (manifest.people if manifest else [])}
    for v in voices:
        a = answers.get(v.id)
        if not a:
            continue
        if a.get("person"):
            v.person = a["person"]
            v.role = a.get("role") or roles.get(v.person, v.role)
        elif a.get("role"):
            v.role = a["role"]
        v.source, v.confidence = "review", 1.0


def assign_roles(
    t: Transcript,
    d: Diarization,
    manifest: SessionManifest | None,
    enrolled: dict[str, np.ndarray],
    answers: dict[str, dict[str, Any]],
    cfg: RolesConfig,
    overlaps: dict[str, list[tuple[float, float]]] | None = None,
) -> list[Voice]:
    """Voices with words (and voices only heard under others' words, ``overlaps``),
    with their roles and people."""
    stats = voice_stats(t)
    overlaps = overlaps or {}
    voices = [
        Voice(
            id=s,
            talk_time=stats.get(s, {}).get("talk", 0.0),
            first_seen=stats.get(s, {}).get("first", overlaps[s][0][0] if s in overlaps else 1e9),
        )
        for s in d.speakers()
        if s in stats or s in overlaps
    ]
    apply_answers(voices, answers, manifest)
    if manifest and enrolled:
        match_enrolled(voices, d.voices, enrolled, manifest, cfg.enrollment_threshold)
    match_by_name(voices, t, manifest)
    guess_roles(voices, t, manifest, stats)
    name_people(voices, manifest)
    return sorted(voices, key=lambda v: v.first_seen)


def needs_review(
    voices: list[Voice], manifest: SessionManifest | None, cfg: RolesConfig
) -> list[str]:
    """Why the RA should look at the speakers (empty: no review needed)."""
    if manifest is None:
        return []
    reasons = []
    for v in voices:
        if v.source == "review" or v.talk_time < cfg.min_talk_s:
            continue
        if v.role == "unknown":
            reasons.append(f"{v.id}: role unknown")
        elif v.confidence < cfg.review_below:
            reasons.append(f"{v.id}: {v.role} with confidence {v.confidence:.2f}")
    lo, _ = manifest.speaker_bounds()
    talkers = [v for v in voices if v.talk_time >= cfg.min_talk_s]
    if len(talkers) < lo:
        reasons.append(f"found {len(talkers)} voice(s); the manifest expects at least {lo}")
    return reasons


def apply_roles(
    t: Transcript,
    voices: list[Voice],
    overlaps: dict[str, list[tuple[float, float]]] | None = None,
) -> Transcript:
    """Speaker ids, roles and labels on every segment and word; voices of one person merged.

    ``overlaps`` (voice -> stretches heard under someone else's words, with no words of
    its own) go into each speaker entry as ``"overlaps": [[start, end], ...]``, which the
    writers show as ``[overlap: LABEL]``.
    """
    by_id = {v.id: v for v in voices}
    same_person: dict[str, str] = {}
    first_of: dict[str, str] = {}
    for v in voices:
        if v.person:
            same_person[v.id] = first_of.setdefault(v.person, v.id)
    for seg in t.segments:
        if seg.speaker in same_person:
            seg.speaker = same_person[seg.speaker]
        voice = by_id.get(seg.speaker or "")
        seg.role = voice.role if voice else ("unknown" if seg.speaker else None)
        for w in seg.words:
            if w.speaker in same_person:
                w.speaker = same_person[w.speaker]
    marks: dict[str, list[tuple[float, float]]] = {}
    for vid, spans in (overlaps or {}).items():
        marks.setdefault(same_person.get(vid, vid), []).extend(spans)
    t.speakers = []
    for v in voices:
        if same_person.get(v.id, v.id) != v.id:
            continue
        entry = v.to_dict()
        if marks.get(v.id):
            entry["overlaps"] = [[round(a, 2), round(b, 2)] for a, b in sorted(marks[v.id])]
        t.speakers.append(entry)
    return t
