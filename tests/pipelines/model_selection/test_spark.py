"""The k sweep on a real Spark session: Spark draws the seeded sample, the one scikit-learn sweep runs
on it, so on the same customers it gives the pandas table figure for figure."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.model_selection.nodes import select_k, sweep_k
from tests.conftest import load_parameters

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

TIMING = ["fit_seconds"]


@pytest.fixture(scope="module")
def spark_features(spark, embedded_processing):
    return spark.createDataFrame(embedded_processing["model_features"].reset_index())


@pytest.fixture(scope="module")
def by_id(embedded_processing) -> pd.DataFrame:
    """The pandas model features in the order Spark's sample comes to the driver: by customer id."""
    return embedded_processing["model_features"].sort_index(kind="stable")


@pytest.fixture(scope="module")
def quick_params() -> dict:
    """The parameters `kedro run --env spark` sweeps with, on a shorter k range with fewer gap
    references and resamples."""
    params = copy.deepcopy(load_parameters("spark")["model_selection"])
    params.update(k_range={"min": 2, "max": 7}, stability_resamples=3, gap_references=3)
    return params


def test_spark_sweep_is_the_pandas_sweep_on_the_same_customers(spark_features, by_id, quick_params):
    pandas_metrics = sweep_k(by_id, quick_params)
    spark_metrics = sweep_k(spark_features, quick_params)
    assert spark_metrics["k"].tolist() == list(range(1, 8))
    assert spark_metrics["n_customers"].iloc[0] == 1995
    pd.testing.assert_frame_equal(
        spark_metrics.drop(columns=TIMING), pandas_metrics.drop(columns=TIMING)
    )
    assert select_k(spark_metrics, quick_params)["k"] == 5
    assert spark_metrics["stability_mean"].iloc[1:].notna().all()


def test_spark_sweep_on_a_seeded_sample_says_so(spark_features, quick_params):
    params = {**quick_params, "sweep_sample_size": 500, "k_range": {"min": 2, "max": 3}}
    first, again = sweep_k(spark_features, params), sweep_k(spark_features, params)
    assert first["sweep_rows"].iloc[0] == 500 and first["n_customers"].iloc[0] == 1995
    assert first["silhouette_rows"].iloc[1] == 500 and first["silhouette_sampled"].iloc[1]
    pd.testing.assert_frame_equal(first.drop(columns=TIMING), again.drop(columns=TIMING))
    other = sweep_k(spark_features, {**params, "kmeans": {**params["kmeans"], "random_state": 7}})
    assert not np.allclose(other["wcss"], first["wcss"])  # another seed, another sample


def test_spark_sweep_refuses_more_segments_than_distinct_customers(spark, quick_params):
    tiny = spark.createDataFrame(
        [("1", 0.0, 0.0), ("2", 0.0, 0.0), ("3", 1.0, 1.0), ("4", 1.0, 1.0)],
        "id string, a double, b double",
    )
    with pytest.raises(DataValidationError, match="only 2 distinct customers"):
        sweep_k(tiny, {**quick_params, "k_range": {"min": 2, "max": 3}})


def test_bisecting_kmeans_sweeps_the_same_on_both_engines(spark_features, by_id, quick_params):
    params = copy.deepcopy(quick_params)
    params["kmeans"].update(algorithm="bisecting_kmeans", n_init=1)
    params.update(k_range={"min": 2, "max": 6}, stability_resamples=0)
    pandas_metrics = sweep_k(by_id, params)
    spark_metrics = sweep_k(spark_features, params)
    pd.testing.assert_frame_equal(
        spark_metrics.drop(columns=TIMING), pandas_metrics.drop(columns=TIMING)
    )
    assert select_k(spark_metrics, params)["k"] == 5
    params["kmeans"]["algorithm"] = "dbscan"
    with pytest.raises(
        DataValidationError,
        match="model_selection.kmeans.algorithm: expected one of kmeans, bisecting_kmeans",
    ):
        sweep_k(spark_features, params)
