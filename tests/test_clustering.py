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


@pytest.mark.parametrize("method", ["average", "centroid", "spectral"])
@pytest.mark.parametrize("k", [2, 4, 6])
def test_finds_the_voices(method, k):
    x, truth = blobs(k)
    labels = cluster(x, threshold=0.65, method=method)
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
