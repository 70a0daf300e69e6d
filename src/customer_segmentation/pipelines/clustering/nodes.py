"""Nodes of the clustering pipeline: the final model, segment assignments and centroids."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from customer_segmentation.engine import is_spark, spark_module
from customer_segmentation.models import OrderedSegments
from customer_segmentation.pipelines.data_processing.features import categorical_blocks

from .statistics import numeric_columns, segment_statistics

logger = logging.getLogger(__name__)


def model_features_of(model: Pipeline) -> list[str]:
    """The raw-schema columns a segment model needs (those its transformer was fitted on)."""
    return list(model.named_steps["features"].feature_names_in_)


def fit_segment_model(
    customers: pd.DataFrame,
    feature_transformer: ColumnTransformer,
    cleaning_statistics: dict[str, Any],
    k_selection: dict[str, Any],
    algorithm_choice: dict[str, Any],
    params: dict[str, Any],
    comparison: dict[str, Any],
) -> Pipeline:
    """Fit the chosen algorithm (`algorithm_choice`) with the chosen k; return one sklearn Pipeline
    (transformer + `OrderedSegments`).

    The transformer is the one fitted by data_processing, reused as is, so `predict` on clean
    raw-schema customers applies exactly the training transformation and returns segment ids 1..k
    (0 = unassigned, density methods only). The algorithm's settings are
    `comparison.algorithms.<algorithm>`; above its `max_fit_rows` it is fitted on a seeded sample
    and every customer is assigned by `predict`.

    The model keeps what cleaning learned from the training customers (`cleaning_statistics_`: fill
    values and outlier fences), which scoring applies to new customers (`cleaning_statistics_of`).

    On Spark (`kedro run --env spark`) K-Means and bisecting K-Means are pyspark.ml's, fitted on
    every customer, and their centres become the same `OrderedSegments` (`spark.py`).
    """
    algorithm = algorithm_choice["algorithm"]
    options = dict(comparison["algorithms"][algorithm])
    if algorithm == "k_prototypes":
        options["categorical_blocks"] = categorical_blocks(feature_transformer)
    clusterer = OrderedSegments(
        n_clusters=int(k_selection["k"]),
        algorithm=algorithm,
        random_state=params["random_state"],
        options=options,  # native_estimator leaves out max_fit_rows
        max_fit_rows=options.get("max_fit_rows"),
        warm_start_rows=params.get("warm_start_sample_size"),
    )
    if is_spark(customers):
        customers_count = spark_module("clustering").fit(
            clusterer, customers, feature_transformer, comparison["sample_size"]
        )
    else:
        features = feature_transformer.transform(
            customers[list(feature_transformer.feature_names_in_)]
        )
        clusterer.fit(features)
        customers_count = len(customers)
    logger.info(
        "Fitted %s with %d segments on %d of %d customers; segment sizes %s",
        algorithm,
        len(clusterer.segment_ids_),
        clusterer.n_fit_rows_,
        customers_count,
        clusterer.segment_sizes_.tolist(),
    )
    model = Pipeline([("features", feature_transformer), ("segments", clusterer)])
    model.cleaning_statistics_ = cleaning_statistics
    return model


def cleaning_statistics_of(model: Pipeline) -> dict[str, Any] | None:
    """What cleaning learned at training, saved with the model (None for a model saved before models
    kept it)."""
    return getattr(model, "cleaning_statistics_", None)


def assign_segments(customers: pd.DataFrame, segment_model: Pipeline) -> pd.DataFrame:
    """Every customer with its `segment_id` (the model's `predict`: 0 = unassigned) and the distance
    to the nearest segment centroid (scaled units). On Spark the same, batch by batch (`spark.py`)."""
    if is_spark(customers):
        return spark_module("clustering").assign_segments(customers, segment_model)
    X = customers[model_features_of(segment_model)]  # noqa: N806
    # the model's preprocessing once, for both the segment ids and the distances
    features = segment_model[:-1].transform(X)
    segments = segment_model[-1]
    distances = segments.transform(features)
    assigned = customers.copy(deep=False)  # copy-on-write: the new columns only
    assigned["segment_id"] = segments.predict(features)
    assigned["distance_to_centroid"] = distances.min(axis=1)
    return assigned


def compute_centroids(assigned: pd.DataFrame, segment_model: Pipeline) -> pd.DataFrame:
    """Centroids in original units: per segment the mean of each numeric feature and the most common
    value of each categorical feature, with the segment size.

    For K-Means with a linear scaler and no transform the numeric means are exactly the
    inverse-scaled centroids.
    """
    features = model_features_of(segment_model)
    numeric = numeric_columns(assigned, features)
    statistics = segment_statistics(assigned, numeric, [f for f in features if f not in numeric])
    centroids = statistics.means.copy()
    for feature, counts in statistics.counts.items():
        centroids[feature] = counts.idxmax(axis=1)  # the most common; ties: the first in order
    centroids = centroids[features].reset_index()
    centroids.insert(1, "size", statistics.sizes.to_numpy())
    return centroids


def build_segmented_customers(
    assigned: pd.DataFrame, segment_profiles: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every kept customer with original columns, segment id, segment name and distance, in the
    order of the customer table (so the file lines up with the input; filter on `segment_id` for a
    segment's customers). Not re-sorting saves a full copy of the table: 0.5 GiB at 10M customers.

    Returned twice: once for the CSV dataset, once for the Parquet dataset. On Spark the same
    columns, in Spark's order (the Parquet dataset is partitioned by segment).
    """
    if is_spark(assigned):
        segmented = spark_module("clustering").name_segments(assigned, segment_profiles)
        return segmented, segmented
    names = segment_profiles.set_index("segment_id")["segment_name"]
    segmented = assigned.copy(deep=False).reset_index(drop=True)
    # the names as a categorical column (one code per customer, each name stored once): 0.45 GiB less
    # at 10M customers here and wherever the Parquet file is read (a dictionary column)
    codes = names.index.get_indexer(segmented["segment_id"])
    if (codes < 0).any():
        raise AssertionError("a segment without profile")
    segmented.insert(
        segmented.columns.get_loc("segment_id") + 1,
        "segment_name",
        pd.Categorical.from_codes(codes, categories=names.to_numpy()),
    )
    logger.info(
        "Segmented %d customers into %d segments", len(segmented), segmented["segment_id"].nunique()
    )
    return segmented, segmented  # the catalog writes it twice; neither dataset changes it
