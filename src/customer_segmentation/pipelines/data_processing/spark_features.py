"""The feature transformer on Spark (`kedro run --env spark`).

The model features are made by the same scikit-learn `ColumnTransformer` as on pandas, so the saved
`segment_model` and scoring are unchanged. Spark computes its statistics over every customer: the
mean and variance (standard scaler), the range (min-max scaler) or the quartiles (robust scaler, exact
and interpolated as numpy does) of each transformed feature, and every category of each categorical
feature. Only the Yeo-Johnson exponent is fitted by scikit-learn on a seeded sample of
`FIT_SAMPLE_ROWS` customers. Spark then applies the fitted transformer as column expressions
(`feature_columns`): no Python runs per row.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, RobustScaler, StandardScaler

from customer_segmentation.schema import Schema
from customer_segmentation.spark_frames import sample_to_pandas

from .features import (
    check_feature_columns,
    log1p_domain_error,
    make_feature_transformer,
    non_finite_error,
)

logger = logging.getLogger(__name__)

FIT_SAMPLE_ROWS = 100_000  # rows scikit-learn fits on before Spark's statistics replace its own
FIT_SAMPLE_SEED = 42
EPSILON = float(np.spacing(1.0))


def transform_expression(step: Any, value: Column) -> Column:
    """`value` through a fitted transform step: passthrough, log1p or Yeo-Johnson (its exponent)."""
    if isinstance(step, str):  # "passthrough"
        return value
    if isinstance(step, FunctionTransformer):  # the only function transform declared is log1p
        return F.log1p(value)
    lam = float(step.lambdas_[0])
    positive = F.log1p(value) if abs(lam) < EPSILON else (F.pow(value + 1, lam) - 1) / lam
    negative = (
        -F.log1p(-value) if abs(lam - 2) < EPSILON else -(F.pow(1 - value, 2 - lam) - 1) / (2 - lam)
    )
    return F.when(value >= 0, positive).otherwise(negative)


def scale_expression(scaler: Any, value: Column) -> Column:
    """`value` through a fitted scaler (or passthrough)."""
    if isinstance(scaler, StandardScaler):
        return (value - float(scaler.mean_[0])) / float(scaler.scale_[0])
    if isinstance(scaler, MinMaxScaler):
        return value * float(scaler.scale_[0]) + float(scaler.min_[0])
    if isinstance(scaler, RobustScaler):
        return (value - float(scaler.center_[0])) / float(scaler.scale_[0])
    return value


def numeric_steps(transformer: ColumnTransformer) -> list[tuple[str, Any]]:
    """(feature, its fitted Pipeline(transform, scale)) for each numeric feature, in order."""
    return [
        (columns[0], step)
        for name, step, columns in transformer.transformers_
        if name not in ("categorical", "remainder")
    ]


def transformed(feature: str, step: Any) -> Column:
    return transform_expression(step["transform"], F.col(feature).cast("double"))


def feature_columns(transformer: ColumnTransformer) -> list[Column]:
    """The fitted transformer as Spark columns named and ordered as its `get_feature_names_out()`:
    each numeric feature transformed and scaled, each category one-hot (unseen ones all zeros)."""
    columns = []
    for name, step, inputs in transformer.transformers_:
        if name == "remainder":
            continue
        if name == "categorical":
            for feature, categories in zip(inputs, step.categories_, strict=True):
                text = F.col(feature).cast("string")
                columns += [
                    F.when(text == str(c), 1.0).otherwise(0.0).alias(f"{feature}_{c}")
                    for c in categories
                ]
        else:
            columns.append(scale_expression(step["scale"], transformed(name, step)).alias(name))
    return columns


def fitting_rows(customers: DataFrame, schema: Schema, seed: int = FIT_SAMPLE_SEED) -> pd.DataFrame:
    """What scikit-learn fits on: a seeded sample of the customers, plus, for each category of a
    categorical feature the sample missed, one row of it (its other columns the minimum), so the
    encoder knows every category."""
    features = list(schema.features)
    sample, _ = sample_to_pandas(
        customers.select(schema.id_column, *features), FIT_SAMPLE_ROWS, seed, [schema.id_column]
    )
    frames = [sample[features]]
    for feature in schema.categorical_features:
        seen = sample[feature].astype(str).unique().tolist()
        others = [F.min(c).alias(c) for c in features if c != feature]
        missed = customers.where(~F.col(feature).cast("string").isin(seen))
        frames.append(missed.groupBy(feature).agg(*others).select(*features).toPandas())
    return pd.concat(frames, ignore_index=True)


def set_exact_statistics(transformer: ColumnTransformer, customers: DataFrame) -> int:
    """Replace each numeric scaler's sample statistics with Spark's over every customer; return
    how many customers that is."""
    aggregates: list[Column] = [F.count(F.lit(1)).alias("_rows")]
    for feature, step in numeric_steps(transformer):
        value, scaler = transformed(feature, step), step["scale"]
        if isinstance(scaler, StandardScaler):
            aggregates += [
                F.avg(value).alias(f"{feature}__mean"),
                F.var_pop(value).alias(f"{feature}__var"),
            ]
        elif isinstance(scaler, MinMaxScaler):
            aggregates += [
                F.min(value).alias(f"{feature}__min"),
                F.max(value).alias(f"{feature}__max"),
            ]
        elif isinstance(scaler, RobustScaler):
            aggregates.append(F.percentile(value, [0.25, 0.5, 0.75]).alias(f"{feature}__q"))
    row = customers.select(*aggregates).first().asDict()
    rows = int(row["_rows"])
    for feature, step in numeric_steps(transformer):
        scaler = step["scale"]
        if isinstance(scaler, StandardScaler):
            scaler.mean_ = np.array([row[f"{feature}__mean"]])
            scaler.var_ = np.array([row[f"{feature}__var"]])
            scaler.scale_ = nonzero(np.sqrt(scaler.var_))
        elif isinstance(scaler, MinMaxScaler):
            low, high = scaler.feature_range
            scaler.data_min_ = np.array([row[f"{feature}__min"]], dtype=float)
            scaler.data_max_ = np.array([row[f"{feature}__max"]], dtype=float)
            scaler.data_range_ = scaler.data_max_ - scaler.data_min_
            scaler.scale_ = (high - low) / nonzero(scaler.data_range_)
            scaler.min_ = low - scaler.data_min_ * scaler.scale_
        elif isinstance(scaler, RobustScaler):
            q1, median, q3 = row[f"{feature}__q"]
            scaler.center_ = np.array([median], dtype=float)
            scaler.scale_ = nonzero(np.array([q3 - q1], dtype=float))
        if hasattr(scaler, "n_samples_seen_"):
            scaler.n_samples_seen_ = rows
    return rows


def nonzero(scale: np.ndarray) -> np.ndarray:
    """A scale of (almost) zero becomes 1, as scikit-learn's scalers do for constant features."""
    return np.where(scale < 10 * EPSILON, 1.0, scale)


def check_transform_domain(customers: DataFrame, schema: Schema, source: str) -> None:
    """The log1p features have no value ≤ -1 (Spark counts; up to five examples in the error)."""
    for feature in [f for f in schema.numeric_features if schema.transform(f) == "log1p"]:
        bad = customers.where(F.col(feature) <= -1).select(feature).limit(5).collect()
        if bad:
            raise log1p_domain_error(source, feature, [r[feature] for r in bad])


def build_features(
    customers: DataFrame, params: dict[str, Any]
) -> tuple[ColumnTransformer, DataFrame]:
    """`features.build_features` on Spark: (the fitted transformer, the model features as a Spark
    table: the id as text, then the feature columns)."""
    schema = check_feature_columns(list(customers.columns), params)
    source = params["source_file"]
    check_transform_domain(customers, schema, source)
    transformer = make_feature_transformer(schema, params["scaler"])
    transformer.fit(fitting_rows(customers, schema))
    rows = set_exact_statistics(transformer, customers)
    features = customers.select(
        F.col(schema.id_column).cast("string").alias(schema.id_column),
        *feature_columns(transformer),
    )
    names = list(transformer.get_feature_names_out())
    finite = [
        F.max(
            (F.isnan(F.col(c)) | F.col(c).isNull() | (F.abs(F.col(c)) == float("inf"))).cast("int")
        ).alias(c)
        for c in names
    ]
    flags = features.select(*finite).first().asDict()
    broken = [c for c in names if flags[c]]
    if broken:
        numeric = schema.numeric_features
        bounds = customers.select(
            *[F.min(c).alias(f"min_{c}") for c in numeric],
            *[F.max(c).alias(f"max_{c}") for c in numeric],
        ).first()
        raise non_finite_error(
            source,
            broken,
            {c: bounds[f"min_{c}"] for c in numeric},
            {c: bounds[f"max_{c}"] for c in numeric},
        )
    logger.info(
        "Fitted %s scaling of %s (transforms %s) with Spark's statistics of %d customers",
        params["scaler"],
        list(schema.features),
        schema.transforms or "none",
        rows,
    )
    return transformer, features
