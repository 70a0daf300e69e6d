"""clustering on the embedded data, through the real pipelines on an in-memory catalog."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from customer_segmentation.data_generator import (
    RAW_COLUMNS,
    generate_clean_customers,
    generate_customers,
)
from customer_segmentation.pipelines import clustering, comparison, data_processing, model_selection
from tests.conftest import load_parameters, run_pipeline

FLOOR_FEATURES = [
    "Annual Income (k$)",
    "Spending Score (1-100)",
]  # the default features, as delivered


def fast_parameters() -> dict:
    params = load_parameters()
    params["model_selection"].update(gap_references=3, stability_resamples=3)
    params["comparison"].update(stability_resamples=2)
    return params


def run_training(params: dict, customers_raw: pd.DataFrame | None = None) -> dict:
    """data_processing + model_selection + comparison + clustering on `customers_raw` (default: the
    embedded default data)."""
    if customers_raw is None:
        customers_raw = generate_customers()[RAW_COLUMNS].copy()
    inputs = {"customers_raw": customers_raw}
    inputs.update({f"params:{group}": copy.deepcopy(value) for group, value in params.items()})
    pipeline = (
        data_processing.create_pipeline()
        + model_selection.create_pipeline()
        + comparison.create_pipeline()
        + clustering.create_pipeline()
    )
    return run_pipeline(pipeline, inputs)


@pytest.fixture(scope="module")
def trained() -> dict:
    return run_training(fast_parameters())


def planted_labels(customer_ids: pd.Series) -> pd.Series:
    generated = generate_customers().drop_duplicates("CustomerID", keep="first")
    return customer_ids.map(generated.set_index("CustomerID")["planted_segment"])


def test_planted_segments_are_recovered(trained):
    segmented = trained["segmented_customers"]
    assert trained["k_selection"]["k"] == 5
    ari = adjusted_rand_score(planted_labels(segmented["customer_id"]), segmented["segment_id"])
    assert ari >= 0.95, ari


def test_every_kept_customer_is_segmented_and_named(trained):
    segmented, profiles = trained["segmented_customers"], trained["segment_profiles"]
    assert len(segmented) == trained["data_quality_report"]["rows_kept"]
    assert profiles["size"].sum() == len(segmented)
    assert profiles["segment_name"].notna().all() and profiles["segment_name"].is_unique
    assert list(segmented.columns[-3:]) == ["segment_id", "segment_name", "distance_to_centroid"]
    assert {"customer_id", "gender", "age", "annual_income_k", "spending_score"} <= set(
        segmented.columns
    )
    pd.testing.assert_frame_equal(segmented, trained["segmented_customers_parquet"])


def test_ids_are_identical_across_runs_and_random_states(trained):
    params = fast_parameters()
    params["clustering"]["random_state"] = 7
    other = run_training(params)
    ids = trained["segmented_customers"].set_index("customer_id")["segment_id"]
    other_ids = other["segmented_customers"].set_index("customer_id")["segment_id"]
    pd.testing.assert_series_equal(ids.sort_index(), other_ids.sort_index())
    again = run_training(fast_parameters())
    pd.testing.assert_frame_equal(trained["segment_profiles"], again["segment_profiles"])


def test_sampled_sweep_and_warm_start_give_the_answer_of_a_full_data_analysis():
    """At scale the sweep runs on a sample and the final fit is warm-started from a sample; with the
    thresholds lowered, 12,000 customers exercise both. The answer must be a full-data analysis's:
    the same k (best full-data silhouette), silhouette within 0.01, segments with ARI >= 0.99 to a
    full-data K-Means at that k."""
    params = fast_parameters()
    params["model_selection"].update(sweep_sample_size=3_000, silhouette_sample_size=3_000)
    params["clustering"].update(algorithm="kmeans", warm_start_sample_size=3_000)
    raw = generate_clean_customers(12_000, seed=5)[RAW_COLUMNS].astype(str)
    run = run_training(params, raw)
    assert run["k_selection"]["sweep_rows"] == 3_000 and run["k_selection"]["n_customers"] == 12_000

    points = StandardScaler().fit_transform(raw[FLOOR_FEATURES].astype(float))
    full = {k: KMeans(k, n_init=10, random_state=0).fit_predict(points) for k in range(2, 11)}
    silhouettes = {k: silhouette_score(points, labels) for k, labels in full.items()}
    best = max(silhouettes, key=silhouettes.get)
    chosen = run["k_selection"]["k"]
    assert chosen == best
    ours = run["k_metrics"].set_index("k").loc[chosen, "silhouette"]
    assert abs(ours - silhouettes[best]) < 0.01, (ours, silhouettes[best])
    segmented = run["segmented_customers"]
    assert len(segmented) == 12_000
    full_labels = pd.Series(full[best], index=raw["CustomerID"])
    assert (
        adjusted_rand_score(full_labels[segmented["customer_id"]], segmented["segment_id"]) >= 0.99
    )
