"""The comparison through Kedro's runner on the planted default customers, and every algorithm end
to end: clustering (stable ids, names, profiles) and scoring with the model it saves."""

from __future__ import annotations

import copy

import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.data_generator import generate_new_customers
from customer_segmentation.models import ALGORITHMS, CENTROID_METHODS, UNASSIGNED
from customer_segmentation.pipelines import clustering, comparison, scoring
from tests.conftest import run_pipeline
from tests.pipelines.clustering.test_pipeline import fast_parameters, planted_labels, run_training


@pytest.fixture(scope="module")
def trained() -> dict:
    return run_training(fast_parameters())


def test_the_comparison_table_covers_every_algorithm_on_all_customers(trained):
    table = trained["algorithm_comparison"].set_index("algorithm")
    assert table.index.tolist() == list(ALGORITHMS)
    assert (table.drop(index="k_prototypes")["status"] == "ok").all()
    assert table.loc["k_prototypes", "status"] == "not run (no categorical features declared)"
    table = table.drop(index="k_prototypes")
    customers = len(trained["customers_primary"])
    assert (table["fit_rows"] == customers).all() and (table["customers"] == customers).all()
    assert (
        table.loc[list(CENTROID_METHODS) + ["agglomerative", "gaussian_mixture"], "k"] == 5
    ).all()
    assert trained["algorithm_choice"]["algorithm"] == "kmeans"  # the default names k-means


@pytest.mark.parametrize("algorithm", [a for a in ALGORITHMS if a != "k_prototypes"])
def test_each_algorithm_segments_names_and_scores_end_to_end(trained, algorithm):
    params = fast_parameters()
    inputs = {
        name: trained[name]
        for name in (
            "customers_primary",
            "feature_transformer",
            "cleaning_statistics",
            "k_selection",
            "column_schema",
        )
    }
    inputs.update(
        {
            "algorithm_choice": {"algorithm": algorithm},
            "params:clustering": params["clustering"],
            "params:comparison": params["comparison"],
        }
    )
    segmented = run_pipeline(clustering.create_pipeline(), inputs)
    customers = segmented["segmented_customers"]
    assert len(customers) == len(trained["customers_primary"])  # nobody disappears
    profiles = segmented["segment_profiles"]
    assert profiles["segment_name"].is_unique and profiles["segment_name"].notna().all()
    if algorithm == "hdbscan":
        unassigned = profiles[profiles["segment_id"] == UNASSIGNED]
        assert unassigned.empty or unassigned["segment_name"].item() == "Unassigned"
    else:
        assert profiles["segment_id"].tolist() == [1, 2, 3, 4, 5]
        assert profiles["size"].is_monotonic_decreasing
        ari = adjusted_rand_score(planted_labels(customers["customer_id"]), customers["segment_id"])
        assert ari >= 0.9, (algorithm, ari)

    scored = run_pipeline(
        scoring.create_pipeline(),
        {
            "new_customers_raw": generate_new_customers(),
            "segment_model": segmented["segment_model"],
            "segment_profiles": profiles,
            "params:data_processing": copy.deepcopy(params["data_processing"]),
            "params:scoring": params["scoring"],
        },
    )["scored_customers"]
    assert scored["segment_id"].isin(profiles["segment_id"]).all() and len(scored) > 0
    again = segmented["segment_model"].predict(trained["customers_primary"])
    assert (again == customers.set_index("customer_id").loc[
        trained["customers_primary"]["customer_id"], "segment_id"].to_numpy()).all()  # fmt: skip


def test_each_algorithm_is_one_namespace_of_the_same_template():
    pipeline = comparison.create_pipeline()
    namespaces = {node.namespace for node in pipeline.nodes if node.namespace}
    assert namespaces == set(ALGORITHMS)
    for algorithm in ALGORITHMS:
        names = sorted(n.name.removeprefix(f"{algorithm}.") for n in pipeline.nodes
                       if n.namespace == algorithm)  # fmt: skip
        assert names == ["fit_candidate_node", "score_candidate_node"]
    assert f"params:comparison.algorithms.{ALGORITHMS[0]}" in pipeline.inputs()


def test_k_prototypes_makes_and_scores_segments_when_a_categorical_feature_is_declared():
    params = fast_parameters()
    params["data_processing"]["features"] = ["annual_income_k", "spending_score", "gender"]
    params["clustering"]["algorithm"] = "k_prototypes"
    trained = run_training(params)
    table = trained["algorithm_comparison"].set_index("algorithm")
    assert table.loc["k_prototypes", "status"] == "ok"
    assert trained["algorithm_choice"]["algorithm"] == "k_prototypes"
    model = trained["segment_model"]
    assert model.named_steps["segments"].algorithm == "k_prototypes"
    customers = trained["segmented_customers"]
    assert len(customers) == len(trained["customers_primary"])
    assert trained["segment_profiles"]["segment_name"].is_unique
    new = generate_new_customers().dropna()
    scored = run_pipeline(
        scoring.create_pipeline(),
        {
            "new_customers_raw": new,
            "segment_model": model,
            "segment_profiles": trained["segment_profiles"],
            "params:data_processing": copy.deepcopy(params["data_processing"]),
            "params:scoring": params["scoring"],
        },
    )["scored_customers"]
    assert scored["segment_id"].between(1, trained["k_selection"]["k"]).all()
