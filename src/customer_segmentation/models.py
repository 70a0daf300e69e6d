"""The clusterer saved in `segment_model`: any of the compared algorithms, with stable segment ids.

`OrderedSegments` wraps one clustering algorithm of scikit-learn (`ALGORITHMS`) behind one contract:
segment ids 1..k in a documented, stable order (1 = largest), `cluster_centers_` in that order, and a
`predict` for new customers, also for methods that have none of their own:

- k-means, mini-batch and bisecting k-means: the nearest centroid (what their own `predict` does);
- Gaussian mixture: the mixture's own `predict` (the most probable component);
- agglomerative (Ward): the nearest centroid of the clusters it found;
- k-prototypes (the `kmodes` package; mixed data): fitted on the numeric features and the category of
  each one-hot block (`options["categorical_blocks"]`), then the nearest centroid in feature space;
- HDBSCAN: the nearest centroid, unless the customer is farther from it than that segment's farthest
  member; such customers (and the ones HDBSCAN calls noise, where they lie beyond every segment) get
  segment 0, "Unassigned".

Above `max_fit_rows` the algorithm is fitted on a seeded sample and every customer is then assigned by
`predict`, so Ward's O(n^2) memory and HDBSCAN's growth stay bounded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from kmodes.kprototypes import KPrototypes
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import (
    HDBSCAN,
    AgglomerativeClustering,
    BisectingKMeans,
    KMeans,
    MiniBatchKMeans,
)
from sklearn.metrics import pairwise_distances_argmin
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.mixture import GaussianMixture
from sklearn.utils.validation import check_is_fitted

ALGORITHMS = (
    "kmeans",
    "minibatch_kmeans",
    "bisecting_kmeans",
    "agglomerative",
    "gaussian_mixture",
    "hdbscan",
    "k_prototypes",
)
ALIASES = {"minibatch": "minibatch_kmeans"}  # the name of earlier versions
# each algorithm in plain words, for the report, the explorer and the run's log
ALGORITHM_NAMES = {
    "kmeans": "k-means",
    "minibatch_kmeans": "mini-batch k-means",
    "bisecting_kmeans": "bisecting k-means",
    "agglomerative": "agglomerative clustering",
    "gaussian_mixture": "a Gaussian mixture",
    "hdbscan": "HDBSCAN",
    "k_prototypes": "k-prototypes",
}
CENTROID_METHODS = ("kmeans", "minibatch_kmeans", "bisecting_kmeans")
WARM_STARTABLE = ("kmeans", "minibatch_kmeans")
DENSITY_METHODS = ("hdbscan",)  # k is found, not given; some customers stay unassigned
UNASSIGNED = 0
UNASSIGNED_NAME = "Unassigned"  # default of clustering.unassigned.name


def canonical_algorithm(name: str) -> str:
    """The algorithm's name in `ALGORITHMS` (earlier names accepted); ValueError if unknown."""
    algorithm = ALIASES.get(name, name)
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {', '.join(ALGORITHMS)}, found {name!r}")
    return algorithm


def native_estimator(algorithm: str, k: int, options: dict[str, Any], random_state: int | None):
    """The estimator of `algorithm` with `k` clusters (HDBSCAN finds its own) and its options."""
    settings = {
        key: value
        for key, value in (options or {}).items()
        if key not in ("max_fit_rows", "categorical_blocks")
    }
    if algorithm == "hdbscan":
        return HDBSCAN(**{"copy": True, **settings})
    if algorithm == "agglomerative":
        return AgglomerativeClustering(k, **settings)
    estimator = {
        "kmeans": KMeans,
        "minibatch_kmeans": MiniBatchKMeans,
        "bisecting_kmeans": BisectingKMeans,
        "gaussian_mixture": GaussianMixture,
        "k_prototypes": KPrototypes,
    }[algorithm]
    return estimator(k, random_state=random_state, **settings)


def mixed_columns(features: np.ndarray, blocks: list[list[int]]) -> tuple[np.ndarray, list[int]]:
    """The numeric feature columns followed by one category code per one-hot block, and the
    positions of those codes (k-prototypes' input)."""
    in_blocks = {column for block in blocks for column in block}
    numeric = [c for c in range(features.shape[1]) if c not in in_blocks]
    codes = [features[:, block].argmax(axis=1) for block in blocks]
    mixed = np.column_stack([features[:, numeric], *codes]) if codes else features[:, numeric]
    return mixed, list(range(len(numeric), len(numeric) + len(codes)))


def segment_order(sizes: np.ndarray, centers: np.ndarray) -> list[int]:
    """Cluster positions in id order: largest segment first; equal sizes by centroid coordinates."""
    return sorted(range(len(sizes)), key=lambda c: (-sizes[c], *np.round(centers[c], 9)))


def fit_rows(n_rows: int, max_rows: int | None, random_state: int | None) -> np.ndarray:
    """Row positions the algorithm is fitted on: all, or a seeded sample of `max_rows`."""
    if max_rows is None or n_rows <= max_rows:
        return np.arange(n_rows)
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=int(max_rows), replace=False))


class OrderedSegments(ClusterMixin, TransformerMixin, BaseEstimator):
    """One clustering algorithm whose segment ids are 1..k in a documented, stable order.

    Segment 1 is the largest segment (by `predict` on the fitted rows), 2 the next, and so on; equal
    sizes are ordered by centroid coordinates. The same partition therefore always gets the same ids,
    whatever `random_state` found it. Segment 0 is "Unassigned" (density methods only).

    `options` are the algorithm's own settings (`comparison.algorithms.<name>` in parameters, e.g.
    `n_init`, `linkage`, `min_cluster_size`); `max_fit_rows` bounds the rows it is fitted on. With
    `warm_start_rows`, k-means and mini-batch k-means on more rows than that first run all their
    `n_init` starts on a seeded sample of that size, then one fit on every row from the sample's
    centroids (the same answer on well-separated data, in a fraction of the time).

    Fitted attributes: `cluster_centers_` (in id order), `labels_`, `segment_ids_`, `segment_sizes_`,
    `inertia_`, `n_features_in_`, `n_fit_rows_`, `radius_` (density methods).
    """

    def __init__(
        self,
        n_clusters: int = 5,
        algorithm: str = "kmeans",
        n_init: int = 10,
        max_iter: int = 300,
        random_state: int | None = None,
        batch_size: int = 4096,
        options: dict[str, Any] | None = None,
        max_fit_rows: int | None = None,
        warm_start_rows: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.algorithm = algorithm
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state
        self.batch_size = batch_size
        self.options = options
        self.max_fit_rows = max_fit_rows
        self.warm_start_rows = warm_start_rows

    def _options(self, algorithm: str) -> dict[str, Any]:
        if self.options is not None:
            return dict(self.options)
        # the k-means family's settings as constructor arguments (earlier versions' interface)
        defaults = {"n_init": self.n_init, "max_iter": self.max_iter}
        if algorithm == "minibatch_kmeans":
            defaults["batch_size"] = self.batch_size
        return defaults if algorithm in CENTROID_METHODS else {}

    def fit(self, X, y=None) -> OrderedSegments:  # noqa: N803 (scikit-learn's signature)
        features = np.asarray(X, dtype=float)
        algorithm = canonical_algorithm(self.algorithm)
        rows = fit_rows(len(features), self.max_fit_rows, self.random_state)
        sample = features[rows]
        estimator = native_estimator(
            algorithm, self.n_clusters, self._options(algorithm), self.random_state
        )
        if algorithm in WARM_STARTABLE and len(sample) > (self.warm_start_rows or len(sample)):
            start_rows = fit_rows(len(sample), self.warm_start_rows, self.random_state)
            start = estimator.fit(sample[start_rows]).cluster_centers_
            options = {**self._options(algorithm), "init": start, "n_init": 1}
            estimator = native_estimator(algorithm, self.n_clusters, options, self.random_state)
        if algorithm == "k_prototypes":
            blocks = self._options(algorithm).get("categorical_blocks") or []
            if not blocks:
                raise ValueError("k_prototypes needs categorical features (one-hot blocks)")
            mixed, categorical = mixed_columns(sample, blocks)
            estimator.fit(mixed, categorical=categorical)
        else:
            estimator.fit(sample)
        self.mixture_ = estimator if algorithm == "gaussian_mixture" else None
        if algorithm in CENTROID_METHODS:
            centers = estimator.cluster_centers_
        elif algorithm == "gaussian_mixture":
            centers = estimator.means_
        else:
            native = estimator.labels_
            clusters = np.unique(native[native >= 0])
            if len(clusters) == 0:
                raise ValueError(
                    f"{algorithm} found no cluster in {len(sample)} rows: every row is noise "
                    "(lower min_cluster_size in comparison.algorithms)"
                )
            centers = np.vstack([sample[native == c].mean(axis=0) for c in clusters])
            if algorithm in DENSITY_METHODS:
                distance = euclidean_distances(sample[native >= 0], centers)
                member = np.searchsorted(clusters, native[native >= 0])
                self._radius = np.array(
                    [distance[member == c, c].max() for c in range(len(clusters))]
                )
        self._algorithm = algorithm
        self._native_centers = centers
        native_ids = self._native_predict(features)
        self._number_segments(np.bincount(native_ids[native_ids >= 0], minlength=len(centers)))
        self.labels_ = self.predict(features)
        self.inertia_ = float(
            getattr(estimator, "inertia_", None)
            or ((features - self.cluster_centers_[self._nearest(features)]) ** 2).sum()
        )
        self.n_features_in_ = features.shape[1]
        self.n_fit_rows_ = len(rows)
        return self

    def from_centres(
        self, centres: np.ndarray, sizes: np.ndarray, inertia: float, n_fit_rows: int
    ) -> OrderedSegments:
        """The fitted state of a centroid method whose centres were found elsewhere (pyspark.ml's
        K-Means on Spark), given how many rows are nearest each centre: the same ids, order,
        `predict` and `transform` as `fit` would give. `labels_` is not kept (the rows stay on
        Spark)."""
        algorithm = canonical_algorithm(self.algorithm)
        if algorithm not in CENTROID_METHODS:
            raise ValueError(f"from_centres: {algorithm} is not a centroid method")
        self._algorithm = algorithm
        self._native_centers = np.asarray(centres, dtype=float)
        self.mixture_ = None
        self._number_segments(np.asarray(sizes, dtype=int))
        self.labels_ = None
        self.inertia_ = float(inertia)
        self.n_features_in_ = self._native_centers.shape[1]
        self.n_fit_rows_ = int(n_fit_rows)
        return self

    def _number_segments(self, sizes: np.ndarray) -> None:
        """Ids 1..k for the native clusters of these sizes: largest first (`segment_order`)."""
        centers = self._native_centers
        order = segment_order(sizes, centers)
        self.cluster_centers_ = centers[order]
        self.segment_sizes_ = sizes[order]
        self.segment_ids_ = np.arange(1, len(centers) + 1)
        self._id_of_native = np.empty(len(centers), dtype=int)
        self._id_of_native[order] = self.segment_ids_
        self.radius_ = self._radius[order] if self._algorithm in DENSITY_METHODS else None

    def _nearest(self, features: np.ndarray) -> np.ndarray:
        return pairwise_distances_argmin(features, self.cluster_centers_)

    def _native_predict(self, features: np.ndarray) -> np.ndarray:
        """Positions in the native centers (-1: beyond every density segment's radius)."""
        if self._algorithm == "gaussian_mixture":
            return self.mixture_.predict(features)
        nearest = pairwise_distances_argmin(features, self._native_centers)
        if self._algorithm in DENSITY_METHODS:
            distance = euclidean_distances(features, self._native_centers)
            far = distance[np.arange(len(features)), nearest] > self._radius[nearest]
            nearest = np.where(far, -1, nearest)
        return nearest

    def predict(self, X) -> np.ndarray:  # noqa: N803
        """Segment id of each row (1..k; 0 = unassigned, density methods only)."""
        check_is_fitted(self, "cluster_centers_")
        features = np.asarray(X, dtype=float)
        if getattr(self, "_algorithm", "kmeans") in CENTROID_METHODS:  # (earlier pickles: kmeans)
            return self._nearest(features) + 1
        native = self._native_predict(features)
        return np.where(native >= 0, self._id_of_native[np.maximum(native, 0)], UNASSIGNED)

    def transform(self, X) -> np.ndarray:  # noqa: N803
        """Distance of every row to every centroid (columns in id order)."""
        check_is_fitted(self, "cluster_centers_")
        return euclidean_distances(np.asarray(X, dtype=float), self.cluster_centers_)


# The name of earlier versions: saved models load as OrderedSegments.
OrderedKMeans = OrderedSegments
