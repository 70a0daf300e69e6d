"""Unit tests of the clustering nodes, the ordered K-Means and the naming rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.data_generator import generate_clean_customers
from customer_segmentation.errors import DataValidationError
from customer_segmentation.models import OrderedKMeans
from customer_segmentation.pipelines.clustering.nodes import (
    assign_segments,
    compute_centroids,
    fit_segment_model,
)
from customer_segmentation.pipelines.clustering.profiles import profile_segments
from customer_segmentation.pipelines.data_processing.features import fit_feature_transformer
from customer_segmentation.schema import schema_from_params
from tests.conftest import load_parameters

# what cleaning learned at training (the pipeline's cleaning_statistics): nothing to fill here
NO_STATISTICS = {"fills": {}, "fences": {}}


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
                "gender": np.where(rng.integers(0, 2, n) == 1, "Female", "Male"),
            }
        )
        for income, score, age, n in groups
    ]
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_id", [str(i) for i in range(len(frame))])
    return frame


@pytest.fixture
def fitted(customers, parameters, column_schema):
    dp, cl = parameters["data_processing"], parameters["clustering"]
    transformer = fit_feature_transformer(customers, dp)
    choice = {"algorithm": "kmeans"}
    model = fit_segment_model(
        customers, transformer, NO_STATISTICS, {"k": 4}, choice, cl, parameters["comparison"]
    )
    return model, assign_segments(customers, model), cl, column_schema


def action_for(cl: dict, **levels: str) -> str:
    return next(rule["action"] for rule in cl["actions"] if rule["when"] == levels)


def test_model_predicts_raw_schema_customers(customers, fitted):
    model, assigned, *_ = fitted
    np.testing.assert_array_equal(model.predict(customers), assigned["segment_id"])
    assert assigned["segment_id"].value_counts().sort_index().tolist() == [90, 60, 40, 30]
    assert (assigned["distance_to_centroid"] >= 0).all()


def test_centroids_are_in_original_units(fitted):
    model, assigned, *_ = fitted
    centroids = compute_centroids(assigned, model)
    transformers = model.named_steps["features"].named_transformers_
    centers = model.named_steps["segments"].cluster_centers_
    for position, column in enumerate(["annual_income_k", "spending_score"]):
        scaler = transformers[column]["scale"]
        unscaled = scaler.inverse_transform(centers[:, [position]]).ravel()
        np.testing.assert_allclose(centroids[column], unscaled, rtol=1e-9)
    assert centroids["size"].sum() == len(assigned)


def test_profiles_names_and_actions(fitted):
    _, assigned, cl, schema = fitted
    profiles, document = profile_segments(assigned, schema, cl)
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
    assert actions[4] == action_for(cl, annual_income_k="high", spending_score="low")
    assert actions[2] == action_for(cl, annual_income_k="low", spending_score="high")
    for column in ("age", "annual_income_k", "spending_score"):
        assert {f"mean_{column}", f"median_{column}", f"diff_{column}", f"z_{column}"} <= set(
            profiles.columns
        )
    assert profiles["diff_annual_income_k"].iloc[3] > 30
    assert document["population"]["customers"] == len(assigned)
    shares = profiles[["share_gender_Female", "share_gender_Male"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    female = (assigned["gender"] == "Female").groupby(assigned["segment_id"]).mean()
    np.testing.assert_allclose(profiles["share_gender_Female"], female.to_numpy())
    assert document["population"]["category_shares"]["gender"]["Female"] == pytest.approx(
        (assigned["gender"] == "Female").mean(), abs=1e-4
    )
    assert [s["segment_id"] for s in document["segments"]] == [1, 2, 3, 4]


def test_name_overrides_apply_per_id(fitted):
    _, assigned, cl, schema = fitted
    cl["segment_names"] = {4: "Affluent savers", "2": "Young big spenders"}
    profiles, _ = profile_segments(assigned, schema, cl)
    assert profiles["segment_name"].tolist()[1] == "Young big spenders"
    assert profiles["segment_name"].tolist()[3] == "Affluent savers"


def test_identical_generated_names_are_made_unique(fitted):
    _, assigned, cl, schema = fitted
    cl["level_thresholds"] = {"low": -100, "high": 100}  # everything is "mid"
    profiles, _ = profile_segments(assigned, schema, cl)
    assert profiles["segment_name"].is_unique
    assert profiles["segment_name"].iloc[0] == "Mid income · Moderate spending · Middle-aged (1)"


def test_names_follow_the_most_departing_columns_when_none_are_fixed(fitted):
    _, assigned, cl, schema = fitted
    cl["naming"] = {"columns": [], "max_columns": 2}
    cl["level_words"] = [
        {"column": "spending_score", "low": "Savers", "mid": "Moderate", "high": "Spenders"}
    ]
    profiles, _ = profile_segments(assigned, schema, cl)
    # by |z|, mid levels left out; words from level_words, else "Low <label>" from the schema
    assert profiles["segment_name"].tolist() == [
        "High age",  # only age departs (z +1.04); income and score are mid
        "Low age · Low annual income",  # z -1.36, -1.23 (score +0.81 is third)
        "High annual income · Spenders",  # z +1.31, +1.00
        "Savers · High annual income",  # z -2.05, +1.33
    ]


def order_log_segments() -> tuple[pd.DataFrame, dict]:
    """Segmented customers of an order log, built by hand, and their schema."""

    def segment(sid, n, recency, frequency, monetary, tenure):
        columns = {"recency": recency, "frequency": frequency, "monetary": monetary}
        return pd.DataFrame({"segment_id": sid, **columns, "tenure": tenure}, index=range(n))

    assigned = pd.concat(
        [
            segment(1, 40, 10, 1, 50.0, 20),  # new, one order each
            segment(2, 40, 80, [1] * 10 + [3] * 20 + [5] * 10, 2500.0, 250),  # median 3 orders
            segment(3, 40, 5, 20, 400.0, 360),  # frequent
            segment(4, 40, 150, 6, [300.0] * 34 + [15000.0] * 6, 300),  # six big spenders
            segment(0, 10, 5, 20, 400.0, 360),  # unassigned (a density method), as segment 3
        ],
        ignore_index=True,
    )
    assigned.insert(0, "customer_id", [f"c{i}" for i in range(len(assigned))])
    numeric = [
        {"name": c, "role": "numeric"} for c in ("recency", "frequency", "monetary", "tenure")
    ]
    schema = schema_from_params(
        {"columns": [{"name": "customer_id", "role": "id"}, *numeric], "features": ["recency"]}
    )
    return assigned, schema.to_dict()


def test_names_say_what_the_median_customer_does():
    """The transactions environment's words: 'One-off' only where the median is one order (else
    'Few orders'), 'New' for a short median tenure instead of the recency word, a level only where
    the median is at the mean's level (six big spenders do not make a segment 'High spend'), and
    no id suffix for a name the unassigned customers would have shared."""
    assigned, schema = order_log_segments()
    cl = load_parameters("transactions")["clustering"]
    cl["level_thresholds"] = {"low": -0.4, "high": 0.4}
    profiles, _ = profile_segments(assigned, schema, cl)
    names = profiles.set_index("segment_id")["segment_name"].to_dict()
    assert names == {
        0: "Unassigned",
        1: "New · One-off · Low spend",
        2: "Cooling · Few orders · High spend",
        3: "Recent · Frequent · Mid spend",
        4: "Lapsed · Occasional · Mid spend",
    }
    by_id = profiles.set_index("segment_id")
    assert by_id.loc[4, "z_monetary"] >= 0.4 and by_id.loc[4, "median_monetary"] == 300  # mean high
    assert by_id.loc[2, ["mean_frequency", "median_frequency"]].tolist() == [3, 3]


def test_a_status_word_comes_first_within_the_name_length():
    assigned, schema = order_log_segments()
    cl = load_parameters("transactions")["clustering"]
    cl["naming"] = {"columns": [], "max_columns": 2}
    cl["status_words"] = [
        {"word": "Loyal", "when": {"tenure": {"median_at_least": 300}, "frequency": {"median_at_least": 10}}},
        {"word": "Never", "when": {"absent_column": {"median_at_most": 1}}},  # not profiled: no
    ]  # fmt: skip
    names = profile_segments(assigned, schema, cl)[0].set_index("segment_id")["segment_name"]
    assert names[3].startswith("Loyal · ") and names[3].count(" · ") == 1
    assert not any(name.startswith(("Loyal", "Never")) for name in names.drop([0, 3]))


def test_action_rules_first_match_wins_and_categorical_conditions(fitted):
    _, assigned, cl, schema = fitted
    cl["actions"] = [
        {"when": {"spending_score": ["high", "mid"], "age": "low"}, "action": "young spenders"},
        {"when": {"annual_income_k": "high"}, "action": "affluent"},
        {"when": {"annual_income_k": "high", "spending_score": "low"}, "action": "never reached"},
    ]
    cl["default_action"] = "the rest"
    profiles, _ = profile_segments(assigned, schema, cl)
    assert profiles["suggested_action"].tolist() == [
        "the rest",
        "young spenders",
        "affluent",
        "affluent",
    ]
    mode = assigned[assigned["segment_id"] == 1]["gender"].mode().iloc[0]
    cl["actions"] = [{"when": {"gender": mode, "age": "high"}, "action": "by gender"}]
    profiles, _ = profile_segments(assigned, schema, cl)
    assert profiles["suggested_action"].iloc[0] == "by gender"


def test_action_rules_about_absent_columns_are_left_out_with_a_warning(fitted, caplog):
    _, assigned, cl, schema = fitted
    cl["actions"] = [
        {"when": {"balance": "high"}, "action": "card rule"},
        {"when": {"age": ["low", "mid", "high"]}, "action": "everyone"},
    ]
    profiles, _ = profile_segments(assigned, schema, cl)
    assert set(profiles["suggested_action"]) == {"everyone"}
    assert "clustering.actions[0] is left out: it names balance" in caplog.text
    cl["actions"] = [{"when": {"age": "high"}}]
    with pytest.raises(DataValidationError, match=r"clustering\.actions\[0\]: expected"):
        profile_segments(assigned, schema, cl)


def test_override_that_repeats_a_generated_name_keeps_names_unique(fitted):
    _, assigned, cl, schema = fitted
    generated = profile_segments(assigned, schema, cl)[0]["segment_name"].tolist()
    cl["segment_names"] = {1: generated[1]}
    names = profile_segments(assigned, schema, cl)[0]["segment_name"].tolist()
    assert names[0] == generated[1] and names[1] == f"{generated[1]} (2)"
    cl["segment_names"] = {1: "Same", 2: "Same"}
    with pytest.raises(DataValidationError, match="segment_names"):
        profile_segments(assigned, schema, cl)


def test_a_warm_started_final_fit_agrees_with_k_means_on_every_row():
    """Above `warm_start_rows`, the n_init starts run on a seeded sample and one fit on every row
    starts from its centroids: the segments agree with a full-data K-Means (ARI >= 0.99)."""
    customers = generate_clean_customers(30_000, seed=4)
    points = customers[["Annual Income (k$)", "Spending Score (1-100)"]].to_numpy(float)
    points = (points - points.mean(axis=0)) / points.std(axis=0)
    warm = OrderedKMeans(5, random_state=0, warm_start_rows=2_000).fit(points)
    full = OrderedKMeans(5, random_state=0).fit(points)
    assert adjusted_rand_score(full.labels_, warm.labels_) >= 0.99
    assert warm.n_fit_rows_ == 30_000 and warm.segment_sizes_.sum() == 30_000
