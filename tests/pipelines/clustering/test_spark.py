"""The clustering nodes on a real Spark session: pyspark.ml's K-Means exported into the same
scikit-learn segment model, every customer assigned by it, and profiles and centroids from Spark's
aggregations equal to the pandas ones."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.pipelines.clustering.nodes import (
    assign_segments,
    build_segmented_customers,
    compute_centroids,
    fit_segment_model,
)
from customer_segmentation.pipelines.clustering.profiles import profile_segments
from tests.conftest import load_parameters

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def fit_both(spark, processing, algorithm: str):
    params = copy.deepcopy(load_parameters())
    inputs = (
        processing["feature_transformer"],
        {"fills": {}, "fences": {}},
        {"k": 5},
        {"algorithm": algorithm},
        params["clustering"],
        params["comparison"],
    )
    primary = processing["customers_primary"]
    return fit_segment_model(primary, *inputs), fit_segment_model(
        spark.createDataFrame(primary), *inputs
    )


@pytest.fixture(scope="module")
def kmeans(spark, embedded_processing):
    pandas_model, spark_model = fit_both(spark, embedded_processing, "kmeans")
    primary = embedded_processing["customers_primary"]
    assigned = assign_segments(spark.createDataFrame(primary), spark_model)
    return pandas_model, spark_model, assign_segments(primary, pandas_model), assigned


def test_spark_kmeans_becomes_the_same_ordered_segment_model(kmeans, embedded_processing):
    pandas_model, spark_model, _, _ = kmeans
    segments = spark_model.named_steps["segments"]
    assert segments.n_fit_rows_ == 1995 and segments.labels_ is None
    assert list(segments.segment_ids_) == [1, 2, 3, 4, 5]
    assert list(segments.segment_sizes_) == sorted(segments.segment_sizes_, reverse=True)
    # same centres as scikit-learn's K-Means, in the same id order
    np.testing.assert_allclose(
        segments.cluster_centers_, pandas_model.named_steps["segments"].cluster_centers_, atol=1e-6
    )
    primary = embedded_processing["customers_primary"]
    features = primary[list(spark_model.named_steps["features"].feature_names_in_)]
    assert adjusted_rand_score(pandas_model.predict(features), spark_model.predict(features)) == 1.0


def test_spark_assignment_is_the_saved_models_predict(kmeans):
    _, spark_model, pandas_assigned, spark_assigned = kmeans
    found = spark_assigned.toPandas().sort_values("customer_id").reset_index(drop=True)
    assert list(found.columns) == list(pandas_assigned.columns)
    expected = pandas_assigned.sort_values("customer_id").reset_index(drop=True)
    features = found[list(spark_model.named_steps["features"].feature_names_in_)]
    np.testing.assert_array_equal(found["segment_id"], spark_model.predict(features))
    np.testing.assert_array_equal(found["segment_id"], expected["segment_id"])
    np.testing.assert_allclose(
        found["distance_to_centroid"], expected["distance_to_centroid"], atol=1e-6
    )


def test_spark_profiles_and_centroids_are_the_pandas_ones(kmeans, column_schema):
    pandas_model, spark_model, pandas_assigned, spark_assigned = kmeans
    params = load_parameters()["clustering"]
    expected, expected_document = profile_segments(pandas_assigned, column_schema, params)
    found, document = profile_segments(spark_assigned, column_schema, params)
    pd.testing.assert_frame_equal(found, expected, check_dtype=False, atol=1e-9)
    assert document == expected_document
    pd.testing.assert_frame_equal(
        compute_centroids(spark_assigned, spark_model),
        compute_centroids(pandas_assigned, pandas_model),
        check_dtype=False,
        atol=1e-9,
    )
    segmented, same = build_segmented_customers(spark_assigned, found)
    assert same is segmented
    table = segmented.toPandas()
    assert list(table.columns) == list(
        build_segmented_customers(pandas_assigned, expected)[0].columns
    )
    names = dict(zip(found["segment_id"], found["segment_name"], strict=True))
    assert (table["segment_name"] == table["segment_id"].map(names)).all()


def test_other_algorithms_fit_on_a_seeded_sample_and_assign_everyone(spark, embedded_processing):
    _, spark_model = fit_both(spark, embedded_processing, "gaussian_mixture")
    segments = spark_model.named_steps["segments"]
    assert segments.n_fit_rows_ == 1995  # every customer fits in the default sample
    primary = embedded_processing["customers_primary"]
    assigned = assign_segments(spark.createDataFrame(primary), spark_model).toPandas()
    assert len(assigned) == 1995 and set(assigned["segment_id"]) == {1, 2, 3, 4, 5}


def test_spark_bisecting_kmeans_splits_standardised_features(spark, embedded_processing):
    """Spark's bisecting K-Means never splits a cluster centred at 0 unless the features are
    shifted: the exported model has the five segments scikit-learn finds."""
    pandas_model, spark_model = fit_both(spark, embedded_processing, "bisecting_kmeans")
    primary = embedded_processing["customers_primary"]
    features = primary[list(spark_model.named_steps["features"].feature_names_in_)]
    assert len(spark_model.named_steps["segments"].segment_ids_) == 5
    assert (
        adjusted_rand_score(pandas_model.predict(features), spark_model.predict(features)) >= 0.95
    )
