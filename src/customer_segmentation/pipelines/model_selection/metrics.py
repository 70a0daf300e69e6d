"""Scores of one K-Means candidate: internal indices (and their bootstrap noise), gap statistic,
bootstrap stability.

Everything random takes a seed; silhouette, gap and stability work on seeded samples above their size
thresholds so that a sweep stays usable at a million customers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.cluster import BisectingKMeans, KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
)

from customer_segmentation.errors import DataValidationError

SWEEP_ALGORITHMS = {"kmeans": KMeans, "bisecting_kmeans": BisectingKMeans}


def make_kmeans(k: int, kmeans_params: dict[str, Any], random_state: int) -> KMeans:
    """K-Means (or bisecting K-Means, `algorithm`) with `init`, `n_init`, `max_iter` from
    parameters and the given seed."""
    algorithm = kmeans_params.get("algorithm", "kmeans")
    if algorithm not in SWEEP_ALGORITHMS:
        raise DataValidationError(
            "parameter model_selection.kmeans.algorithm: expected one of "
            f"{', '.join(SWEEP_ALGORITHMS)}, found {algorithm!r}"
        )
    return SWEEP_ALGORITHMS[algorithm](
        n_clusters=k,
        init=kmeans_params["init"],
        n_init=kmeans_params["n_init"],
        max_iter=kmeans_params["max_iter"],
        random_state=random_state,
    )


def seeded_sample(n_rows: int, size: int | None, random_state: int) -> np.ndarray:
    """Row positions of a seeded sample without replacement (all rows when `size` is None or ≥ n)."""
    if size is None or n_rows <= size:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(random_state).choice(n_rows, size=size, replace=False))


INDICES = ("silhouette", "calinski_harabasz", "davies_bouldin")


def internal_indices(
    features: np.ndarray,
    labels: np.ndarray,
    silhouette_rows: np.ndarray,
    resamples: list[tuple[np.ndarray, np.ndarray]] = (),
) -> dict[str, float]:
    """Silhouette (on `silhouette_rows`), Calinski-Harabasz and Davies-Bouldin of one labelling,
    and with `resamples` (`noise_resamples`) each index's bootstrap standard error, `<index>_se`:
    the spread of the index over the resampled rows, the labels kept. The silhouette's is that of
    the mean of the rows' own silhouette values, so it costs no second silhouette."""
    silhouettes = silhouette_samples(features[silhouette_rows], labels[silhouette_rows])
    indices = {
        "silhouette": float(silhouettes.mean()),
        "calinski_harabasz": float(calinski_harabasz_score(features, labels)),
        "davies_bouldin": float(davies_bouldin_score(features, labels)),
    }
    if len(resamples):
        replicates = np.array(
            [
                (
                    silhouettes[silhouette_draw].mean(),
                    calinski_harabasz_score(features[draw], labels[draw]),
                    davies_bouldin_score(features[draw], labels[draw]),
                )
                for draw, silhouette_draw in resamples
            ]
        )
        spread = replicates.std(axis=0, ddof=1)
        indices.update({f"{name}_se": float(se) for name, se in zip(INDICES, spread, strict=True)})
    return indices


def noise_resamples(
    n_rows: int, silhouette_rows: int, resamples: int, random_state: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`resamples` seeded bootstrap draws (with replacement) of the sweep's rows and of the
    silhouette's rows; every k is scored on the same draws."""
    rng = np.random.default_rng(random_state)
    return [
        (rng.integers(0, n_rows, n_rows), rng.integers(0, silhouette_rows, silhouette_rows))
        for _ in range(resamples)
    ]


def reference_log_wcss(
    features: np.ndarray, ks: list[int], references: int, kmeans_params: dict, random_state: int
) -> np.ndarray:
    """log(WCSS) for each k (columns) on each uniform reference dataset (rows) in the bounding box."""
    rng = np.random.default_rng(random_state)
    low, high = features.min(axis=0), features.max(axis=0)
    log_wcss = np.empty((references, len(ks)))
    for b in range(references):
        reference = rng.uniform(low, high, size=features.shape)
        for j, k in enumerate(ks):
            model = make_kmeans(k, {**kmeans_params, "n_init": 1}, random_state + b)
            log_wcss[b, j] = np.log(model.fit(reference).inertia_)
    return log_wcss


def gap_statistic(
    features: np.ndarray, ks: list[int], references: int, kmeans_params: dict, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Tibshirani's gap(k) = E*[log W_k] - log W_k and its standard error s_k, for each k in `ks`."""
    log_wcss = np.array(
        [np.log(make_kmeans(k, kmeans_params, random_state).fit(features).inertia_) for k in ks]
    )
    reference = reference_log_wcss(features, ks, references, kmeans_params, random_state)
    gap = reference.mean(axis=0) - log_wcss
    standard_error = reference.std(axis=0) * np.sqrt(1 + 1 / references)
    return gap, standard_error


def resample_stability(
    features: np.ndarray,
    reference_labels: np.ndarray,
    fit_labels: Callable[[np.ndarray, int], np.ndarray],
    resamples: int,
    random_state: int,
) -> tuple[float, float]:
    """Mean and spread of the adjusted Rand index between refits on bootstrap resamples
    (`fit_labels(rows' features, seed)`) and the reference labelling, compared on the rows each
    resample shares with the data."""
    rng = np.random.default_rng(random_state)
    scores = []
    for r in range(resamples):
        rows = np.unique(rng.integers(0, len(features), size=len(features)))
        labels = fit_labels(features[rows], random_state + r)
        scores.append(adjusted_rand_score(reference_labels[rows], labels))
    return float(np.mean(scores)), float(np.std(scores))


def bootstrap_stability(
    features: np.ndarray,
    reference_labels: np.ndarray,
    k: int,
    resamples: int,
    kmeans_params: dict,
    random_state: int,
) -> tuple[float, float]:
    """`resample_stability` of K-Means with `k` clusters."""
    return resample_stability(
        features,
        reference_labels,
        lambda rows, seed: make_kmeans(k, kmeans_params, seed).fit(rows).labels_,
        resamples,
        random_state,
    )
