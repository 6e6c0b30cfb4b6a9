import numpy as np
import pytest

from pipeline.diarize.clustering import assign_distinct, centroids, cluster


def blobs(k, n=20, spread=0.15, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    x = np.concatenate([c + spread * rng.normal(size=(n, dim)) for c in centers])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat(np.arange(k), n)


def purity(labels, truth):
    return sum(np.bincount(truth[labels == k]).max() for k in np.unique(labels)) / len(truth)


@pytest.mark.parametrize("method", ["ward", "average", "centroid", "spectral"])
@pytest.mark.parametrize("k", [2, 4, 6])
def test_finds_the_voices(method, k):
    x, truth = blobs(k)
    labels = cluster(x, threshold=1.9 if method == "ward" else 0.65, method=method)
    assert labels.max() + 1 == k
    assert purity(labels, truth) > 0.95


def test_bounds_win_over_the_threshold():
    x, _ = blobs(4)
    assert cluster(x, threshold=0.65, max_speakers=2).max() + 1 == 2
    assert cluster(x, threshold=10.0, min_speakers=3).max() + 1 >= 3


def test_tiny_clusters_fold_into_big_ones():
    x, _ = blobs(2, n=20)
    odd = np.random.default_rng(1).normal(size=(1, x.shape[1]))
    x = np.vstack([x, odd / np.linalg.norm(odd)])
    labels = cluster(x, threshold=0.65, min_cluster_size=2)
    assert labels.max() + 1 == 2


def test_assign_distinct_and_centroids():
    sim = np.array([[0.9, 0.8], [0.95, 0.1], [0.2, 0.3]])
    assert list(assign_distinct(sim)) == [1, 0, 1]
    x, truth = blobs(3)
    c = centroids(x, truth)
    assert np.allclose(np.linalg.norm(c, axis=1), 1.0)


def test_ward_keeps_distinct_voices_of_a_short_recording_apart():
    # Three embeddings per voice, voices 0.45 alike: the Ward distance of such small
    # clusters is under the 1.9 cut, so without the guard they merge.
    rng = np.random.default_rng(2)
    a = np.eye(16)[0]
    b = 0.45 * a + np.sqrt(1 - 0.45**2) * np.eye(16)[1]
    x = np.concatenate([c + 0.03 * rng.normal(size=(3, 16)) for c in (a, b)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert cluster(x, threshold=1.9, method="ward").max() + 1 == 1
    labels = cluster(x, threshold=1.9, method="ward", never_merge_below=0.5)
    assert list(labels) == [0, 0, 0, 1, 1, 1]


def test_one_voice_cut_in_two_is_merged_back():
    # A long recording: one voice drifts (two close groups of 200) beside a distinct one.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=16), rng.normal(size=16)
    drift = a + 0.25 * np.linalg.norm(a) / 4 * rng.normal(size=16)
    x = np.concatenate([c + 0.3 * rng.normal(size=(200, 16)) for c in (a, drift, b)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    assert cluster(x, threshold=1.9, method="ward").max() + 1 == 3
    merged = cluster(x, threshold=1.9, method="ward", always_merge_above=0.84)
    assert merged.max() + 1 == 2
    assert len(set(merged[:400])) == 1
