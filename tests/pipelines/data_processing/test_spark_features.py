"""The feature transformer on a real Spark session: the same fitted transformer and the same
features as on pandas, whatever the scaler and transform; the same clear errors."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.data_processing import spark_features
from customer_segmentation.pipelines.data_processing.features import build_features

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def both_engines(spark, primary: pd.DataFrame, params: dict):
    """(pandas transformer, pandas features, Spark transformer, Spark features on the driver)."""
    transformer, features = build_features(primary, params)
    spark_transformer, spark_features_table = build_features(spark.createDataFrame(primary), params)
    found = spark_features_table.toPandas().set_index(features.index.name)
    return transformer, features, spark_transformer, found.loc[features.index]


@pytest.mark.parametrize(
    ("scaler", "transforms"),
    [
        ("standard", {}),
        ("minmax", {"annual_income_k": "log1p"}),
        ("robust", {"spending_score": "yeo-johnson"}),
        ("none", {"age": "log1p"}),
    ],
)
def test_spark_features_are_the_pandas_features(
    spark, embedded_processing, parameters, scaler, transforms
):
    params = copy.deepcopy(parameters["data_processing"])
    params.update(
        scaler=scaler,
        transforms=transforms,
        features=["age", "annual_income_k", "spending_score", "gender"],
    )
    primary = embedded_processing["customers_primary"]
    transformer, features, spark_transformer, found = both_engines(spark, primary, params)
    assert (
        list(found.columns)
        == list(features.columns)
        == list(spark_transformer.get_feature_names_out())
    )
    np.testing.assert_allclose(found.to_numpy(), features.to_numpy(), atol=1e-9)
    # the saved transformer applies on pandas exactly what Spark applied
    np.testing.assert_allclose(
        spark_transformer.transform(primary[list(spark_transformer.feature_names_in_)]).to_numpy(),
        found.to_numpy(),
        atol=1e-9,
    )


def test_every_category_is_known_even_when_the_fit_sample_misses_some(
    spark, embedded_processing, parameters, monkeypatch
):
    monkeypatch.setattr(spark_features, "FIT_SAMPLE_ROWS", 3)  # three customers: not every gender
    params = copy.deepcopy(parameters["data_processing"])
    params["features"] = ["annual_income_k", "spending_score", "gender"]
    primary = embedded_processing["customers_primary"]
    transformer, features, spark_transformer, found = both_engines(spark, primary, params)
    encoder = spark_transformer.named_transformers_["categorical"]
    assert [list(c) for c in encoder.categories_] == [
        sorted(primary["gender"].astype(str).unique())
    ]
    np.testing.assert_allclose(found.to_numpy(), features.to_numpy(), atol=1e-9)


def test_log1p_below_minus_one_is_refused_naming_the_column(spark, embedded_processing, parameters):
    params = copy.deepcopy(parameters["data_processing"])
    params["transforms"] = {"annual_income_k": "log1p"}
    primary = embedded_processing["customers_primary"].copy()
    primary.loc[:2, "annual_income_k"] = -5
    with pytest.raises(
        DataValidationError, match=r"column 'annual_income_k' has values ≤ -1"
    ) as error:
        build_features(spark.createDataFrame(primary), params)
    assert "found:    -5, -5, -5" in str(error.value)
    assert params["source_file"] in str(error.value)


def test_a_missing_feature_column_is_named(spark, embedded_processing, parameters):
    primary = embedded_processing["customers_primary"].drop(columns="spending_score")
    with pytest.raises(
        DataValidationError, match="feature column\\(s\\) spending_score are not in the file"
    ):
        build_features(spark.createDataFrame(primary), parameters["data_processing"])
