"""De-identify a transcript: analyze each speaker turn, replace words, keep timings.

Each turn is analyzed as one text (names split across Whisper segments are still
found). A finding replaces the words it covers: the first word takes the tag
(keeping what stood outside the name, "Rosa's," -> "[MEMBER-3]'s,"), the others
are dropped and the first word's end time stretches over them, so word
timestamps stay aligned with the replaced text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

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
        units = (
            [(wi, w.text) for wi, w in enumerate(seg.words)]
            if seg.words
            else [(None, seg.text.strip())]
        )
        for wi, word in units:
            if not word:
                continue
            start = len(text) + (1 if text else 0)
            text = f"{text} {word}" if text else word
            pieces.append(Piece(si, wi, start, start + len(word), word))
        turns[-1] = (text, pieces)
    return turns


def deidentify(
    t: Transcript,
    findings: list[list[Finding]],
    turns: list[tuple[str, list[Piece]]],
    names: Pseudonymizer,
) -> Result:
    result = Result(t)
    new_words: dict[tuple[int, int | None], str | None] = {}
    new_end: dict[tuple[int, int | None], float] = {}
    for (text, pieces), found in zip(turns, findings, strict=True):
        for f in found:
            covered = [p for p in pieces if p.start < f.end and f.start < p.end]
            if not covered or any((p.segment, p.word) in new_words for p in covered):
                continue
            tag = names.tag(f.type, text[f.start : f.end], f.key)
            first, last = covered[0], covered[-1]
            prefix = first.text[: max(0, f.start - first.start)]
            suffix = last.text[max(0, f.end - last.start) :]
            new_words[(first.segment, first.word)] = prefix + tag + suffix
            for p in covered[1:]:
                new_words[(p.segment, p.word)] = None
            result.counts[f.type] += 1
            result.sources[f.source] += 1
            timed = [t.segments[p.segment].words[p.word] for p in covered if p.word is not None]
            if timed:
                new_end[(first.segment, first.word)] = timed[-1].end
                result.spans.append((timed[0].start, timed[-1].end))
    result.transcript = _rebuild(t, new_words, new_end)
    return result


def _rebuild(
    t: Transcript,
    new_words: dict[tuple[int, int | None], str | None],
    new_end: dict[tuple[int, int | None], float],
) -> Transcript:
    segments: list[Segment] = []
    for si, seg in enumerate(t.segments):
        if not seg.words:
            text = new_words.get((si, None), seg.text.strip())
            if text:
                segments.append(
                    Segment(len(segments), seg.start, seg.end, text, [], seg.speaker, seg.role)
                )
            continue
        words = []
        for wi, w in enumerate(seg.words):
            key = (si, wi)
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
            sha256=t.source.sha256,
            duration=t.source.duration,
            format=t.source.format,
            sample_rate=t.source.sample_rate,
            channels=t.source.channels,
        ),
        language=t.language,
        segments=segments,
        # Who a voice is stays in the key; the output keeps labels and roles only.
        speakers=[{k: v for k, v in s.items() if k not in ("person", "notes")} for s in t.speakers],
        deidentified=True,
        provenance=list(t.provenance),
    )


def roster_for(people: list[Any], organizations: list[str], places: list[str]) -> Roster:
    return Roster.build([(p.id, p.name, list(p.aliases)) for p in people], organizations, places)
