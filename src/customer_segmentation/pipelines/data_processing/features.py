"""Feature nodes: the declared features, transformed, scaled and one-hot encoded by one fitted
scikit-learn ColumnTransformer that the saved model and scoring reuse."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    PowerTransformer,
    RobustScaler,
    StandardScaler,
)

from customer_segmentation.engine import is_spark, spark_module
from customer_segmentation.errors import DataValidationError
from customer_segmentation.schema import Schema, schema_from_params

logger = logging.getLogger(__name__)

SCALERS = {
    "standard": StandardScaler,
    "minmax": MinMaxScaler,
    "robust": RobustScaler,
    "none": None,
}


def _transform_step(transform: str) -> Any:
    if transform == "log1p":
        return FunctionTransformer(np.log1p, feature_names_out="one-to-one")
    if transform == "yeo-johnson":
        return PowerTransformer(method="yeo-johnson", standardize=False)
    return "passthrough"


def make_feature_transformer(schema: Schema, scaler: str) -> ColumnTransformer:
    """An unfitted ColumnTransformer over the schema's features, in their declared order.

    Each numeric feature gets its own `Pipeline(transform, scale)` named after the feature (so
    `named_transformers_["balance"]["scale"]` is its fitted scaler); the categorical features
    share one `OneHotEncoder` named "categorical" (unseen categories encode as all zeros).
    """
    if scaler not in SCALERS:
        raise DataValidationError(
            f"parameter data_processing.scaler: expected one of {', '.join(SCALERS)}, found {scaler!r}"
        )
    steps: list[tuple[str, Any, list[str]]] = []
    for feature in schema.numeric_features:
        scale = SCALERS[scaler]() if SCALERS[scaler] else "passthrough"
        numeric = Pipeline(
            [("transform", _transform_step(schema.transform(feature))), ("scale", scale)]
        )
        steps.append((feature, numeric, [feature]))
    if schema.categorical_features:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        steps.append(("categorical", encoder, schema.categorical_features))
    transformer = ColumnTransformer(steps, remainder="drop", verbose_feature_names_out=False)
    return transformer.set_output(transform="pandas")


def log1p_domain_error(source: str, feature: str, values: list[Any]) -> DataValidationError:
    """The error for a log1p feature with values ≤ -1 (`values`: up to five of them)."""
    return DataValidationError(
        f"{source}: column '{feature}' has values ≤ -1, where log1p is undefined.\n"
        f"  expected: values > -1 (declare range min: 0 to quarantine negatives), or "
        f"parameter data_processing.transforms.{feature}: none | yeo-johnson\n"
        f"  found:    {', '.join(str(v) for v in values)}"
    )


def _check_transform_domain(customers: pd.DataFrame, schema: Schema, source: str) -> None:
    for feature in schema.numeric_features:
        if schema.transform(feature) == "log1p" and (customers[feature] <= -1).any():
            bad = customers.index[customers[feature] <= -1][:5]
            raise log1p_domain_error(source, feature, customers.loc[bad, feature].tolist())


def check_feature_columns(columns: list[str], params: dict[str, Any]) -> Schema:
    """The declared schema, or the error naming the declared features the table lacks."""
    schema = schema_from_params(params)
    absent = [f for f in schema.features if f not in columns]
    if absent:
        raise DataValidationError(
            f"{params['source_file']}: the feature column(s) {', '.join(absent)} are not in the file.\n"
            "  expected: every column in parameter data_processing.features in the file "
            "(a column declared `required: false` cannot be a feature when it is absent)\n"
            f"  found:    columns {', '.join(map(str, columns))}"
        )
    return schema


def non_finite_error(
    source: str, broken: list[str], minima: dict[str, Any], maxima: dict[str, Any]
) -> DataValidationError:
    """The error for features that are not finite after transforming and scaling."""
    return DataValidationError(
        f"{source}: the features {', '.join(broken)} are not finite after "
        "transforming and scaling.\n  expected: values small enough to scale (declare a range "
        "to quarantine impossible values, or a log1p transform)\n"
        f"  found:    min {minima}, max {maxima}"
    )


def fit_feature_transformer(customers: pd.DataFrame, params: dict[str, Any]) -> ColumnTransformer:
    """Fit the declared transforms, the scaler and the one-hot encoding on the clean customers."""
    schema = check_feature_columns(list(customers.columns), params)
    _check_transform_domain(customers, schema, params["source_file"])
    transformer = make_feature_transformer(schema, params["scaler"])
    transformer.fit(customers[list(schema.features)])
    logger.info(
        "Fitted %s scaling of %s (transforms %s) on %d customers",
        params["scaler"],
        list(schema.features),
        schema.transforms or "none",
        len(customers),
    )
    return transformer


def build_model_features(
    customers: pd.DataFrame, transformer: ColumnTransformer, id_column: str
) -> pd.DataFrame:
    """Model features, one row per customer, indexed by the customer id (as text)."""
    features = transformer.transform(customers[list(transformer.feature_names_in_)])
    features.index = pd.Index(customers[id_column].astype(str), name=id_column)
    return features.astype(float)


def build_features(
    customers: pd.DataFrame, params: dict[str, Any]
) -> tuple[ColumnTransformer, pd.DataFrame]:
    """Fit the feature transformer and apply it: (fitted transformer, model features).

    One node for both keeps the pipeline graph layered (primary → models and feature). Features that
    are not finite after the transform (values too large to scale) stop the run naming the column.
    On Spark (`kedro run --env spark`) the same transformer is fitted with statistics Spark computes
    and applied by Spark (`spark_features.py`); the features are a Spark table with the id first.
    """
    if is_spark(customers):
        return spark_module("data_processing", "spark_features").build_features(customers, params)
    schema = schema_from_params(params)
    transformer = fit_feature_transformer(customers, params)
    features = build_model_features(customers, transformer, schema.id_column)
    broken = [c for c in features.columns if not np.isfinite(features[c]).all()]
    if broken:
        values = customers[schema.numeric_features]
        raise non_finite_error(
            params["source_file"], broken, values.min().to_dict(), values.max().to_dict()
        )
    return transformer, features


def categorical_blocks(transformer: ColumnTransformer) -> list[list[int]]:
    """Column positions of each categorical feature's one-hot block in the model features (for
    algorithms that treat categories as categories, such as k-prototypes)."""
    if "categorical" not in transformer.named_transformers_:
        return []
    names = list(transformer.get_feature_names_out())
    encoder = transformer.named_transformers_["categorical"]
    return [
        [names.index(f"{feature}_{category}") for category in categories]
        for feature, categories in zip(encoder.feature_names_in_, encoder.categories_, strict=True)
    ]
