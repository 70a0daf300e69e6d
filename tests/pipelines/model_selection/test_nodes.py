"""Unit tests of model_selection on planted blobs built here."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.model_selection.nodes import select_k, sweep_k
from customer_segmentation.pipelines.model_selection.selection import consensus_pick, find_knee
from tests.conftest import load_parameters


def planted_blobs(count: int, per_blob: int = 80, seed: int = 0) -> pd.DataFrame:
    """`count` well-separated round blobs on a circle (radius 10, sd 0.7)."""
    angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
    centers = np.c_[10 * np.cos(angles), 10 * np.sin(angles)]
    points, _ = make_blobs(per_blob * count, centers=centers, cluster_std=0.7, random_state=seed)
    return pd.DataFrame(points, columns=["x", "y"])


def fast_parameters() -> dict:
    """Base model_selection parameters with fewer references, resamples and inits (quick tests)."""
    params = load_parameters()["model_selection"]
    params.update(gap_references=5, stability_resamples=4)
    params["kmeans"]["n_init"] = 4
    return params


@pytest.fixture
def ms() -> dict:
    return fast_parameters()


@pytest.fixture(scope="module")
def sweeps() -> dict[int, pd.DataFrame]:
    """One sweep per planted count, shared by the policy tests (sweeping is the slow part)."""
    return {count: sweep_k(planted_blobs(count), fast_parameters()) for count in (3, 5, 7)}


@pytest.mark.parametrize("count", [3, 5, 7])
@pytest.mark.parametrize("policy", ["elbow", "silhouette", "gap", "consensus"])
def test_every_policy_finds_the_planted_count(sweeps, ms, count, policy):
    ms["k_policy"] = policy
    selection = select_k(sweeps[count], ms)
    assert selection["k"] == count, selection["reason"]
    assert selection["policy"] == policy
    assert selection["reason"].endswith(".")


@pytest.mark.parametrize("count", [3, 5, 7])
def test_every_criterion_picks_the_planted_count(sweeps, ms, count):
    picks = select_k(sweeps[count], ms)["picks"]
    assert picks == dict.fromkeys(
        ["elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap"], count
    )


def test_fixed_policy_returns_the_given_k(sweeps, ms):
    ms.update(k_policy="fixed", k=4)
    selection = select_k(sweeps[5], ms)
    assert selection["k"] == 4 and "fixed" in selection["reason"]
    assert selection["picks"]["silhouette"] == 5  # the evidence is still recorded


def test_metrics_table_has_every_metric_per_k(sweeps):
    metrics = sweeps[5]
    assert metrics["k"].tolist() == list(range(1, 11))
    for column in [
        "wcss",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "gap_se",
        "stability_mean",
        "stability_std",
        "fit_seconds",
    ]:
        assert metrics.loc[metrics["k"] >= 2, column].notna().all(), column
    assert metrics["wcss"].is_monotonic_decreasing
    assert metrics.loc[metrics["k"] == 5, "stability_mean"].iloc[0] > 0.95


def test_curve_without_knee_warns_and_records_null(ms, caplog):
    ks = list(range(1, 11))
    no_bend = [1000 * np.exp(-0.2 * k) for k in ks]  # a straight line on the log scale
    knee, reason = find_knee(ks, no_bend)
    assert knee is None and "no knee" in reason
    metrics = pd.DataFrame(
        {
            "k": ks,
            "wcss": no_bend,
            "silhouette": [np.nan] + [0.5 - 0.01 * k for k in ks[1:]],
            "calinski_harabasz": [np.nan] + [10.0 - k for k in ks[1:]],
            "davies_bouldin": [np.nan] + [1.0 + 0.1 * k for k in ks[1:]],
            "gap": [0.1 * k for k in ks],
            "gap_se": [0.01] * 10,
            "stability_mean": [np.nan] * 10,
            "n_customers": 100,
        }
    )
    ms["k_policy"] = "elbow"
    with caplog.at_level(logging.WARNING):
        selection = select_k(metrics, ms)
    assert selection["knee"] is None and selection["picks"]["elbow"] is None
    assert "no knee" in selection["knee_reason"]
    assert any("no knee" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert selection["k"] == 2 and "fell back" in selection["reason"]


def test_silhouette_sampling_engages_above_threshold_and_is_reproducible(ms):
    blobs = planted_blobs(3, per_blob=200)
    ms.update(silhouette_sample_size=150, stability_resamples=0, gap_references=2)
    ms["k_range"]["max"] = 4
    first, second = sweep_k(blobs, ms), sweep_k(blobs, ms)
    in_range = first["k"] >= 2
    assert (first.loc[in_range, "silhouette_rows"] == 150).all()
    assert first.loc[in_range, "silhouette_sampled"].all()
    pd.testing.assert_series_equal(first["silhouette"], second["silhouette"])
    assert first["stability_mean"].isna().all()  # switched off
    ms["kmeans"]["random_state"] = 7
    assert not np.allclose(
        sweep_k(blobs, ms).loc[in_range, "silhouette"], first.loc[in_range, "silhouette"]
    )
    ms["silhouette_sample_size"] = 10_000
    assert not sweep_k(blobs, ms).loc[in_range, "silhouette_sampled"].any()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k_range": {"min": 1, "max": 5}}, r"k_range\.min: expected at least 2 segments, found 1"),
        (
            {"k_range": {"min": 2, "max": 30}},
            r"k_range\.max: expected fewer segments than customers \(30\), found 30",
        ),
        (
            {"k_range": {"min": 2, "max": 8}},
            r"k_range\.max: the features have only 6 distinct customers",
        ),
        ({"k_policy": "vibes"}, r"k_policy: expected one of .*'vibes'"),
        ({"k_policy": "fixed", "k": 1}, r"model_selection\.k: expected 2 ≤ k"),
    ],
)
def test_impossible_settings_name_the_parameter(ms, change, message):
    features = pd.DataFrame({"x": np.repeat(np.arange(6.0), 5), "y": np.repeat(np.arange(6.0), 5)})
    ms.update(change)
    if "k_range" not in change:
        ms["k_range"] = {"min": 2, "max": 4}
    with pytest.raises(DataValidationError, match=message):
        sweep_k(features, ms)


def test_consensus_ties_go_to_the_more_stable_then_the_smaller_k():
    picks = {"elbow": 4, "silhouette": 4, "calinski_harabasz": 6, "davies_bouldin": 6, "gap": 3}
    assert consensus_pick(picks, {4: 0.8, 6: 0.95, 3: 0.99})[0] == 6
    assert consensus_pick(picks, {4: 0.9, 6: 0.9})[0] == 4
    assert consensus_pick(picks, {})[0] == 4


def hand_made_metrics(**changes) -> pd.DataFrame:
    """A k_metrics table of k = 1..5 in which silhouette and Calinski-Harabasz prefer 2, the
    elbow and gap 3, and Davies-Bouldin 3 by 0.8 % (1.3406 vs 1.3515) within its noise (±0.045),
    as on a skewed 440-row table; k=2 is the more stable (0.91 vs 0.79)."""
    ks = [1, 2, 3, 4, 5]
    metrics = pd.DataFrame(
        {
            "k": ks,
            "wcss": [1000.0, 520.0, 300.0, 260.0, 235.0],
            "silhouette": [np.nan, 0.41, 0.33, 0.30, 0.28],
            "calinski_harabasz": [np.nan, 310.0, 270.0, 240.0, 220.0],
            "davies_bouldin": [np.nan, 1.3515, 1.3406, 1.45, 1.52],
            "silhouette_se": [np.nan, 0.01, 0.01, 0.01, 0.01],
            "calinski_harabasz_se": [np.nan, 12.0, 11.0, 10.0, 10.0],
            "davies_bouldin_se": [np.nan, 0.03, 0.034, 0.03, 0.03],
            "gap": [0.1, 0.3, 0.6, 0.61, 0.62],
            "gap_se": [0.02] * 5,
            "stability_mean": [np.nan, 0.91, 0.79, 0.70, 0.66],
            "stability_std": [np.nan, 0.05, 0.09, 0.1, 0.1],
            "n_customers": 440,
            "sweep_rows": 440,
        }
    )
    return metrics.assign(**changes)


def test_a_criterion_within_its_noise_abstains_and_a_split_vote_goes_to_the_more_stable_k(ms):
    ms.update(k_range={"min": 2, "max": 5})
    selection = select_k(hand_made_metrics(), ms)
    assert selection["picks"] == {
        "elbow": 3, "silhouette": 2, "calinski_harabasz": 2, "davies_bouldin": 3, "gap": 3
    }  # fmt: skip
    db = selection["criteria"]["davies_bouldin"]
    assert (db["k"], db["runner_up"], db["decides"]) == (3, 2, False)
    assert db["noise"] == pytest.approx(np.hypot(0.034, 0.03), abs=1e-4)
    assert selection["criteria"]["silhouette"]["decides"]  # 0.41 vs 0.33, noise 0.014
    assert selection["k"] == 2
    assert selection["near_tie"] == {
        "k": 2, "with": 3, "votes": {"2": 2, "3": 2}, "stability": {"2": 0.91, "3": 0.79},
        "decided_by": "stability",
    }  # fmt: skip
    reason = selection["reason"]
    assert reason.startswith("k = 2 (near tie with 3: silhouette and Calinski-Harabasz for 2; ")
    assert "Davies-Bouldin cannot tell 3 from 2 (1.341 vs 1.351, noise ±0.045)" in reason
    assert "2 is the more stable (bootstrap ARI 0.91 vs 0.79)" in reason


def test_without_measured_noise_every_criterion_votes_and_a_one_vote_lead_is_a_near_tie(ms):
    """The same table with no noise measured (criterion_resamples: 0): Davies-Bouldin votes, 3
    leads 3 to 2, which is close: the more stable k=2 still wins, and says so. Without stability
    either, the leader stands."""
    ms.update(k_range={"min": 2, "max": 5})
    no_noise = {f"{c}_se": np.nan for c in ("silhouette", "calinski_harabasz", "davies_bouldin")}
    selection = select_k(hand_made_metrics(**no_noise), ms)
    assert selection["criteria"]["davies_bouldin"]["decides"]
    assert selection["near_tie"]["votes"] == {"2": 2, "3": 3}
    assert selection["k"] == 2 and selection["near_tie"]["decided_by"] == "stability"
    ms["stability_resamples"] = 0
    unmeasured = hand_made_metrics(**no_noise, stability_mean=np.nan, stability_std=np.nan)
    selection = select_k(unmeasured, ms)
    assert selection["k"] == 3 and selection["near_tie"]["decided_by"] == "votes"
    assert "stability was not measured" in selection["reason"]


def test_a_clear_vote_is_no_near_tie(sweeps, ms):
    selection = select_k(sweeps[5], ms)
    assert selection["near_tie"] is None
    assert all(verdict["decides"] for verdict in selection["criteria"].values())
    assert sweeps[5].loc[sweeps[5]["k"] >= 2, "silhouette_se"].between(0, 0.05).all()


def test_two_groups_one_of_them_split_in_two_is_a_near_tie_the_more_stable_k_wins(ms):
    """Two far groups, one of which is two overlapping blobs: 2 and 3 segments are both defensible.
    The sweep measures each criterion's noise; the record says near tie and the more stable k wins."""
    rng = np.random.default_rng(0)
    points = np.r_[
        rng.normal([0, 0], 1.0, (150, 2)),
        rng.normal([3.5, 0], 1.0, (150, 2)),
        rng.normal([12, 0], 1.0, (140, 2)),
    ]
    ms.update(k_range={"min": 2, "max": 6}, stability_resamples=20, gap_references=10)
    ms["kmeans"]["n_init"] = 10
    selection = select_k(sweep_k(pd.DataFrame(points, columns=["x", "y"]), ms), ms)
    tie = selection["near_tie"]
    assert tie is not None and {tie["k"], tie["with"]} == {2, 3}, selection["reason"]
    assert tie["stability"][str(tie["k"])] >= tie["stability"][str(tie["with"])]
    assert selection["k"] == tie["k"] and selection["reason"].startswith(
        f"k = {tie['k']} (near tie"
    )


def test_a_sweep_on_a_sample_chooses_the_k_of_the_full_data_and_says_on_how_many_rows(ms):
    """Above `sweep_sample_size` the sweep runs on a seeded sample: the same k as on every row."""
    customers = planted_blobs(5, per_blob=2_000, seed=3)  # 10,000 customers
    ms.update(stability_resamples=0, gap_references=3, silhouette_sample_size=2_000)
    full = sweep_k(customers, {**ms, "sweep_sample_size": None})
    sampled = sweep_k(customers, {**ms, "sweep_sample_size": 2_500})
    assert (full["sweep_rows"] == 10_000).all() and (sampled["sweep_rows"] == 2_500).all()
    assert (sampled["n_customers"] == 10_000).all()
    chosen = [select_k(metrics, ms) for metrics in (full, sampled)]
    assert chosen[0]["k"] == chosen[1]["k"] == 5 and chosen[1]["sweep_rows"] == 2_500
    at_5 = [m.set_index("k").loc[5, "silhouette"] for m in (full, sampled)]
    assert abs(at_5[0] - at_5[1]) < 0.01
