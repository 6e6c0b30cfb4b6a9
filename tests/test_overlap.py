import numpy as np

from pipeline.diarize.overlap import pieces, runs


def test_runs_bridge_short_pauses():
    active = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 1], dtype=bool)
    assert runs(active, join=1) == [(1, 5), (8, 10)]
    assert runs(active, join=0) == [(1, 3), (4, 5), (8, 10)]


def test_long_runs_are_cut_into_equal_pieces():
    # A run of 10 frames with pieces of at most 4: three pieces, none longer than 4.
    out = pieces([(0, 10), (20, 23)], longest=4)
    assert out == [(0, 3), (3, 7), (7, 10), (20, 23)]
    assert all(b - a <= 4 for a, b in out)
