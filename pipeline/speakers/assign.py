"""Words to speakers: each word takes the voice it is heard in, kept with the rest of
its sentence at turn changes (Viterbi over the words); segments split where the voice
changes, so no sentence straddles two people. Crosstalk the words do not show
(another voice heard under someone's words) is found for the transcript to mark.
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


#: Log-score cost of a change of voice between two words of one sentence; a change after
#: a sentence ends (. ? !), or across a pause, costs ``SWITCH_AT_BREAK``.
SWITCH_COST = 1.0
SWITCH_AT_BREAK = 0.1
#: A pause this long (seconds) between words is a break.
BREAK_S = 0.5
#: Floor of a word's overlap share with a voice (log scores stay finite).
FLOOR = 0.05
SENTENCE_END = (".", "?", "!", "…")


def overlap_shares(
    d: Diarization, spans: list[tuple[float, float]]
) -> tuple[list[str], np.ndarray]:
    """(voices, shares): the share of each span that each voice is heard in, (N, K)."""
    speakers = d.speakers()
    if not speakers or not spans:
        return speakers, np.zeros((len(spans), len(speakers)))
    end = max(max(b for _, b in spans), max((t.end for t in d.turns), default=0.0))
    cum = _timeline(d, speakers, end)
    a = np.clip((np.array([s for s, _ in spans]) / RES).astype(int), 0, len(cum) - 1)
    b = np.clip(np.ceil(np.array([e for _, e in spans]) / RES).astype(int), 0, len(cum) - 1)
    b = np.maximum(b, a + 1).clip(max=len(cum) - 1)
    return speakers, (cum[b] - cum[a]) / np.maximum(b - a, 1)[:, None]


def smooth_speakers(
    d: Diarization, words: list[Word], switch_cost: float | None = None
) -> list[str | None]:
    """Each word's voice, by Viterbi over the words in time order: a word's score for a
    voice is the log of the share of it that voice is heard in, and a change of voice
    inside a sentence costs ``switch_cost`` (little after . ? ! or a pause). At a turn
    change the words of a sentence stay with its speaker, where the largest overlap
    alone gives the first words of a turn to the voice still trailing off."""
    if not words:
        return []
    switch_cost = SWITCH_COST if switch_cost is None else switch_cost
    spans = [(w.start, w.end) for w in words]
    speakers, shares = overlap_shares(d, spans)
    if not speakers:
        return [None] * len(words)
    nearest = [
        _nearest(d, a, b) if row.max() <= 0 else None
        for (a, b), row in zip(spans, shares, strict=True)
    ]
    heard = shares.max(axis=1) > 0
    for i, who in enumerate(nearest):
        if who is not None:
            shares[i, speakers.index(who)] = 0.5
    score = np.log(FLOOR + shares)
    n, k = score.shape
    back = np.zeros((n, k), dtype=int)
    total = score[0].copy()
    for i in range(1, n):
        prev = words[i - 1]
        brk = prev.text.rstrip().endswith(SENTENCE_END) or words[i].start - prev.end >= BREAK_S
        cost = SWITCH_AT_BREAK if brk else switch_cost
        stay = total
        best = int(np.argmax(total))
        move = total[best] - cost
        back[i] = np.where(stay >= move, np.arange(k), best)
        total = np.maximum(stay, move) + score[i]
    path = [int(np.argmax(total))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    path.reverse()
    return [speakers[j] if heard[i] or nearest[i] is not None else None for i, j in enumerate(path)]


def assign_speakers(t: Transcript, d: Diarization) -> Transcript:
    """A copy of ``t`` whose words and segments carry speakers, split at voice changes."""
    spans = [(w.start, w.end) for s in t.segments for w in s.words]
    found = speaker_of_spans(d, [(s.start, s.end) for s in t.segments])
    ordered = sorted(range(len(spans)), key=lambda i: spans[i])
    flat = [w for s in t.segments for w in s.words]
    smoothed = smooth_speakers(d, [flat[i] for i in ordered])
    by_index: list[str | None] = [None] * len(spans)
    for i, who in zip(ordered, smoothed, strict=True):
        by_index[i] = who
    word_speakers = iter(by_index)
    seg_speakers = found
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


#: Crosstalk shorter than this (seconds) is not marked in the transcript.
OVERLAP_MIN_S = 0.5
#: Words of a voice this close (seconds) to its stretch mean it was transcribed.
OVERLAP_NEAR_S = 0.3


def _runs(mask: np.ndarray, join: int) -> list[tuple[int, int]]:
    """(first, last + 1) frame runs of ``mask``, joining gaps up to ``join`` frames."""
    out: list[tuple[int, int]] = []
    idx = np.flatnonzero(mask)
    if not len(idx):
        return out
    start = prev = int(idx[0])
    for f in idx[1:]:
        f = int(f)
        if f - prev > join + 1:
            out.append((start, prev + 1))
            start = f
        prev = f
    out.append((start, prev + 1))
    return out


def unvoiced_overlaps(
    t: Transcript, d: Diarization, min_s: float = OVERLAP_MIN_S
) -> dict[str, list[tuple[float, float]]]:
    """Crosstalk the words do not show: per voice, the stretches where diarization hears
    it while another voice's words are being transcribed, and it has no words itself.

    Whisper writes one speaker where two talk at once; these stretches are what the
    transcript marks as ``[overlap: LABEL]``.
    """
    speakers = d.speakers()
    words = [w for w in t.words() if w.speaker]
    if len(speakers) < 2 or not words:
        return {}
    end = max(max(w.end for w in words), max((x.end for x in d.turns), default=0.0))
    n = int(np.ceil(end / RES)) + 2
    index = {s: i for i, s in enumerate(speakers)}
    active = np.zeros((n, len(speakers)), dtype=bool)
    for x in d.turns:
        active[max(int(x.start / RES), 0) : max(int(np.ceil(x.end / RES)), 0), index[x.speaker]] = (
            True
        )
    spoken = np.zeros_like(active)
    near = np.zeros_like(active)
    pad = int(OVERLAP_NEAR_S / RES)
    for w in words:
        k = index.get(w.speaker or "")
        if k is None:
            continue
        a, b = int(w.start / RES), int(np.ceil(w.end / RES))
        spoken[a:b, k] = True
        near[max(a - pad, 0) : b + pad, k] = True
    out: dict[str, list[tuple[float, float]]] = {}
    for k, s in enumerate(speakers):
        others = np.delete(np.arange(len(speakers)), k)
        heard_under = (active[:, others] & spoken[:, others]).any(axis=1)
        mask = active[:, k] & heard_under & ~near[:, k]
        runs = [
            (round(a * RES, 2), round(b * RES, 2))
            for a, b in _runs(mask, int(0.3 / RES))
            if (b - a) * RES >= min_s
        ]
        if runs:
            out[s] = runs
    return out
