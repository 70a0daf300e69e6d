"""The clustering nodes on Spark (`kedro run --env spark`).

K-Means and bisecting K-Means are fitted by pyspark.ml on every customer (the best of `n_init` starts) and exported into the same
scikit-learn `segment_model` (`OrderedSegments.from_centres`: ids by size, 1 = largest), so scoring and
everything downstream are unchanged. The other algorithms are fitted by scikit-learn on a seeded
sample (`max_fit_rows`, else `comparison.sample_size` rows), as on pandas above `max_fit_rows`.
Every customer is then assigned by the saved model's own `predict`, batch by batch on the executors
(they need this package installed, as a cluster needs any library a job uses); profiles and centroids
are Spark aggregations.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.clustering import BisectingKMeans, KMeans
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)
from pyspark.sql.types import DoubleType, IntegerType, StructField, StructType
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from customer_segmentation.models import OrderedSegments
from customer_segmentation.pipelines.data_processing.spark_features import feature_columns
from customer_segmentation.spark_frames import VECTOR, sample_to_pandas, with_vector

from . import nodes
from .statistics import SegmentStatistics

SPARK_FITS = ("kmeans", "bisecting_kmeans")
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
    """pyspark.ml's K-Means (k-means|| start for `init: k-means++`) or bisecting K-Means."""
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


def fit(
    clusterer: OrderedSegments,
    customers: DataFrame,
    transformer: ColumnTransformer,
    sample_size: int,
) -> int:
    """Fit `clusterer` (unfitted, with its algorithm and options) for the Spark table `customers`
    (the other algorithms on a seeded sample of `max_fit_rows`, else `sample_size` customers);
    return how many customers there are."""
    names = list(transformer.get_feature_names_out())
    features = customers.select(*feature_columns(transformer))
    if clusterer.algorithm in SPARK_FITS:
        vectors = with_vector(features, names, shift_for(clusterer.algorithm)).cache()
        options = {"init": "k-means++", "max_iter": clusterer.max_iter, **(clusterer.options or {})}
        model = fit_best(
            vectors, clusterer.n_clusters, options, int(clusterer.random_state), clusterer.algorithm
        )
        summary = model.summary
        clusterer.from_centres(
            centres_of(model, clusterer.algorithm),
            np.array(summary.clusterSizes),
            summary.trainingCost,
            n_fit_rows=vectors.count(),
        )
        vectors.unpersist()
        return clusterer.n_fit_rows_
    sample, customers_count = sample_to_pandas(
        features,
        clusterer.max_fit_rows or sample_size,
        int(clusterer.random_state),
        names,
    )
    clusterer.fit(sample[names].to_numpy(dtype=float))
    return customers_count


def assign_segments(customers: DataFrame, segment_model: Pipeline) -> DataFrame:
    """`nodes.assign_segments` on every Arrow batch of the Spark table (the model's own predict)."""
    schema = StructType(
        [
            *customers.schema.fields,
            StructField("segment_id", IntegerType(), False),
            StructField("distance_to_centroid", DoubleType(), False),
        ]
    )

    def assign(batches):
        for batch in batches:
            assigned = nodes.assign_segments(batch, segment_model)
            yield assigned.astype({"segment_id": "int32"})

    return customers.mapInPandas(assign, schema)


def segment_statistics(
    assigned: DataFrame, numeric: list[str], categorical: list[str]
) -> SegmentStatistics:
    """`statistics.segment_statistics` from Spark aggregations."""
    per_segment = (
        assigned.groupBy("segment_id")
        .agg(
            F.count(F.lit(1)).alias("_size"),
            *[F.avg(c).alias(f"mean_{c}") for c in numeric],
            *[F.median(c).alias(f"median_{c}") for c in numeric],
        )
        .orderBy("segment_id")
        .toPandas()
        .set_index("segment_id")
    )
    population = assigned.select(
        *[F.avg(c).alias(f"mean_{c}") for c in numeric],
        *[F.stddev_pop(c).alias(f"std_{c}") for c in numeric],
    ).first()

    def by_segment(prefix: str) -> pd.DataFrame:
        table = per_segment[[f"{prefix}_{c}" for c in numeric]].astype(float)
        return table.set_axis(numeric, axis=1)

    counts = {}
    for column in categorical:
        rows = (
            assigned.groupBy("segment_id", F.col(column).cast("string").alias(column))
            .count()
            .toPandas()
        )
        table = rows.pivot(index="segment_id", columns=column, values="count")
        counts[column] = table.reindex(per_segment.index).fillna(0).astype(int).sort_index(axis=1)
    sizes = per_segment["_size"].astype(int).rename(None)
    return SegmentStatistics(
        customers=int(sizes.sum()),
        sizes=sizes,
        means=by_segment("mean"),
        medians=by_segment("median"),
        population_mean=pd.Series({c: float(population[f"mean_{c}"]) for c in numeric}),
        population_std=pd.Series({c: float(population[f"std_{c}"]) for c in numeric}),
        counts=counts,
    )


def name_segments(assigned: DataFrame, segment_profiles: pd.DataFrame) -> DataFrame:
    """Every customer with `segment_name` after `segment_id` (Spark's row order)."""
    names = assigned.sparkSession.createDataFrame(
        segment_profiles[["segment_id", "segment_name"]].astype({"segment_id": "int32"})
    )
    columns = assigned.columns
    position = columns.index("segment_id") + 1
    ordered = [*columns[:position], "segment_name", *columns[position:]]
    return assigned.join(F.broadcast(names), "segment_id", "left").select(*ordered)
