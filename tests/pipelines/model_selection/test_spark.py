"""The k sweep on a real Spark session: the same table and the same choice as on pandas, and
Calinski-Harabasz and Davies-Bouldin from Spark's aggregations equal to scikit-learn's."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.model_selection import spark as spark_sweep
from customer_segmentation.pipelines.model_selection.nodes import select_k, sweep_k
from customer_segmentation.spark_frames import with_vector
from tests.conftest import load_parameters

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def spark_features(spark, embedded_processing):
    return spark.createDataFrame(embedded_processing["model_features"].reset_index())


@pytest.fixture(scope="module")
def quick_params() -> dict:
    """The parameters `kedro run --env spark` sweeps with (three pyspark.ml starts per k), on a
    shorter k range with fewer gap references and resamples."""
    params = copy.deepcopy(load_parameters("spark")["model_selection"])
    params.update(k_range={"min": 2, "max": 7}, stability_resamples=3, gap_references=3)
    return params


@pytest.fixture(scope="module")
def sweeps(spark_features, embedded_processing, quick_params):
    return sweep_k(embedded_processing["model_features"], quick_params), sweep_k(
        spark_features, quick_params
    )


def test_spark_sweep_has_the_pandas_columns_and_chooses_the_same_k(sweeps, quick_params):
    pandas_metrics, spark_metrics = sweeps
    assert list(spark_metrics.columns) == list(pandas_metrics.columns)
    assert spark_metrics["k"].tolist() == list(range(1, 8))
    assert spark_metrics.loc[0, "wcss"] == pytest.approx(pandas_metrics.loc[0, "wcss"])  # k = 1
    assert spark_metrics["n_customers"].iloc[0] == pandas_metrics["n_customers"].iloc[0] == 1995
    chosen = select_k(spark_metrics, quick_params)
    assert chosen["k"] == select_k(pandas_metrics, quick_params)["k"] == 5
    # WCSS falls with k, as a sweep must
    assert np.all(np.diff(spark_metrics["wcss"].to_numpy()) < 0)


def test_spark_indices_equal_scikit_learns_on_sparks_segments(spark_features, quick_params):
    columns = spark_features.columns[1:]
    vectors = with_vector(spark_features, columns)
    model = spark_sweep.spark_kmeans(4, quick_params["kmeans"], 42).fit(vectors)
    predictions = model.transform(vectors)
    table = predictions.select(*columns, spark_sweep.PREDICTION).toPandas()
    features, labels = table[columns].to_numpy(), table[spark_sweep.PREDICTION].to_numpy()
    centres = np.array(model.clusterCenters())
    assert spark_sweep.davies_bouldin(predictions, centres, columns) == pytest.approx(
        davies_bouldin_score(features, labels), rel=1e-6
    )
    total = ((features - features.mean(axis=0)) ** 2).sum()
    wcss = model.summary.trainingCost
    n, k = len(features), 4
    assert ((total - wcss) / (k - 1)) / (wcss / (n - k)) == pytest.approx(
        calinski_harabasz_score(features, labels), rel=1e-6
    )


def test_spark_sweep_on_a_seeded_sample_says_so(spark_features, quick_params):
    params = {**quick_params, "sweep_sample_size": 500, "k_range": {"min": 2, "max": 3}}
    first, again = sweep_k(spark_features, params), sweep_k(spark_features, params)
    assert first["sweep_rows"].iloc[0] == 500 and first["n_customers"].iloc[0] == 1995
    assert first["silhouette_sampled"].iloc[1]
    np.testing.assert_allclose(first["wcss"], again["wcss"])  # the same sample, the same fits


def test_spark_sweep_refuses_more_segments_than_distinct_customers(spark, quick_params):
    tiny = spark.createDataFrame(
        [("1", 0.0, 0.0), ("2", 0.0, 0.0), ("3", 1.0, 1.0), ("4", 1.0, 1.0)],
        "id string, a double, b double",
    )
    with pytest.raises(DataValidationError, match="only 2 distinct customers"):
        sweep_k(tiny, {**quick_params, "k_range": {"min": 2, "max": 3}})


def test_bisecting_kmeans_sweeps_on_both_engines_when_configured(
    spark_features, embedded_processing, quick_params
):
    params = copy.deepcopy(quick_params)
    params["kmeans"].update(algorithm="bisecting_kmeans", n_init=1)
    params.update(k_range={"min": 2, "max": 6}, stability_resamples=0)
    pandas_metrics = sweep_k(embedded_processing["model_features"], params)
    spark_metrics = sweep_k(spark_features, params)
    assert select_k(spark_metrics, params)["k"] == select_k(pandas_metrics, params)["k"] == 5
    params["kmeans"]["algorithm"] = "dbscan"
    with pytest.raises(
        DataValidationError,
        match="model_selection.kmeans.algorithm: expected one of kmeans, bisecting_kmeans",
    ):
        sweep_k(embedded_processing["model_features"], params)
