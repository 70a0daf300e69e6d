"""Unit tests of the nodes whose outputs are the tracked run's MLflow metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, silhouette_score
from sklearn.pipeline import Pipeline

from customer_segmentation.models import OrderedSegments
from customer_segmentation.pipelines.reporting.tracking import (
    run_metrics,
    score_segments,
    sweep_metrics,
)


def test_sweep_metrics_are_series_over_k():
    k_metrics = pd.DataFrame(
        {"k": [1, 2, 3], "wcss": [9.0, 4.0, 2.0], "silhouette": [np.nan, 0.5, 0.6],
         "calinski_harabasz": [np.nan, 10.0, 12.0], "davies_bouldin": [np.nan, 0.8, 0.7],
         "gap": [0.1, 0.2, 0.3], "stability_mean": [np.nan, 1.0, 0.9]}
    )  # fmt: skip
    series = sweep_metrics(k_metrics)
    assert series["wcss"] == [{"step": 1, "value": 9.0}, {"step": 2, "value": 4.0},
                              {"step": 3, "value": 2.0}]  # fmt: skip
    assert [p["step"] for p in series["silhouette"]] == [2, 3]


def test_run_metrics_name_k_scores_sizes_and_rows():
    profiles = pd.DataFrame({"segment_id": [1, 2], "size": [60, 40], "share": [0.6, 0.4]})
    metrics = run_metrics(
        {"k": 2},
        {"silhouette": 0.5, "calinski_harabasz": 80.0, "davies_bouldin": None},
        profiles,
        {"rows_in": 103, "rows_kept": 100, "rows_quarantined": 3},
    )
    assert metrics["k"] == {"value": 2.0, "step": 0}
    assert metrics["segment_size.1"]["value"] == 60.0
    assert metrics["segment_share.2"]["value"] == 0.4
    assert metrics["rows_quarantined"]["value"] == 3.0
    assert "davies_bouldin" not in metrics  # not computable: not logged


def test_score_segments_scores_the_saved_models_segments():
    rng = np.random.default_rng(0)
    features = pd.DataFrame(
        np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (30, 2))]), columns=["a", "b"]
    )
    segments = OrderedSegments(n_clusters=2, random_state=0).fit(features.to_numpy())
    model = Pipeline([("segments", segments)])
    labels = segments.predict(features.to_numpy())
    quality = score_segments(features, model, {"silhouette_sample_size": 1000, "random_state": 1})
    assert quality["silhouette"] == round(silhouette_score(features, labels), 6)
    assert quality["calinski_harabasz"] == round(calinski_harabasz_score(features, labels), 6)
    assert quality["silhouette_rows"] == quality["scored_rows"] == quality["customers"] == 80
    sampled = score_segments(features, model, {"silhouette_sample_size": 20, "random_state": 1})
    assert sampled["silhouette_rows"] == 20 and sampled["scored_rows"] == 80
