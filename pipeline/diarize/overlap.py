"""The default diarization engine: overlap-aware, in the manner of pyannote 3.

1. segmentation-3.0 marks up to three local speakers (overlap included) in 10 s
   windows sliding by ``step`` seconds;
2. every run of speech of a local speaker, pauses under ``join_gap`` bridged and
   cut into pieces of at most ``max_unit_s`` (a *unit*), gets an embedding, from
   the frames where it talks alone when there are enough. Units rather than whole
   local speakers, and pieces rather than whole runs, because the model can merge
   two similar voices into one local speaker of a window, even with no pause
   between them;
3. the embeddings of units with enough clean speech are clustered into voices
   within the manifest's bounds; every unit then takes its nearest voice, units
   talking at the same time taking different voices;
4. the windows are stitched back together; in each frame the ``count`` most
   active voices (count = how many people talk, from the segmentation) win, so
   overlapped stretches carry both speakers.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pipeline.diarize.clustering import centroids, cluster
from pipeline.diarize.embedding import Embedder
from pipeline.diarize.segmentation import SR, Segmentation, Segmenter, window

#: At most this many units are clustered (a 2,000 x 2,000 affinity matrix: 32 MB).
MAX_CLUSTERED = 2000


@dataclass
class OverlapOptions:
    #: Windows slide by this much (seconds). Smaller is finer and slower.
    step: float = 3.0
    #: Voices closer than this are one voice (a Ward linkage distance for ``ward``).
    threshold: float = 1.9
    #: A hierarchical linkage (scipy names: ward, average, centroid), or spectral.
    linkage: str = "ward"
    #: Branches of the tree less alike than this (cosine of centroids) stay apart.
    never_merge_below: float | None = 0.5
    #: Voices more alike than this (cosine of centroids) are then merged.
    always_merge_above: float | None = 0.84
    #: Voices backed by fewer units than this fold into the nearest voice.
    min_cluster_size: int = 2
    #: Pauses shorter than this (seconds) stay inside one unit.
    join_gap: float = 0.25
    #: Units shorter than this (seconds) are matched to voices but do not shape them.
    min_unit_s: float = 1.0
    #: Longer runs of speech are cut into equal pieces no longer than this (seconds).
    max_unit_s: float = 2.5


@dataclass
class Units:
    """Runs of speech of one local speaker in one window."""

    window: np.ndarray  # (U,) window index
    speaker: np.ndarray  # (U,) local speaker
    first: np.ndarray  # (U,) first frame (in the window)
    last: np.ndarray  # (U,) one past the last frame
    embedding: np.ndarray  # (U, D), NaN when too short to embed
    clean: np.ndarray  # (U,) enough single-speaker frames for clustering


def runs(active: np.ndarray, join: int) -> list[tuple[int, int]]:
    """[start, end) runs of True, with gaps of at most ``join`` frames bridged."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
    out: list[list[int]] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if out and a - out[-1][1] <= join:
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def pieces(spans: list[tuple[int, int]], longest: int, offset: int = 0) -> list[tuple[int, int]]:
    """Each [start, end) span cut where ``offset + frame`` is a multiple of ``longest``,
    except within ``longest / 2`` of its ends (no scraps too short to embed well).

    The cuts sit on one grid for the whole recording, so the windows that see the same
    speech cut it the same way (and can share its embeddings).
    """
    longest = max(longest, 1)
    out = []
    for a, b in spans:
        grid = range((offset + a) // longest * longest + longest - offset, b, longest)
        cuts = [x for x in grid if 2 * (x - a) >= longest and 2 * (b - x) >= longest]
        edges = [a, *cuts, b]
        out += [(int(x), int(y)) for x, y in itertools.pairwise(edges)]
    return out


#: Units whose spans overlap this much (intersection over union) are the same stretch.
SAME_STRETCH = 0.6


def same_stretch(recent: list[tuple[int, int, int]], first: int, last: int) -> int | None:
    """The row of the unit in ``recent`` spanning nearly [first, last), if any."""
    for a, b, row in recent:
        inter = min(b, last) - max(a, first)
        if inter > 0 and inter / (max(b, last) - min(a, first)) >= SAME_STRETCH:
            return row
    return None


def unit_embeddings(
    audio: np.ndarray,
    seg: Segmentation,
    embedder: Embedder,
    join_gap: float,
    max_unit_s: float = 2.5,
) -> Units:
    C, F, S = seg.activity.shape
    n_win = round(seg.window * embedder.rate)
    # Feature frame j of a window sits at time j/rate; map it to a segmentation frame.
    seg_index = np.clip(
        ((np.arange(n_win) + 0.5) / embedder.rate - seg.frame_start) / seg.frame_step, 0, F - 1
    ).astype(int)
    alone = seg.activity.sum(axis=2) == 1
    join = round(join_gap / seg.frame_step)
    longest = round(max_unit_s / seg.frame_step)
    win = round(seg.window * SR)
    rows: list[tuple[int, int, int, int, bool]] = []
    vectors: list[np.ndarray] = []
    blocks: list[np.ndarray] = []
    pending: list[int] = []
    # Windows overlap, so most speech is seen by several of them: a unit spanning the same
    # stretch as a unit already embedded, with nobody else talking in either, reuses its
    # embedding (the same speech of the same person) instead of running the model again.
    recent: list[tuple[int, int, int]] = []  # (first, last global frame, row)
    copies: list[tuple[int, int]] = []  # (row, row it copies)
    for c in range(C):
        start = round(seg.starts[c] * SR)
        feats = embedder.features(window(audio, start, min(win, max(0, seg.num_samples - start))))[
            :n_win
        ]
        idx = seg_index[: len(feats)]
        first = seg.first_frame(c)
        spans = [
            (s, a, b)
            for s in range(S)
            for a, b in pieces(runs(seg.activity[c, :, s] > 0, join), longest, first)
        ]
        fresh: list[tuple[int, int, int]] = []
        for s, a, b in spans:
            in_run = (idx >= a) & (idx < b)
            clean = in_run & (seg.activity[c, idx, s] > 0) & alone[c, idx]
            mask = clean if clean.sum() >= embedder.min_frames else in_run
            rows.append((c, s, a, b, bool(clean.sum() >= embedder.min_frames)))
            vectors.append(np.full(embedder.dim, np.nan, dtype=np.float32))
            row = len(rows) - 1
            solo = not any(s2 != s and a2 < b and a < b2 for s2, a2, b2 in spans)
            twin = same_stretch(recent, first + a, first + b) if solo else None
            if twin is not None:
                copies.append((row, twin))
                continue
            if solo:
                fresh.append((first + a, first + b, row))
            if mask.sum() >= 10:
                blocks.append(feats[mask])
                pending.append(row)
        next_start = seg.first_frame(c + 1) if c + 1 < C else first
        recent = [r for r in recent + fresh if r[1] > next_start]
        # Embed as we go: the features of a long recording would not fit in memory at once.
        if len(blocks) >= 64 or (c == C - 1 and blocks):
            for i, v in zip(pending, embedder.from_features(blocks), strict=True):
                vectors[i] = v
            blocks, pending = [], []
    for row, twin in copies:
        vectors[row] = vectors[twin]
    if not rows:
        empty = np.zeros(0, dtype=int)
        return Units(
            empty, empty, empty, empty, np.zeros((0, embedder.dim)), np.zeros(0, dtype=bool)
        )
    arr = np.array([r[:4] for r in rows])
    return Units(
        arr[:, 0],
        arr[:, 1],
        arr[:, 2],
        arr[:, 3],
        np.stack(vectors),
        np.array([r[4] for r in rows]),
    )


def assign_units(units: Units, cents: np.ndarray) -> np.ndarray:
    """Nearest voice per unit; units of one window that overlap in time get different voices."""
    sim = np.nan_to_num(units.embedding @ cents.T, nan=-1.0)
    hard = np.argmax(sim, axis=1)
    for c in np.unique(units.window):
        idx = np.flatnonzero(units.window == c)
        order = idx[np.argsort(-sim[idx, hard[idx]])]  # most certain first
        taken: list[tuple[int, int, int]] = []  # (first, last, voice)
        for u in order:
            busy = {k for a, b, k in taken if a < units.last[u] and units.first[u] < b}
            choices = [k for k in np.argsort(-sim[u]) if k not in busy]
            if choices:
                hard[u] = choices[0]
            taken.append((int(units.first[u]), int(units.last[u]), int(hard[u])))
    return hard


def diarize_overlap(
    audio: np.ndarray,
    segmenter: Segmenter,
    embedder: Embedder,
    *,
    min_speakers: int = 1,
    max_speakers: int = 20,
    options: OverlapOptions | None = None,
) -> tuple[list[tuple[float, float, int]], np.ndarray]:
    """(start, end, voice) turns, possibly overlapping, and the voices' centroids."""
    opt = options or OverlapOptions()
    seg = segmenter(audio)
    units = unit_embeddings(audio, seg, embedder, opt.join_gap, opt.max_unit_s)
    has_vec = ~np.isnan(units.embedding).any(axis=1)
    long_enough = (units.last - units.first) * seg.frame_step >= opt.min_unit_s
    good = units.clean & has_vec & long_enough
    if not good.any():
        good = has_vec
    if not good.any():
        return [], np.zeros((0, embedder.dim))
    if good.sum() > MAX_CLUSTERED:
        # Hours of speech: the longest units shape the voices (clustering memory grows with
        # the square of their number); every unit is still matched to a voice below.
        length = np.where(good, units.last - units.first, -1)
        good = np.zeros_like(good)
        good[np.argsort(-length)[:MAX_CLUSTERED]] = True
    x = units.embedding[good]
    labels = cluster(
        x,
        threshold=opt.threshold,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        method=opt.linkage,
        min_cluster_size=opt.min_cluster_size,
        never_merge_below=opt.never_merge_below,
        always_merge_above=opt.always_merge_above,
    )
    cents = centroids(x, labels)
    hard = assign_units(units, cents)
    C, F, _S = seg.activity.shape
    clustered = np.full((C, F, len(cents)), np.nan)
    # A window's voice is silent (0) where none of its units talk, unknown (NaN) if unused.
    for u in range(len(hard)):
        c, s, k = units.window[u], units.speaker[u], hard[u]
        a, b = units.first[u], units.last[u]
        col = clustered[c, :, k]
        col[np.isnan(col)] = 0.0
        col[a:b] = np.maximum(col[a:b], seg.activity[c, a:b, s])
    return stitch(seg, clustered), cents


def stitch(seg: Segmentation, clustered: np.ndarray) -> list[tuple[float, float, int]]:
    """Turns from per-window voice activity (C, F, K): in each frame the ``count`` most
    active voices, count being how many people the segmentation hears."""
    activations = seg.aggregate(clustered, average=False)
    count = np.minimum(seg.speaker_count(), clustered.shape[2])
    ranked = np.argsort(-activations, axis=1)
    binary = np.zeros_like(activations, dtype=bool)
    for t in range(len(binary)):
        binary[t, ranked[t, : count[t]]] = True
    return _to_turns(binary, seg)


def _to_turns(binary: np.ndarray, seg: Segmentation) -> list[tuple[float, float, int]]:
    turns = []
    end_of_audio = seg.num_samples / SR
    for k in range(binary.shape[1]):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], binary[:, k].astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            start = seg.frame_start + a * seg.frame_step + seg.frame_duration / 2
            end = min(seg.frame_start + b * seg.frame_step + seg.frame_duration / 2, end_of_audio)
            if end > start:
                turns.append((round(start, 3), round(end, 3), k))
    return sorted(turns)
