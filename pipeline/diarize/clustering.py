"""Group speaker embeddings into voices, with the number of voices bounded.

Two families, picked by ``linkage``:
- ``spectral`` (default): the number of voices from the largest eigengap of a
  pruned affinity matrix, then voices closer than ``threshold`` merged;
- hierarchical (``average``, ``centroid``, ``ward``, ...): the tree is cut at a
  distance ``threshold``.
Either way the count is clipped to the manifest's bounds and tiny clusters fold
into their nearest large one.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage, to_tree
from scipy.optimize import linear_sum_assignment

from pipeline.diarize.embedding import unit_length

#: Spectral clustering needs this many embeddings; fewer are clustered by average
#: linkage cut at ``FALLBACK_THRESHOLD``.
SPECTRAL_MIN = 8
FALLBACK_THRESHOLD = 1.0


def cluster(
    x: np.ndarray,
    *,
    threshold: float,
    min_speakers: int = 1,
    max_speakers: int = 20,
    method: str = "ward",
    min_cluster_size: int = 2,
    never_merge_below: float | None = None,
    always_merge_above: float | None = None,
) -> np.ndarray:
    """Cluster labels 0..K-1 for unit vectors ``x`` (N, D).

    Ward distances grow with the size of the clusters, so for hierarchical methods two
    cosine guards on the clusters' centroids keep the cut fair at any length:
    - ``never_merge_below``: two branches less alike than this stay apart (a short
      recording gives small clusters, whose Ward distance is small even between
      distinct voices);
    - ``always_merge_above``: afterwards, voices more alike than this merge (on a
      long recording one voice can be cut in two; its halves stay alike).
    """
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    lo, hi = min(min_speakers, n), min(max_speakers, n)
    if method == "spectral" and n <= SPECTRAL_MIN:
        method, threshold = "average", FALLBACK_THRESHOLD
    if method == "spectral":
        labels = spectral(x, lo, hi)
        labels = _fold_small(x, labels, min_cluster_size, lo)
        labels = merge_close(x, labels, 1 - threshold**2 / 2, lo)
    else:
        z = linkage(x, method=method, metric="euclidean")
        labels = cut_tree(x, z, threshold, never_merge_below)
        k = labels.max() + 1
        if not lo <= k <= hi:
            labels = fcluster(z, int(np.clip(k, lo, hi)), criterion="maxclust") - 1
        labels = _fold_small(x, labels, min_cluster_size, lo)
    if always_merge_above is not None:
        labels = merge_close(x, labels, always_merge_above, lo)
    # Renumber by first appearance so labels are stable and dense.
    _, first = np.unique(labels, return_index=True)
    order = {old: new for new, old in enumerate(labels[np.sort(first)])}
    return np.array([order[v] for v in labels])


def cut_tree(x: np.ndarray, z: np.ndarray, threshold: float, min_cos: float | None) -> np.ndarray:
    """Labels from cutting the tree ``z`` at ``threshold``, and also wherever the two
    branches' centroids have a cosine similarity under ``min_cos``."""
    labels = np.zeros(len(x), dtype=int)
    todo = [to_tree(z)]
    k = 0
    while todo:
        node = todo.pop()
        leaves = node.pre_order()
        if not node.is_leaf():
            left, right = node.get_left(), node.get_right()
            split = node.dist > threshold
            if not split and min_cos is not None:
                a, b = (
                    unit_length(x[left.pre_order()].mean(axis=0)),
                    unit_length(x[right.pre_order()].mean(axis=0)),
                )
                split = float(a @ b) < min_cos
            if split:
                todo += [right, left]
                continue
        labels[leaves] = k
        k += 1
    return labels


def spectral(x: np.ndarray, lo: int, hi: int, keep: float = 0.012, min_keep: int = 6) -> np.ndarray:
    """Spectral clustering with the count from the largest eigengap (3D-Speaker's recipe).

    Each row of the cosine affinity keeps only its strongest ``keep`` share of
    neighbours (at least ``min_keep``); the gap between consecutive Laplacian
    eigenvalues then tells how many voices there are, within [lo, hi].
    """
    from sklearn.cluster import KMeans

    n = len(x)
    if n <= min_keep + 1:
        return np.zeros(n, dtype=int)
    a = x @ x.T
    drop = min(int((1 - keep) * n), n - min_keep)
    for i in range(n):
        a[i, np.argsort(a[i])[:drop]] = 0.0
    a = 0.5 * (a + a.T)
    np.fill_diagonal(a, 0.0)
    lap = np.diag(np.abs(a).sum(axis=1)) - a
    values, vectors = np.linalg.eigh(lap)
    gaps = np.diff(values[max(lo, 1) - 1 : hi + 1])
    k = int(np.argmax(gaps)) + max(lo, 1) if len(gaps) else 1
    if k <= 1:
        return np.zeros(n, dtype=int)
    return KMeans(n_clusters=k, random_state=0, n_init=10).fit_predict(vectors[:, :k])


def merge_close(x: np.ndarray, labels: np.ndarray, min_cos: float, lo: int) -> np.ndarray:
    """Merge voices whose centroids are more similar than ``min_cos`` (not below ``lo`` voices)."""
    labels = labels.copy()
    while len(np.unique(labels)) > max(lo, 1):
        ids = np.unique(labels)
        c = centroids_of(x, labels, ids)
        sim = np.triu(c @ c.T, 1)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        if sim[i, j] < min_cos:
            break
        labels[labels == ids[j]] = ids[i]
    return labels


def centroids_of(x: np.ndarray, labels: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Unit-length mean of the rows of ``x`` labelled with each of ``ids``."""
    if not len(ids):
        return np.zeros((0, x.shape[1]))
    return unit_length(np.stack([x[labels == j].mean(axis=0) for j in ids]))


def _fold_small(x: np.ndarray, labels: np.ndarray, min_size: int, min_speakers: int) -> np.ndarray:
    sizes = np.bincount(labels)
    large = [k for k in range(len(sizes)) if sizes[k] >= min_size]
    if not large or len(large) < min_speakers or len(large) == len(sizes):
        return labels
    cents = centroids(x, labels)
    out = labels.copy()
    for i, k in enumerate(labels):
        if sizes[k] < min_size:
            out[i] = large[int(np.argmax(cents[large] @ x[i]))]
    return out


def centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return centroids_of(x, labels, np.arange(labels.max() + 1 if len(labels) else 0))


def assign_distinct(sim: np.ndarray) -> np.ndarray:
    """Give each row (a local speaker) a different column (a voice), best total similarity.

    Rows left over when there are more rows than columns get their best column.
    """
    rows, cols = linear_sum_assignment(-sim)
    out = np.argmax(sim, axis=1)
    out[rows] = cols
    return out
