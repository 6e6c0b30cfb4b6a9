import numpy as np

from pipeline.diarize.overlap import pieces, runs, same_stretch


def test_runs_bridge_short_pauses():
    active = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 1], dtype=bool)
    assert runs(active, join=1) == [(1, 5), (8, 10)]
    assert runs(active, join=0) == [(1, 3), (4, 5), (8, 10)]


def test_long_runs_are_cut_on_one_grid():
    # Pieces cut where offset + frame is a multiple of 4, never closer than 2 frames to
    # a run's ends: two windows starting 2 frames apart cut the same speech alike.
    assert pieces([(0, 10), (20, 23)], longest=4) == [(0, 4), (4, 8), (8, 10), (20, 23)]
    assert pieces([(0, 10)], longest=4, offset=2) == [(0, 2), (2, 6), (6, 10)]
    assert pieces([(1, 9)], longest=4) == [(1, 4), (4, 9)]
    assert all(b - a < 6 for a, b in pieces([(3, 40)], longest=4, offset=1))


def test_units_seen_by_several_windows_share_one_embedding():
    spans = [(100, 200, 7), (300, 350, 8)]
    assert same_stretch(spans, 105, 198) == 7
    assert same_stretch(spans, 150, 260) is None
    assert same_stretch(spans, 400, 450) is None
