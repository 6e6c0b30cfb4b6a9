"""Words to speakers: each word takes the voice it overlaps most; segments split
where the voice changes, so no sentence straddles two people.
"""

from __future__ import annotations

import numpy as np

from pipeline.diarize import Diarization
from pipeline.transcript import Segment, Transcript, Turn, Word
from pipeline.writers import speaker_labels

#: Time resolution of the speaker timeline (seconds).
RES = 0.01
#: A word in a gap between turns takes the nearest voice within this distance.
NEAREST_S = 1.0


def _timeline(d: Diarization, speakers: list[str], end: float) -> np.ndarray:
    """Cumulative talk per voice on a 10 ms grid: (T + 1, K)."""
    n = int(np.ceil(end / RES)) + 2
    active = np.zeros((n, len(speakers)), dtype=np.int32)
    index = {s: i for i, s in enumerate(speakers)}
    for t in d.turns:
        a, b = int(t.start / RES), int(np.ceil(t.end / RES))
        active[max(a, 0) : max(b, 0), index[t.speaker]] = 1
    return np.vstack([np.zeros((1, len(speakers)), dtype=np.int64), np.cumsum(active, axis=0)])


def _nearest(d: Diarization, start: float, end: float) -> str | None:
    best, gap = None, NEAREST_S
    for t in d.turns:
        g = max(t.start - end, start - t.end, 0.0)
        if g < gap:
            best, gap = t.speaker, g
    return best


def speaker_of_spans(d: Diarization, spans: list[tuple[float, float]]) -> list[str | None]:
    """For each (start, end), the voice with the largest overlap (or the nearest one)."""
    speakers = d.speakers()
    if not speakers or not spans:
        return [None] * len(spans)
    end = max(max(b for _, b in spans), max((t.end for t in d.turns), default=0.0))
    cum = _timeline(d, speakers, end)
    a = np.clip((np.array([s for s, _ in spans]) / RES).astype(int), 0, len(cum) - 1)
    b = np.clip(np.ceil(np.array([e for _, e in spans]) / RES).astype(int), 0, len(cum) - 1)
    b = np.maximum(b, a + 1).clip(max=len(cum) - 1)
    overlap = cum[b] - cum[a]
    out: list[str | None] = []
    for i, row in enumerate(overlap):
        if row.max() > 0:
            out.append(speakers[int(np.argmax(row))])
        else:
            out.append(_nearest(d, *spans[i]))
    return out


def assign_speakers(t: Transcript, d: Diarization) -> Transcript:
    """A copy of ``t`` whose words and segments carry speakers, split at voice changes."""
    spans = [(w.start, w.end) for s in t.segments for w in s.words]
    found = speaker_of_spans(d, spans + [(s.start, s.end) for s in t.segments])
    word_speakers = iter(found[: len(spans)])
    seg_speakers = found[len(spans) :]
    segments: list[Segment] = []
    for seg, fallback in zip(t.segments, seg_speakers, strict=True):
        if not seg.words:
            segments.append(Segment(0, seg.start, seg.end, seg.text, [], fallback))
            continue
        words = [
            Word(w.start, w.end, w.text, w.probability, next(word_speakers) or fallback)
            for w in seg.words
        ]
        segments += split_by_speaker(seg, words)
    for i, s in enumerate(segments):
        s.id = i
    return Transcript(
        session_id=t.session_id,
        source=t.source,
        language=t.language,
        segments=segments,
        speakers=t.speakers,
        deidentified=t.deidentified,
        provenance=list(t.provenance),
    )


def split_by_speaker(seg: Segment, words: list[Word]) -> list[Segment]:
    """One segment per run of words from the same voice."""
    runs: list[list[Word]] = []
    for w in words:
        if runs and runs[-1][-1].speaker == w.speaker:
            runs[-1].append(w)
        else:
            runs.append([w])
    if len(runs) == 1:
        return [Segment(0, seg.start, seg.end, seg.text, words, words[0].speaker)]
    out = []
    for i, run in enumerate(runs):
        start = seg.start if i == 0 else run[0].start
        end = seg.end if i == len(runs) - 1 else run[-1].end
        out.append(Segment(0, start, end, " ".join(w.text for w in run), run, run[0].speaker))
    return out


def turns(t: Transcript) -> list[Turn]:
    """Consecutive segments of one voice merged into turns."""
    labels = speaker_labels(t)
    out: list[Turn] = []
    for seg in t.segments:
        if not seg.text.strip():
            continue
        if out and out[-1].speaker == seg.speaker:
            last = out[-1]
            last.end = seg.end
            last.text = f"{last.text} {seg.text.strip()}"
            last.segment_ids.append(seg.id)
            continue
        out.append(
            Turn(
                seg.start,
                seg.end,
                seg.speaker,
                seg.role,
                labels.get(seg.speaker or "", seg.speaker),
                seg.text.strip(),
                [seg.id],
            )
        )
    return out
