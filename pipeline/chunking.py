"""Cut long recordings into pieces at quiet moments.

Whisper's feature extractor works on the whole array it is given; three hours at
once needs several GB. Pieces of about ``chunk_minutes`` keep memory flat, let a
rerun after a crash resume at the last finished piece, and drive the progress bar.
Cuts fall at the quietest half second near each target, so no word is split.
"""

from __future__ import annotations

import itertools

import numpy as np

from pipeline.ingest import FRAME_S

#: How far before each target point a cut may move to find a quiet moment
#: (and a quarter of this after it).
SEARCH_S = 60.0
#: Length of the quiet stretch looked for.
QUIET_S = 0.5


def plan_chunks(levels_db: np.ndarray, chunk_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of each piece, given 100 ms frame levels."""
    total = len(levels_db) * FRAME_S
    if total <= chunk_s * 1.25:
        return [(0.0, round(total, 3))]
    width = max(1, int(QUIET_S / FRAME_S))
    # Mean level over each half-second window starting at frame i.
    smooth = np.convolve(levels_db, np.ones(width) / width, mode="valid")
    cuts = [0.0]
    while total - cuts[-1] > chunk_s * 1.25:
        target = cuts[-1] + chunk_s
        lo = int(max(cuts[-1] + chunk_s / 2, target - SEARCH_S) / FRAME_S)
        hi = int(min(cuts[-1] + chunk_s * 1.25, target + SEARCH_S / 4) / FRAME_S)
        window = smooth[lo:hi]
        i = lo + int(np.argmin(window)) if window.size else hi
        # Cut in the middle of the quiet half second.
        cuts.append(round((i + width / 2) * FRAME_S, 3))
    cuts.append(round(total, 3))
    return list(itertools.pairwise(cuts))
