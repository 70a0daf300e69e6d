"""The compared algorithms: one estimator contract, one yardstick, one documented choice."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs
from sklearn.pipeline import Pipeline

from customer_segmentation.errors import DataValidationError
from customer_segmentation.models import ALGORITHMS, UNASSIGNED, OrderedKMeans, OrderedSegments
from customer_segmentation.pipelines.comparison.nodes import (
    SCORE_COLUMNS,
    choose_algorithm,
    compare_algorithms,
    draw_comparison_sample,
    fit_candidate,
    score_candidate,
)
from customer_segmentation.pipelines.data_processing.features import build_features
from customer_segmentation.pipelines.scoring.nodes import score_customers
from tests.conftest import load_parameters


@pytest.fixture(scope="module")
def comparison() -> dict:
    params = load_parameters()["comparison"]
    return {**params, "stability_resamples": 2}


@pytest.fixture(scope="module")
def blobs() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs([300, 200, 120], centers=[[0, 0], [6, 0], [0, 6]], random_state=1)


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "k_prototypes"])
def test_every_algorithm_gives_stable_ids_by_size_and_predicts_its_own_labels(
    algorithm, blobs, comparison
):
    features, _ = blobs
    options = {k: v for k, v in comparison["algorithms"][algorithm].items() if k != "max_fit_rows"}
    model = OrderedSegments(3, algorithm, random_state=0, options=options).fit(features)
    assert model.segment_ids_.tolist() == [1, 2, 3]
    assert model.segment_sizes_.tolist() == sorted(model.segment_sizes_, reverse=True)
    assert (model.predict(features) == model.labels_).all()
    assert model.transform(features).shape == (len(features), 3)
    restored = pickle.loads(pickle.dumps(model))
    assert (restored.predict(features[:50]) == model.labels_[:50]).all()


def test_hdbscan_leaves_far_customers_unassigned(blobs, comparison):
    features, _ = blobs
    model = OrderedSegments(3, "hdbscan", random_state=0, options={"min_cluster_size": 40}).fit(
        features
    )
    far_away = np.array([[40.0, 40.0], [-30.0, 5.0]])
    assert model.predict(far_away).tolist() == [UNASSIGNED, UNASSIGNED]
    assert model.predict(model.cluster_centers_).tolist() == [1, 2, 3]


def test_max_fit_rows_fits_on_a_sample_and_assigns_everyone(blobs):
    features, _ = blobs
    model = OrderedSegments(3, "agglomerative", random_state=0, options={}, max_fit_rows=100)
    model.fit(features)
    assert model.n_fit_rows_ == 100 and len(model.labels_) == len(features)
    assert model.segment_sizes_.sum() == len(features)


def test_models_saved_by_earlier_versions_still_load_and_predict(blobs):
    features, _ = blobs
    assert OrderedKMeans is OrderedSegments
    old = OrderedKMeans(3, algorithm="minibatch", random_state=0).fit(features)  # earlier name
    assert np.abs(np.sort(np.bincount(old.labels_)[1:]) - [120, 200, 300]).max() <= 2


def test_sample_is_a_seeded_prefix_of_a_permutation(comparison):
    features = pd.DataFrame({"a": np.arange(1000.0), "b": 0.0})
    transformer = transformer_without_categories()
    small = draw_comparison_sample(features, transformer, {**comparison, "sample_size": 100})
    again = draw_comparison_sample(features, transformer, {**comparison, "sample_size": 100})
    assert small["customers"] == 1000 and small["features"].shape == (100, 2)
    assert (small["features"] == again["features"]).all()
    everyone = draw_comparison_sample(features, transformer, comparison)
    assert sorted(everyone["features"][:, 0]) == list(range(1000))


def candidates(blobs, comparison, k: int = 3) -> dict:
    features, _ = blobs
    sample = {"features": features, "customers": len(features), "categorical_blocks": []}
    selection = {"k": k, "k_range": [2, 6]}
    out = {"sample": sample}
    for algorithm in ALGORITHMS:
        options = comparison["algorithms"][algorithm]
        candidate = fit_candidate(sample, selection, options, comparison, algorithm)
        out[f"{algorithm}_candidate"] = candidate
        out[f"{algorithm}_scores"] = score_candidate(sample, candidate, options, comparison)
    return out


def test_one_yardstick_for_every_algorithm(blobs, comparison):
    found = candidates(blobs, comparison)
    table, agreement = compare_algorithms(**found)
    assert table["algorithm"].tolist() == list(ALGORITHMS) and list(table.columns) == SCORE_COLUMNS
    ran = table[table["algorithm"] != "k_prototypes"]  # no categorical features here
    assert (ran["status"] == "ok").all() and (ran["stability"] > 0.9).all()
    table = ran
    assert table["silhouette"].between(0.5, 1).all() and (table["calinski_harabasz"] > 0).all()
    assert table.set_index("algorithm").loc["gaussian_mixture", "bic_k"] == 3
    assert table.set_index("algorithm").loc["kmeans", "smallest_segment_share"] == pytest.approx(
        120 / 620, abs=0.01
    )
    matrix = agreement.set_index("algorithm")
    assert (np.diag(matrix) == 1).all() and (matrix.to_numpy() == matrix.to_numpy().T).all()
    assert matrix.loc["kmeans", "agglomerative"] > 0.95


def test_algorithms_left_out_or_failing_are_reported_not_fatal(blobs, comparison):
    params = {**comparison, "run": ["kmeans"]}
    features, _ = blobs
    sample = {"features": features, "customers": len(features), "categorical_blocks": []}
    skipped = fit_candidate(
        sample, {"k": 3}, params["algorithms"]["agglomerative"], params, "agglomerative"
    )
    assert skipped["status"] == "not run (not in comparison.run)"
    failing = fit_candidate(sample, {"k": 3}, {"min_cluster_size": 600}, comparison, "hdbscan")
    assert failing["status"].startswith("failed: hdbscan found no cluster")
    row = score_candidate(sample, failing, {}, comparison)
    assert row["status"] == failing["status"] and row["silhouette"] is None


def table_of(rows: list[dict]) -> pd.DataFrame:
    base = {"status": "ok", "k": 3, "share_unassigned": 0.0, "smallest_segment_share": 0.2}
    return pd.DataFrame([{**base, **row} for row in rows])


def test_best_picks_the_highest_silhouette_that_meets_the_rule(comparison):
    table = table_of(
        [
            {"algorithm": "kmeans", "silhouette": 0.60, "stability": 0.95},
            {"algorithm": "agglomerative", "silhouette": 0.70, "stability": 0.70},  # unstable
            {"algorithm": "gaussian_mixture", "silhouette": 0.65, "stability": 0.90},
            {"algorithm": "hdbscan", "silhouette": 0.80, "stability": 0.9, "share_unassigned": 0.2},
        ]
    )
    best = choose_algorithm(table, {"algorithm": "best"}, comparison)
    assert best["algorithm"] == "gaussian_mixture" and best["policy"] == "best"
    assert best["eligible"] == ["kmeans", "gaussian_mixture"] and "stability ≥ 0.8" in best["rule"]
    assert best["reason"].startswith(
        "Segments made by a Gaussian mixture, chosen by the automatic rule because of the 2 "
        "algorithms that meet it (the highest silhouette among algorithms with stability ≥ 0.8"
    )
    assert best["reason"].endswith("it separates the segments best (silhouette 0.650)")
    named = choose_algorithm(table, {"algorithm": "kmeans"}, comparison)
    assert named["algorithm"] == "kmeans" and named["algorithm_name"] == "k-means"
    assert named["reason"].startswith(
        "Segments made by k-means (set by clustering.algorithm); the automatic rule "
        "(clustering.algorithm: best) would have chosen a Gaussian mixture instead, because of the 2"
    )
    itself = choose_algorithm(table, {"algorithm": "gaussian_mixture"}, comparison)["reason"]
    assert "; the automatic rule would choose it too, because" in itself
    nobody = table.assign(stability=0.1)
    fallback = choose_algorithm(nobody, {"algorithm": "best"}, comparison)
    assert fallback["algorithm"] == "kmeans"
    assert fallback["reason"].startswith(
        "Segments made by k-means: no algorithm meets the automatic"
    )
    assert "_" not in fallback["reason"].split("(")[0]  # plain words, no parameter values
    assert (
        choose_algorithm(table, {"algorithm": "minibatch"}, comparison)["algorithm"]
        == "minibatch_kmeans"
    )


def test_an_unknown_algorithm_is_named_with_the_choices(comparison):
    table = table_of([{"algorithm": "kmeans", "silhouette": 0.6, "stability": 0.9}])
    with pytest.raises(
        DataValidationError, match="expected best or one of kmeans, minibatch_kmeans"
    ):
        choose_algorithm(table, {"algorithm": "dbscan"}, comparison)
    with pytest.raises(DataValidationError, match="found unknown \\['dbscan'\\]"):
        draw_comparison_sample(
            pd.DataFrame({"a": [1.0]}),
            transformer_without_categories(),
            {**comparison, "run": ["dbscan"]},
        )


def test_k_prototypes_runs_on_mixed_data_and_is_compared_with_one_hot_kmeans(comparison):
    rng = np.random.default_rng(3)
    channel = np.repeat(["Retail", "Hotel", "Cafe"], [150, 100, 80])
    spend = np.concatenate([rng.normal(0, 1, 150), rng.normal(3, 1, 100), rng.normal(6, 1, 80)])
    customers = pd.DataFrame(
        {"id": [f"c{i}" for i in range(330)], "spend": spend, "channel": channel}
    )
    params = {
        "columns": [{"name": "id", "role": "id"}, {"name": "spend", "role": "numeric"},
                    {"name": "channel", "role": "categorical"}],
        "features": ["spend", "channel"], "scaler": "standard", "source_file": "mixed.csv",
    }  # fmt: skip
    transformer, features = build_features(customers, params)
    sample = draw_comparison_sample(features, transformer, comparison)
    assert sample["categorical_blocks"] == [[1, 2, 3]]  # the three channel columns
    found = {}
    for algorithm in ("kmeans", "k_prototypes"):
        options = comparison["algorithms"][algorithm]
        candidate = fit_candidate(sample, {"k": 3}, options, comparison, algorithm)
        found[algorithm] = score_candidate(sample, candidate, options, comparison)
        assert candidate["status"] == "ok" and found[algorithm]["k"] == 3
    assert found["k_prototypes"]["silhouette"] > 0.3
    without = draw_comparison_sample(
        features[["spend"]], transformer_without_categories(), comparison
    )
    skipped = fit_candidate(without, {"k": 3}, {}, comparison, "k_prototypes")
    assert skipped["status"] == "not run (no categorical features declared)"


def transformer_without_categories():
    params = {"columns": [{"name": "id", "role": "id"}, {"name": "spend", "role": "numeric"}],
              "features": ["spend"], "scaler": "standard", "source_file": "x.csv"}  # fmt: skip
    frame = pd.DataFrame({"id": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0]})
    return build_features(frame, params)[0]


def test_a_new_customer_far_from_every_density_segment_is_scored_unassigned(blobs):
    features, _ = blobs
    frame = pd.DataFrame(features, columns=["a", "b"])
    passthrough = ColumnTransformer([("keep", "passthrough", ["a", "b"])]).fit(frame)
    model = Pipeline(
        [
            ("features", passthrough),
            ("segments", OrderedSegments(3, "hdbscan", options={"min_cluster_size": 40})),
        ]
    ).fit(frame)
    k = len(model.named_steps["segments"].segment_ids_)
    profiles = pd.DataFrame(
        {"segment_id": range(1, k + 1), "segment_name": [f"S{i}" for i in range(1, k + 1)]}
    )
    new = pd.DataFrame({"customer_id": ["near", "far"], "a": [0.0, 90.0], "b": [0.0, 90.0]})
    scored = score_customers(new, model, profiles).set_index("customer_id")
    assert scored.loc["far", "segment_id"] == UNASSIGNED
    assert scored.loc["far", "segment_name"] == "Unassigned"
    assert scored.loc["near", "segment_name"].startswith("S")
