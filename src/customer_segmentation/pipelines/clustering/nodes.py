"""Nodes of the clustering pipeline: the final model, segment assignments and centroids."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from customer_segmentation.errors import DataValidationError
from customer_segmentation.models import ALGORITHMS, OrderedKMeans
from customer_segmentation.schema import schema_from_dict

logger = logging.getLogger(__name__)


def model_features_of(model: Pipeline) -> list[str]:
    """The raw-schema columns a segment model needs (those its transformer was fitted on)."""
    return list(model.named_steps["features"].feature_names_in_)


def fit_segment_model(
    customers: pd.DataFrame,
    feature_transformer: ColumnTransformer,
    k_selection: dict[str, Any],
    params: dict[str, Any],
) -> Pipeline:
    """Fit the final K-Means with the chosen k; return one sklearn Pipeline (transformer + clusterer).

    The transformer is the one fitted by data_processing, reused as is, so `predict` on clean
    raw-schema customers applies exactly the training transformation and returns segment ids 1..k.
    """
    if params["algorithm"] not in ALGORITHMS:
        raise DataValidationError(
            f"parameter clustering.algorithm: expected one of {', '.join(ALGORITHMS)}, found {params['algorithm']!r}"
        )
    k = int(k_selection["k"])
    features = feature_transformer.transform(customers[list(feature_transformer.feature_names_in_)])
    clusterer = OrderedKMeans(
        n_clusters=k,
        algorithm=params["algorithm"],
        n_init=params["n_init"],
        max_iter=params["max_iter"],
        random_state=params["random_state"],
        batch_size=params["batch_size"],
    ).fit(features)
    logger.info(
        "Fitted %s with k=%d on %d customers; segment sizes %s",
        params["algorithm"],
        k,
        len(customers),
        clusterer.segment_sizes_.tolist(),
    )
    return Pipeline([("features", feature_transformer), ("segments", clusterer)])


def assign_segments(customers: pd.DataFrame, segment_model: Pipeline) -> pd.DataFrame:
    """Every customer with its `segment_id` and the distance to its segment's centroid (scaled units)."""
    distances = segment_model.transform(customers[model_features_of(segment_model)])
    assigned = customers.copy()
    assigned["segment_id"] = distances.argmin(axis=1) + 1
    assigned["distance_to_centroid"] = distances.min(axis=1)
    return assigned


def compute_centroids(assigned: pd.DataFrame, segment_model: Pipeline) -> pd.DataFrame:
    """Centroids in original units: per segment the mean of each numeric feature and the most common
    value of each categorical feature, with the segment size.

    For K-Means with a linear scaler and no transform the numeric means are exactly the
    inverse-scaled centroids.
    """
    features = model_features_of(segment_model)
    groups = assigned.groupby("segment_id")
    numeric = [f for f in features if pd.api.types.is_numeric_dtype(assigned[f])]
    centroids = groups[numeric].mean()
    for feature in [f for f in features if f not in numeric]:
        centroids[feature] = groups[feature].agg(lambda values: values.mode().sort_values().iloc[0])
    centroids = centroids[features].reset_index()
    centroids.insert(1, "size", groups.size().to_numpy())
    return centroids


def build_segmented_customers(
    assigned: pd.DataFrame, segment_profiles: pd.DataFrame, column_schema: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every kept customer with original columns, segment id, segment name and distance.

    Returned twice: once for the CSV dataset, once for the Parquet dataset.
    """
    names = segment_profiles.set_index("segment_id")["segment_name"]
    segmented = assigned.copy()
    segmented.insert(
        segmented.columns.get_loc("segment_id") + 1,
        "segment_name",
        segmented["segment_id"].map(names),
    )
    id_column = schema_from_dict(column_schema).id_column
    segmented = segmented.sort_values(["segment_id", id_column], kind="stable").reset_index(
        drop=True
    )
    if segmented["segment_name"].isna().any():
        raise AssertionError("a segment without profile")
    logger.info(
        "Segmented %d customers into %d segments", len(segmented), segmented["segment_id"].nunique()
    )
    return segmented, segmented.copy()
