"""The clusterer saved in `segment_model`: K-Means with stable, deterministic segment ids."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.validation import check_is_fitted

ALGORITHMS = ("kmeans", "minibatch")


def segment_order(sizes: np.ndarray, centers: np.ndarray) -> list[int]:
    """Cluster positions in id order: largest segment first; equal sizes by centroid coordinates."""
    return sorted(range(len(sizes)), key=lambda c: (-sizes[c], *np.round(centers[c], 9)))


class OrderedKMeans(ClusterMixin, TransformerMixin, BaseEstimator):
    """K-Means (or mini-batch K-Means) whose segment ids are 1..k in a documented, stable order.

    K-Means numbers its clusters arbitrarily. Here segment 1 is the largest segment, 2 the next, and
    so on; segments of equal size are ordered by their centroid coordinates. The same partition
    therefore always gets the same ids, whatever `random_state` found it.

    Fitted attributes: `cluster_centers_` (in id order), `labels_` (ids 1..k), `segment_ids_`,
    `segment_sizes_`, `inertia_`, `n_features_in_`.
    """

    def __init__(
        self,
        n_clusters: int = 5,
        algorithm: str = "kmeans",
        n_init: int = 10,
        max_iter: int = 300,
        random_state: int | None = None,
        batch_size: int = 4096,
    ) -> None:
        self.n_clusters = n_clusters
        self.algorithm = algorithm
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.batch_size = batch_size

    def _estimator(self) -> KMeans | MiniBatchKMeans:
        if self.algorithm == "kmeans":
            return KMeans(
                self.n_clusters,
                n_init=self.n_init,
                max_iter=self.max_iter,
                random_state=self.random_state,
            )
        if self.algorithm == "minibatch":
            return MiniBatchKMeans(
                self.n_clusters,
                n_init=self.n_init,
                max_iter=self.max_iter,
                batch_size=self.batch_size,
                random_state=self.random_state,
            )
        raise ValueError(
            f"algorithm: expected one of {', '.join(ALGORITHMS)}, found {self.algorithm!r}"
        )

    def fit(self, X, y=None) -> OrderedKMeans:  # noqa: N803 (scikit-learn's signature)
        features = np.asarray(X, dtype=float)
        estimator = self._estimator().fit(features)
        raw_labels = pairwise_distances_argmin(features, estimator.cluster_centers_)
        sizes = np.bincount(raw_labels, minlength=self.n_clusters)
        order = segment_order(sizes, estimator.cluster_centers_)
        self.cluster_centers_ = estimator.cluster_centers_[order]
        self.segment_sizes_ = sizes[order]
        self.segment_ids_ = np.arange(1, self.n_clusters + 1)
        self.labels_ = self.predict(features)
        self.inertia_ = float(estimator.inertia_)
        self.n_features_in_ = features.shape[1]
        return self

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """Segment id (1..k) of the nearest centroid."""
        check_is_fitted(self, "cluster_centers_")
        return pairwise_distances_argmin(np.asarray(X, dtype=float), self.cluster_centers_) + 1

    def transform(self, X) -> np.ndarray:  # noqa: N803
        """Distance of every row to every centroid (columns in id order)."""
        check_is_fitted(self, "cluster_centers_")
        return euclidean_distances(np.asarray(X, dtype=float), self.cluster_centers_)
