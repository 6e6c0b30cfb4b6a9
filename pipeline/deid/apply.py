"""De-identify a transcript: analyze each speaker turn, replace words, keep timings.

Each turn is analyzed as one text (names split across Whisper segments are still
found). The replacement goes through presidio-anonymizer (:mod:`pipeline.deid.redact`).
A finding replaces the words it covers: the first word takes the tag
(keeping what stood outside the name, "Rosa's," -> "[MEMBER-3]'s,"), the others
are dropped and the first word's end time stretches over them, so word
timestamps stay aligned with the replaced text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.deid import redact
from pipeline.deid.keystore import export_id
from pipeline.deid.presidio_engine import Finding
from pipeline.deid.pseudonyms import Pseudonymizer
from pipeline.deid.roster import Roster
from pipeline.transcript import Segment, Source, Transcript, Word


@dataclass
class Piece:
    """One word (or a whole segment without word timings) inside a turn's text."""

    segment: int
    word: int | None
    start: int
    end: int
    text: str
    #: For a segment without word timings, which of its whitespace-separated tokens.
    token: int = 0

    @property
    def key(self) -> tuple[int, int | None, int]:
        return (self.segment, self.word, self.token)


@dataclass
class Result:
    transcript: Transcript
    #: (start, end) seconds of every replaced word, for the bleeped audio.
    spans: list[tuple[float, float]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)


def turn_texts(t: Transcript) -> list[tuple[str, list[Piece]]]:
    """The text of every speaker turn, and where each word sits in it."""
    turns: list[tuple[str, list[Piece]]] = []
    last_speaker: object = object()
    for si, seg in enumerate(t.segments):
        if not turns or seg.speaker != last_speaker:
            turns.append(("", []))
        last_speaker = seg.speaker
        text, pieces = turns[-1]
        # A segment without word timings (a typed transcript) is cut into its
        # whitespace-separated tokens, so a name replaces only its own words and every
        # mention in the segment is found.
        units: list[tuple[int | None, int, str]] = (
            [(wi, 0, w.text) for wi, w in enumerate(seg.words)]
            if seg.words
            else [(None, k, tok) for k, tok in enumerate(seg.text.split())]
        )
        for wi, k, word in units:
            if not word:
                continue
            start = len(text) + (1 if text else 0)
            text = f"{text} {word}" if text else word
            pieces.append(Piece(si, wi, start, start + len(word), word, k))
        turns[-1] = (text, pieces)
    return turns


def deidentify(
    t: Transcript,
    findings: list[list[Finding]],
    turns: list[tuple[str, list[Piece]]],
    names: Pseudonymizer,
) -> Result:
    result = Result(t)
    new_words: dict[tuple[int, int | None, int], str | None] = {}
    new_end: dict[tuple[int, int | None, int], float] = {}
    for (text, pieces), found in zip(turns, findings, strict=True):
        # Which findings apply (the first to claim a word wins) and their tags, in text
        # order; then the anonymizer replaces them, and each replaced span goes back to
        # the words it covers.
        chosen: list[tuple[Finding, list[Piece]]] = []
        claimed: set[tuple[int, int | None, int]] = set()
        spans: list[tuple[int, int, str]] = []
        for f in found:
            covered = [p for p in pieces if p.start < f.end and f.start < p.end]
            if not covered or any(p.key in claimed for p in covered):
                continue
            claimed.update(p.key for p in covered)
            chosen.append((f, covered))
            spans.append((f.start, f.end, names.tag(f.type, text[f.start : f.end], f.key)))
        _, replaced = redact.replace(text, sorted(spans))
        order = sorted(range(len(spans)), key=lambda i: spans[i])
        for rank, i in enumerate(order):
            f, covered = chosen[i]
            first, last = covered[0], covered[-1]
            prefix = first.text[: max(0, f.start - first.start)]
            suffix = last.text[max(0, f.end - last.start) :]
            new_words[first.key] = prefix + replaced[rank] + suffix
            for p in covered[1:]:
                new_words[p.key] = None
            result.counts[f.type] += 1
            result.sources[f.source] += 1
            timed = [t.segments[p.segment].words[p.word] for p in covered if p.word is not None]
            if timed:
                new_end[first.key] = timed[-1].end
                result.spans.append((timed[0].start, timed[-1].end))
    result.transcript = _rebuild(t, new_words, new_end, speaker_labels(t, names))
    # What leaves names its recording by a random id that only the key maps back
    # (stable across reruns), never by the recording's hash.
    result.transcript.provenance.append(
        {"stage": "deid", "export_id": export_id(names.cw, names.session_id)}
    )
    return result


def speaker_labels(t: Transcript, names: Pseudonymizer) -> dict[str, str]:
    """Labels for speakers named by a typed transcript's turn headers (``header``).

    A roster person (the reader's match, or a header that is that person's name or part
    of it) gets the person's label; a role header ("Interviewer", "P3") stays; any other
    name gets a pseudonym ("PERSON-2"), recorded in the key like a name in the text.
    """
    from pipeline.typed import ROLE_HEADER

    out: dict[str, str] = {}
    for s in t.speakers:
        header = s.get("header")
        if not header or "id" not in s:
            continue
        pid = s.get("person")
        if pid not in names.roster_labels:
            pid = _header_person(header, names.roster_names)
        if ROLE_HEADER.match(" ".join(header.split())) and pid not in names.roster_labels:
            out[s["id"]] = " ".join(header.split())
            continue
        kind = "ROSTER_PERSON" if pid in names.roster_labels else "PERSON"
        out[s["id"]] = names.tag(kind, header, pid).strip("[]")
        # The key knows the label; the session's list of tags in the text stays in order.
        names.session.pop()
    return out


def _header_person(header: str, roster_names: dict[str, str]) -> str | None:
    from pipeline.deid.pseudonyms import normalize

    words = set(normalize(header).split())
    hits = [
        pid for pid, name in roster_names.items() if words and words <= set(normalize(name).split())
    ]
    return hits[0] if len(hits) == 1 else None


def _rebuild(
    t: Transcript,
    new_words: dict[tuple[int, int | None, int], str | None],
    new_end: dict[tuple[int, int | None, int], float],
    labels: dict[str, str] | None = None,
) -> Transcript:
    labels = labels or {}
    segments: list[Segment] = []
    for si, seg in enumerate(t.segments):
        if not seg.words:
            toks = seg.text.split()
            text = " ".join(
                x
                for k, tok in enumerate(toks)
                if (x := new_words.get((si, None, k), tok)) is not None
            )
            if text:
                segments.append(
                    Segment(len(segments), seg.start, seg.end, text, [], seg.speaker, seg.role)
                )
            continue
        words = []
        for wi, w in enumerate(seg.words):
            key = (si, wi, 0)
            if key in new_words and new_words[key] is None:
                continue
            words.append(
                Word(
                    w.start,
                    new_end.get(key, w.end),
                    new_words.get(key, w.text) or w.text,
                    w.probability,
                    w.speaker,
                )
            )
        if words:
            segments.append(
                Segment(
                    len(segments),
                    seg.start,
                    max(seg.end, words[-1].end),
                    " ".join(w.text for w in words),
                    words,
                    seg.speaker,
                    seg.role,
                )
            )
    return Transcript(
        session_id=t.session_id,
        source=Source(
            path=t.session_id,
            sha256="",  # the recording's hash stays in the restricted, identified transcript
            duration=t.source.duration,
            format=t.source.format,
            sample_rate=t.source.sample_rate,
            channels=t.source.channels,
        ),
        language=t.language,
        segments=segments,
        # Who a voice is stays in the key; the output keeps labels and roles only.
        # A typed transcript's turn header (a name) is replaced by its label.
        speakers=[
            {k: v for k, v in s.items() if k not in ("person", "notes", "header")}
            | ({"label": labels[s["id"]]} if s.get("id") in labels else {})
            for s in t.speakers
        ],
        deidentified=True,
        provenance=list(t.provenance),
    )


def roster_for(people: list[Any], organizations: list[str], places: list[str]) -> Roster:
    return Roster.build([(p.id, p.name, list(p.aliases)) for p in people], organizations, places)
