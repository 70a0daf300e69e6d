"""Nodes of the model_selection pipeline: sweep k, score every candidate, choose k with a reason."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pandas as pd

from customer_segmentation.engine import is_spark, spark_sample
from customer_segmentation.errors import DataValidationError

from .metrics import (
    bootstrap_stability,
    gap_statistic,
    internal_indices,
    make_kmeans,
    noise_resamples,
    seeded_sample,
)
from .selection import (
    CRITERIA,
    POLICIES,
    choose_k,
    criterion_picks,
    criterion_verdicts,
    find_knee,
)

logger = logging.getLogger(__name__)


def check_k_range(n_rows: int, distinct: int, params: dict[str, Any]) -> tuple[int, int]:
    """(k_min, k_max) from `k_range` for features of `n_rows` rows, `distinct` of them different,
    or a DataValidationError naming the parameter and the value."""
    k_min, k_max = int(params["k_range"]["min"]), int(params["k_range"]["max"])
    if k_min < 2:
        raise DataValidationError(
            f"parameter model_selection.k_range.min: expected at least 2 segments, found {k_min}"
        )
    if k_max < k_min:
        raise DataValidationError(
            f"parameter model_selection.k_range.max: expected at least k_range.min ({k_min}), found {k_max}"
        )
    if k_max >= n_rows:
        raise DataValidationError(
            f"parameter model_selection.k_range.max: expected fewer segments than customers "
            f"({n_rows}), found {k_max}"
        )
    if distinct < k_max:
        raise DataValidationError(
            f"parameter model_selection.k_range.max: the features have only {distinct} distinct "
            f"customers, fewer than k={k_max}; expected k_range.max ≤ {distinct}"
        )
    if params["k_policy"] not in POLICIES:
        raise DataValidationError(
            f"parameter model_selection.k_policy: expected one of {', '.join(POLICIES)}, "
            f"found {params['k_policy']!r}"
        )
    if params["k_policy"] == "fixed" and not 2 <= int(params["k"]) <= min(n_rows - 1, distinct):
        raise DataValidationError(
            f"parameter model_selection.k: expected 2 ≤ k ≤ {min(n_rows - 1, distinct)} for "
            f"k_policy fixed, found {params['k']}"
        )
    return k_min, k_max


def sweep_k(model_features: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Fit K-Means for k = 1 … k_range.max; one row of metrics per k (WCSS only below k_range.min).

    Columns: k, wcss, silhouette (+ the rows it used), calinski_harabasz, davies_bouldin, their
    bootstrap standard errors (silhouette_se, calinski_harabasz_se, davies_bouldin_se: the noise
    `select_k` weighs a criterion's preference against; NaN with `criterion_resamples: 0`), gap,
    gap_se, stability_mean, stability_std (NaN when switched off), fit_seconds, sweep_rows (the
    customers the sweep ran on: all, or a seeded sample of `sweep_sample_size`), n_customers.

    On Spark (`kedro run --env spark`) Spark draws the seeded sample (`spark_frames.seeded_rows`,
    ordered by customer id) and the same scikit-learn sweep runs on it on the driver: the sweep's
    work depends on the sample's size, not on the number of customers.
    """
    kmeans, seed = params["kmeans"], int(params["kmeans"]["random_state"])
    if is_spark(model_features):
        id_column = model_features.columns[0]
        sample, customers = spark_sample(
            model_features, params.get("sweep_sample_size"), seed, [id_column]
        )
        features = sample.set_index(id_column).to_numpy(dtype=float)
    else:
        customers = len(model_features)
        sweep_rows = seeded_sample(customers, params.get("sweep_sample_size"), seed)
        features = model_features.to_numpy(dtype=float)[sweep_rows]
    if len(features) < customers:
        logger.info("Sweeping k on a seeded sample of %d of %d customers", len(features), customers)
    distinct = len(np.unique(features, axis=0)) if len(features) else 0
    k_min, k_max = check_k_range(len(features), distinct, params)
    silhouette_rows = seeded_sample(len(features), params["silhouette_sample_size"], seed)
    gap_rows = seeded_sample(len(features), params["gap_sample_size"], seed)
    stability_rows = seeded_sample(len(features), params["stability_sample_size"], seed)
    resamples = noise_resamples(
        len(features), len(silhouette_rows), params.get("criterion_resamples", 0), seed
    )
    ks = list(range(1, k_max + 1))
    gap, gap_se = gap_statistic(features[gap_rows], ks, params["gap_references"], kmeans, seed)
    rows = []
    for i, k in enumerate(ks):
        started = time.perf_counter()
        model = make_kmeans(k, kmeans, seed).fit(features)
        row: dict[str, Any] = {
            "k": k,
            "wcss": float(model.inertia_),
            "fit_seconds": time.perf_counter() - started,
        }
        row.update(gap=float(gap[i]), gap_se=float(gap_se[i]))
        if k >= k_min:
            row.update(internal_indices(features, model.labels_, silhouette_rows, resamples))
            row["silhouette_rows"] = len(silhouette_rows)
            if params["stability_resamples"]:
                mean, spread = bootstrap_stability(
                    features[stability_rows],
                    model.labels_[stability_rows],
                    k,
                    params["stability_resamples"],
                    kmeans,
                    seed,
                )
                row.update(stability_mean=mean, stability_std=spread)
        rows.append(row)
        log_candidate(row)
    return metrics_table(rows, len(features), customers)


def log_candidate(row: dict[str, Any]) -> None:
    """One line per k of the sweep in the run's log."""
    logger.info(
        "k=%d: wcss=%.1f silhouette=%s CH=%s DB=%s gap=%.3f±%.3f stability=%s (%.2f s)",
        row["k"],
        row["wcss"],
        _fmt(row.get("silhouette")),
        _fmt(row.get("calinski_harabasz"), 1),
        _fmt(row.get("davies_bouldin")),
        row["gap"],
        row["gap_se"],
        _fmt(row.get("stability_mean")),
        row["fit_seconds"],
    )


def metrics_table(rows: list[dict[str, Any]], sweep_rows: int, customers: int) -> pd.DataFrame:
    """The `k_metrics` table from one dict per k, in the documented column order."""
    columns = [
        "k", "wcss", "silhouette", "silhouette_rows", "calinski_harabasz", "davies_bouldin",
        "silhouette_se", "calinski_harabasz_se", "davies_bouldin_se",
        "gap", "gap_se", "stability_mean", "stability_std", "fit_seconds",
    ]  # fmt: skip
    metrics = pd.DataFrame(rows).reindex(columns=columns)
    metrics["silhouette_rows"] = metrics["silhouette_rows"].astype("Int64")
    metrics["silhouette_sampled"] = metrics["silhouette_rows"] < customers
    metrics["sweep_rows"] = sweep_rows
    metrics["n_customers"] = customers
    return metrics


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def select_k(k_metrics: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """Choose k by `k_policy`; return the choice, each criterion's pick, the knee and the reason."""
    ks, wcss = k_metrics["k"].tolist(), k_metrics["wcss"].tolist()
    knee, knee_reason = find_knee(ks, wcss, params["knee_sensitivity"], params["elbow_scale"])
    if knee is None:
        logger.warning("Elbow: %s", knee_reason)
    picks = criterion_picks(k_metrics, knee)
    k, reason, near_tie = choose_k(k_metrics, picks, knee_reason, params)
    logger.info("Chose k=%d by %s: %s", k, params["k_policy"], reason)
    stability = k_metrics.set_index("k")["stability_mean"].dropna()
    return {
        "k": int(k),
        "policy": params["k_policy"],
        "reason": reason,
        "picks": {c: picks[c] for c in CRITERIA},
        # silhouette, CH, DB: pick, runner-up, values, noise, and whether the pick beats the noise
        "criteria": criterion_verdicts(k_metrics),
        "near_tie": near_tie,
        "knee": knee,
        "knee_reason": knee_reason,
        "stability_of_chosen_k": None if k not in stability else round(float(stability[k]), 4),
        "k_range": [int(params["k_range"]["min"]), int(params["k_range"]["max"])],
        "n_customers": int(k_metrics["n_customers"].iloc[0]),
        "sweep_rows": int(k_metrics["sweep_rows"].iloc[0])
        if "sweep_rows" in k_metrics
        else int(k_metrics["n_customers"].iloc[0]),
    }
