import itertools

import numpy as np

from pipeline.chunking import plan_chunks


def test_short_audio_is_one_piece():
    assert plan_chunks(np.full(600, -20.0), chunk_s=60) == [(0.0, 60.0)]


def test_cuts_fall_in_quiet_stretches_and_cover_everything():
    levels = np.full(3000, -20.0)  # 300 s of speech at 100 ms frames
    quiet = [(540, 550), (1150, 1160), (1750, 1760), (2350, 2360)]  # ~55 s, 115 s, ...
    for a, b in quiet:
        levels[a:b] = -70.0
    pieces = plan_chunks(levels, chunk_s=60)
    assert pieces[0][0] == 0.0 and pieces[-1][1] == 300.0
    for (_, end), (start, _) in itertools.pairwise(pieces):
        assert end == start
        assert any(a / 10 <= end <= b / 10 for a, b in quiet), end
    assert all(b - a <= 60 * 1.25 + 1e-6 for a, b in pieces)
