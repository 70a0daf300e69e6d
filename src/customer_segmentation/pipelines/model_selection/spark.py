"""The k sweep on Spark (`kedro run --env spark`): `nodes.sweep_k` with pyspark.ml's K-Means.

For each k the model is fitted by Spark (the best of `n_init` starts) on the sweep's rows (every customer, or a seeded sample of
`sweep_sample_size`): WCSS is the model's training cost; the silhouette is Spark's
`ClusteringEvaluator` over the same rows (its squared-Euclidean silhouette, computed in O(N·k), so
no silhouette sample is needed); Calinski-Harabasz comes from the WCSS and the total sum of squares,
Davies-Bouldin from each segment's mean distance to its centre, both aggregated by Spark. The gap
statistic and bootstrap stability refit scikit-learn's K-Means many times on their own seeded samples
(`gap_sample_size`, `stability_sample_size` rows), as on pandas: those samples come to the driver,
and stability compares the refits with Spark's segments of the same rows.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.clustering import BisectingKMeans, KMeans
from pyspark.ml.evaluation import ClusteringEvaluator
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)
from sklearn.metrics import pairwise_distances, pairwise_distances_argmin

from customer_segmentation.spark_frames import VECTOR, sample_to_pandas, seeded_rows, with_vector

from .metrics import bootstrap_stability, gap_statistic
from .nodes import check_k_range, log_candidate, metrics_table

logger = logging.getLogger(__name__)

PREDICTION = "_segment"
# Spark's bisecting K-Means splits a cluster by nudging its centre in proportion to the centre's norm,
# so on standardised features (centre 0) it never splits. It runs on the features plus this constant
# (no distance changes) and its centres are shifted back.
BISECTING_SHIFT = 10.0
# ... and it runs every iteration of every bisection (it has no tolerance): Spark's default of 20 at
# most, where scikit-learn stops at convergence long before `max_iter`.
BISECTING_MAX_ITER = 20


def shift_for(algorithm: str) -> float:
    return BISECTING_SHIFT if algorithm == "bisecting_kmeans" else 0.0


def centres_of(model, algorithm: str) -> np.ndarray:
    """The fitted centres in the features' own coordinates."""
    return np.array(model.clusterCenters()) - shift_for(algorithm)


def spark_kmeans(k: int, kmeans: dict[str, Any], seed: int, algorithm: str = "kmeans"):
    """pyspark.ml's K-Means (k-means|| start for `init: k-means++`) or bisecting K-Means
    (`algorithm`, as `model_selection.kmeans.algorithm` chooses scikit-learn's)."""
    if algorithm == "bisecting_kmeans":
        return BisectingKMeans(
            k=k, seed=seed, maxIter=min(int(kmeans["max_iter"]), BISECTING_MAX_ITER),
            featuresCol=VECTOR, predictionCol=PREDICTION,
        )  # fmt: skip
    return KMeans(
        k=k,
        seed=seed,
        maxIter=int(kmeans["max_iter"]),
        initMode="random" if kmeans["init"] == "random" else "k-means||",
        featuresCol=VECTOR,
        predictionCol=PREDICTION,
    )


def fit_best(
    vectors: DataFrame, k: int, kmeans: dict[str, Any], seed: int, algorithm: str = "kmeans"
):
    """The lowest-cost of `n_init` pyspark.ml fits seeded seed, seed + 1, ... (scikit-learn's
    `n_init`: K-Means finds a local optimum, and one start can miss the best by far)."""
    best = None
    for start in range(int(kmeans.get("n_init", 1))):
        model = spark_kmeans(k, kmeans, seed + start, algorithm).fit(vectors)
        if best is None or model.summary.trainingCost < best.summary.trainingCost:
            best = model
    return best


def centre_distance(centres: np.ndarray, columns: list[str]):
    """Spark column: the Euclidean distance of each row to the centre of its segment."""
    return F.coalesce(
        *[
            F.when(
                F.col(PREDICTION) == j,
                F.sqrt(
                    sum((F.col(c) - float(v)) ** 2 for c, v in zip(columns, centre, strict=True))
                ),
            )
            for j, centre in enumerate(centres)
        ]
    )


def davies_bouldin(predictions: DataFrame, centres: np.ndarray, columns: list[str]) -> float:
    """Davies-Bouldin index: each segment's mean distance to its centre aggregated by Spark, then
    the mean over segments of the worst (s_i + s_j) / d(c_i, c_j)."""
    spread = dict(
        predictions.groupBy(PREDICTION)
        .agg(F.avg(centre_distance(centres, columns)).alias("s"))
        .collect()
    )
    present = sorted(spread)
    s = np.array([spread[j] for j in present])
    separation = pairwise_distances(centres[present])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (s[:, None] + s[None, :]) / separation
    np.fill_diagonal(ratio, -np.inf)
    return float(np.nanmax(ratio, axis=1).mean())


def sweep_k(model_features: DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """`nodes.sweep_k` on a Spark table of model features (the id first): the same `k_metrics`."""
    id_column, columns = model_features.columns[0], model_features.columns[1:]
    kmeans, seed = params["kmeans"], int(params["kmeans"]["random_state"])
    customers = model_features.count()
    algorithm = kmeans.get("algorithm", "kmeans")
    sweep = seeded_rows(model_features, params.get("sweep_sample_size"), seed, [id_column])
    vectors = with_vector(sweep, columns, shift_for(algorithm)).cache()
    n_rows = vectors.count()
    if n_rows < customers:
        logger.info("Sweeping k on a seeded sample of %d of %d customers", n_rows, customers)
    k_min, k_max = check_k_range(n_rows, sweep.select(*columns).distinct().count(), params)

    def driver_sample(size: int) -> np.ndarray:
        return sample_to_pandas(sweep, size, seed, [id_column])[0][columns].to_numpy(dtype=float)

    ks = list(range(1, k_max + 1))
    gap, gap_se = gap_statistic(
        driver_sample(params["gap_sample_size"]), ks, params["gap_references"], kmeans, seed
    )
    stability_rows = driver_sample(params["stability_sample_size"])
    variances = vectors.select(*[F.var_pop(c) for c in columns]).first()
    total = float(n_rows * sum(variances))  # WCSS of one segment: the total sum of squares
    silhouette = ClusteringEvaluator(featuresCol=VECTOR, predictionCol=PREDICTION)
    rows = []
    for i, k in enumerate(ks):
        started = time.perf_counter()
        model = (
            fit_best(vectors, k, kmeans, seed, kmeans.get("algorithm", "kmeans")) if k > 1 else None
        )
        wcss = float(model.summary.trainingCost) if model else total
        row: dict[str, Any] = {
            "k": k,
            "wcss": wcss,
            "gap": float(gap[i]),
            "gap_se": float(gap_se[i]),
        }
        if k >= k_min:
            centres = centres_of(model, algorithm)
            predictions = model.transform(vectors)
            row.update(
                silhouette=float(silhouette.evaluate(predictions)),
                silhouette_rows=n_rows,
                calinski_harabasz=((total - wcss) / (k - 1)) / (wcss / (n_rows - k))
                if wcss
                else 1.0,
                davies_bouldin=davies_bouldin(predictions, centres, columns),
            )
            if params["stability_resamples"]:
                labels = pairwise_distances_argmin(stability_rows, centres)
                mean, spread = bootstrap_stability(
                    stability_rows, labels, k, params["stability_resamples"], kmeans, seed
                )
                row.update(stability_mean=mean, stability_std=spread)
        row["fit_seconds"] = time.perf_counter() - started
        rows.append(row)
        log_candidate(row)
    vectors.unpersist()
    return metrics_table(rows, n_rows, customers)
