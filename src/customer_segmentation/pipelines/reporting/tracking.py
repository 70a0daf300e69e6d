"""What a tracked run records as MLflow metrics: the quality of the final segments, the k sweep as
step series (step = k), the chosen k, segment sizes and the row accounting.

The nodes return plain values; the catalog's `kedro_mlflow` metric datasets log them (run_metrics,
k_sweep_metrics), so nothing here talks to MLflow.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline as SklearnPipeline

from customer_segmentation.models import UNASSIGNED
from customer_segmentation.pipelines.model_selection.metrics import internal_indices, seeded_sample

SWEEP_COLUMNS = [
    "wcss",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "gap",
    "stability_mean",
]


def score_segments(
    model_features: pd.DataFrame, segment_model: SklearnPipeline, params: dict[str, Any]
) -> dict[str, Any]:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin of the final segments on the model features
    (the segment of each customer from the saved model's clusterer). The silhouette is O(n²): above
    `silhouette_sample_size` customers it is computed on a seeded sample. Customers a density model
    leaves unassigned are left out. On Spark the features are the plots' seeded sample."""
    features = model_features.to_numpy(dtype=float)
    labels = segment_model.named_steps["segments"].predict(features)
    assigned = labels != UNASSIGNED
    features, labels = features[assigned], labels[assigned]
    rows = seeded_sample(len(labels), params["silhouette_sample_size"], params["random_state"])
    scores = (
        internal_indices(features, labels, rows)
        if len(set(labels)) > 1
        else {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    )
    customers = model_features.attrs.get("customers", len(model_features))
    return {
        **{name: None if v is None else round(v, 6) for name, v in scores.items()},
        "silhouette_rows": len(rows),
        "scored_rows": len(labels),
        "customers": int(customers),
        "unassigned": int((~assigned).sum()),
    }


def sweep_metrics(k_metrics: pd.DataFrame) -> dict[str, list[dict[str, float]]]:
    """Each score of the k sweep as one MLflow metric series over k (the step)."""
    series = {}
    for column in SWEEP_COLUMNS:
        values = k_metrics[["k", column]].dropna() if column in k_metrics else pd.DataFrame()
        points = [{"step": int(k), "value": float(v)} for k, v in values.itertuples(index=False)]
        if points:
            series[column] = points
    return series


def run_metrics(
    k_selection: dict[str, Any],
    segment_quality: dict[str, Any],
    segment_profiles: pd.DataFrame,
    data_quality_report: dict[str, Any],
) -> dict[str, dict[str, float]]:
    """The run's headline numbers as MLflow metrics: chosen k, the final segments' scores, the size
    and share of each segment, rows in / kept / quarantined."""
    values: dict[str, Any] = {
        "k": k_selection["k"],
        "segments": len(segment_profiles),
        **{
            name: segment_quality[name]
            for name in ("silhouette", "calinski_harabasz", "davies_bouldin")
        },
        **{
            name: data_quality_report[name] for name in ("rows_in", "rows_kept", "rows_quarantined")
        },
    }
    for row in segment_profiles.itertuples(index=False):
        values[f"segment_size.{row.segment_id}"] = row.size
        values[f"segment_share.{row.segment_id}"] = row.share
    return {
        name: {"value": float(value), "step": 0}
        for name, value in values.items()
        if value is not None and np.isfinite(float(value))
    }
