"""Feature nodes: choose the clustering features and fit the scaler that later pipelines reuse."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from customer_segmentation.errors import DataValidationError

logger = logging.getLogger(__name__)

SCALERS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": None,
}
NUMERIC_FEATURES = ("age", "annual_income_k", "spending_score", "is_female")


def make_feature_transformer(features: list[str], scaler: str) -> ColumnTransformer:
    """An unfitted ColumnTransformer that keeps `features` (in order) and scales them with `scaler`."""
    if scaler not in SCALERS:
        raise DataValidationError(
            f"parameter data_processing.scaler: expected one of {', '.join(SCALERS)}, found {scaler!r}"
        )
    unknown = [f for f in features if f not in NUMERIC_FEATURES]
    if not features or unknown:
        raise DataValidationError(
            "parameter data_processing.features: expected a non-empty list drawn from "
            f"{', '.join(NUMERIC_FEATURES)}, found {features!r}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    step = SCALERS[scaler]() if SCALERS[scaler] else "passthrough"
    transformer = ColumnTransformer(
        [("scale", step, list(features))], remainder="drop", verbose_feature_names_out=False
    )
    return transformer.set_output(transform="pandas")


def fit_feature_transformer(customers: pd.DataFrame, params: dict[str, Any]) -> ColumnTransformer:
    """Fit the scaler named in `params["scaler"]` on the `params["features"]` columns of `customers`."""
    features = list(params["features"])
    transformer = make_feature_transformer(features, params["scaler"])
    transformer.fit(customers[features])
    logger.info(
        "Fitted %s scaling of %s on %d customers", params["scaler"], features, len(customers)
    )
    return transformer


def build_model_features(customers: pd.DataFrame, transformer: ColumnTransformer) -> pd.DataFrame:
    """Scaled model features, one row per customer, indexed by `customer_id`."""
    features = transformer.transform(customers[list(transformer.feature_names_in_)])
    features.index = pd.Index(customers["customer_id"].astype(str), name="customer_id")
    return features.astype(float)


def build_features(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[ColumnTransformer, pd.DataFrame]:
    """Fit the feature transformer and apply it: (fitted transformer, scaled model features).

    One node for both keeps the pipeline graph layered (primary → models and feature).
    """
    transformer = fit_feature_transformer(customers, params)
    return transformer, build_model_features(customers, transformer)
