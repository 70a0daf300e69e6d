"""Unit tests of the clustering nodes, the ordered K-Means and the naming rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from customer_segmentation.models import OrderedKMeans
from customer_segmentation.pipelines.clustering.nodes import (
    assign_segments,
    compute_centroids,
    fit_segment_model,
)
from customer_segmentation.pipelines.clustering.profiles import profile_segments
from customer_segmentation.pipelines.data_processing.features import fit_feature_transformer


def blobs(sizes: list[int], seed: int = 0) -> np.ndarray:
    centers = [[0, 0], [10, 0], [0, 10], [10, 10]][: len(sizes)]
    points, _ = make_blobs(sizes, centers=centers, cluster_std=0.8, random_state=seed)
    return points


def test_ids_follow_descending_size():
    model = OrderedKMeans(n_clusters=3, random_state=0).fit(blobs([50, 200, 120]))
    assert model.segment_sizes_.tolist() == [200, 120, 50]
    assert np.bincount(model.labels_)[1:].tolist() == [200, 120, 50]
    assert model.cluster_centers_[0] == pytest.approx([10, 0], abs=0.3)


def test_equal_sizes_are_ordered_by_centroid_coordinates():
    model = OrderedKMeans(n_clusters=4, random_state=3).fit(blobs([80, 80, 80, 80]))
    assert model.segment_sizes_.tolist() == [80, 80, 80, 80]
    centers = [tuple(c) for c in model.cluster_centers_]
    assert centers == sorted(centers)


@pytest.mark.parametrize("algorithm", ["kmeans", "minibatch"])
def test_same_partition_from_other_random_state_gets_the_same_ids(algorithm):
    points = blobs([90, 150, 60, 120])
    runs = [
        OrderedKMeans(n_clusters=4, algorithm=algorithm, random_state=seed).fit(points)
        for seed in (1, 2, 99)
    ]
    for run in runs[1:]:
        np.testing.assert_array_equal(run.labels_, runs[0].labels_)
        if algorithm == "kmeans":  # mini-batch centres are approximate means
            np.testing.assert_allclose(run.cluster_centers_, runs[0].cluster_centers_, atol=1e-6)


def test_predict_and_transform_agree_with_training_labels():
    points = blobs([70, 40, 90])
    model = OrderedKMeans(n_clusters=3, random_state=0).fit(points)
    np.testing.assert_array_equal(model.predict(points), model.labels_)
    np.testing.assert_array_equal(model.transform(points).argmin(axis=1) + 1, model.labels_)


@pytest.fixture
def customers() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    # (income, spending score, age, customers)
    groups = [(55, 55, 60, 90), (25, 80, 22, 60), (100, 85, 40, 40), (100, 15, 42, 30)]
    frames = [
        pd.DataFrame(
            {
                "annual_income_k": rng.normal(income, 4, n).round(),
                "spending_score": rng.normal(score, 4, n).round(),
                "age": rng.normal(age, 3, n).round(),
                "is_female": rng.integers(0, 2, n),
            }
        )
        for income, score, age, n in groups
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_id", [str(i) for i in range(len(frame))])
    frame.insert(1, "gender", np.where(frame["is_female"] == 1, "Female", "Male"))
    return frame


@pytest.fixture
def fitted(customers, parameters):
    dp, cl = parameters["data_processing"], parameters["clustering"]
    transformer = fit_feature_transformer(customers, dp)
    model = fit_segment_model(customers, transformer, {"k": 4}, cl)
    return model, assign_segments(customers, model), cl


def test_model_predicts_raw_schema_customers(customers, fitted):
    model, assigned, _ = fitted
    np.testing.assert_array_equal(model.predict(customers), assigned["segment_id"])
    assert assigned["segment_id"].value_counts().sort_index().tolist() == [90, 60, 40, 30]
    assert (assigned["distance_to_centroid"] >= 0).all()


def test_centroids_are_in_original_units(fitted):
    model, assigned, _ = fitted
    centroids = compute_centroids(assigned, model)
    scaler = model.named_steps["features"].named_transformers_["scale"]
    unscaled = scaler.inverse_transform(model.named_steps["segments"].cluster_centers_)
    np.testing.assert_allclose(
        centroids[["annual_income_k", "spending_score"]], unscaled, rtol=1e-9
    )
    assert centroids["size"].sum() == len(assigned)


def test_profiles_names_and_actions(fitted):
    _, assigned, cl = fitted
    profiles, document = profile_segments(assigned, cl)
    assert profiles["size"].sum() == len(assigned)
    assert profiles["share"].sum() == pytest.approx(1.0)
    names = dict(zip(profiles["segment_id"], profiles["segment_name"], strict=True))
    assert names == {
        1: "Mid income · Moderate spending · Older",
        2: "Low income · High spending · Young",
        3: "High income · High spending · Middle-aged",
        4: "High income · Low spending · Middle-aged",
    }
    actions = dict(zip(profiles["segment_id"], profiles["suggested_action"], strict=True))
    assert actions[4] == cl["actions"]["high income, low spending"]
    for column in ("age", "annual_income_k", "spending_score"):
        assert {f"mean_{column}", f"median_{column}", f"diff_{column}", f"z_{column}"} <= set(
            profiles.columns
        )
    assert profiles["diff_annual_income_k"].iloc[3] > 30
    assert document["population"]["customers"] == len(assigned)
    assert [s["segment_id"] for s in document["segments"]] == [1, 2, 3, 4]


def test_name_overrides_apply_per_id(fitted):
    _, assigned, cl = fitted
    cl["segment_names"] = {4: "Affluent savers", "2": "Young big spenders"}
    profiles, _ = profile_segments(assigned, cl)
    assert profiles["segment_name"].tolist()[1] == "Young big spenders"
    assert profiles["segment_name"].tolist()[3] == "Affluent savers"


def test_identical_generated_names_are_made_unique(fitted):
    _, assigned, cl = fitted
    cl["level_thresholds"] = {"low": -100, "high": 100}  # everything is "mid"
    profiles, _ = profile_segments(assigned, cl)
    assert profiles["segment_name"].is_unique
    assert profiles["segment_name"].iloc[0] == "Mid income · Moderate spending · Middle-aged (1)"
