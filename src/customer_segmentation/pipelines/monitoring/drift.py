"""Drift of a scored batch against the training population: is this month's batch still like the
customers the segments were made from?

Per model feature: the population stability index (PSI) over the training deciles (numeric) or the
categories (categorical), and for numeric features the two-sample Kolmogorov-Smirnov statistic and
its p-value. For the batch as a whole: the share of new customers farther from their nearest centroid
than the training customers' 99th-percentile distance, and the segment mix against training (with
its own PSI). Each measure gets a status from the thresholds in `monitoring.drift`: stable, watch
or act.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.stats import ks_2samp
from sklearn.pipeline import Pipeline

from customer_segmentation.engine import is_spark, spark_sample
from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.clustering.nodes import model_features_of
from customer_segmentation.plot_style import plain_text, segment_colours
from customer_segmentation.schema import schema_from_dict

logger = logging.getLogger(__name__)

EPSILON = 1e-4  # share given to an empty bin, so that PSI stays finite
STATUS_ORDER = {"stable": 0, "watch": 1, "act": 2}
STATUS_COLOURS = {"stable": "#4c9a2a", "watch": "#e0a100", "act": "#c0392b"}


class DriftError(DataValidationError):
    """The new batch has drifted beyond the "act" thresholds and `monitoring.drift.strict` is on."""


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI = Σ (actual − expected) · ln(actual / expected) over the bins' shares."""
    expected = np.clip(expected, EPSILON, None)
    actual = np.clip(actual, EPSILON, None)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def numeric_shares(
    training: np.ndarray, batch: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Shares of training and batch values in the training quantile bins (open-ended outer bins)."""
    edges = np.unique(np.quantile(training, np.linspace(0, 1, bins + 1))[1:-1])
    expected = np.bincount(np.searchsorted(edges, training, side="right"), minlength=len(edges) + 1)
    actual = np.bincount(np.searchsorted(edges, batch, side="right"), minlength=len(edges) + 1)
    return expected / expected.sum(), actual / actual.sum()


def categorical_shares(training: pd.Series, batch: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each training category (and of any category training never saw) in both."""
    categories = sorted(set(training.astype(str)) | set(batch.astype(str)))
    expected = training.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    actual = batch.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    return expected.to_numpy(), actual.to_numpy()


def status_of(value: float | None, watch: float, act: float) -> str:
    if value is None or not np.isfinite(value):
        return "stable"
    return "act" if value >= act else "watch" if value >= watch else "stable"


def _training_table(
    training: Any, id_column: str, params: dict[str, Any]
) -> tuple[pd.DataFrame, int]:
    """The training customers (a seeded sample of `sample_size` from a Spark table) and their count."""
    if is_spark(training):
        return spark_sample(training, params["sample_size"], params["random_state"], [id_column])
    return training, len(training)


def feature_drift(
    training: pd.Series, batch: pd.Series, numeric: bool, params: dict[str, Any]
) -> dict[str, Any]:
    """PSI (and for a numeric feature KS statistic and p-value) of one feature, with its status.
    A PSI above a threshold that the KS test does not confirm (p-value ≥ `ks_p_value`: the batch is
    too small to tell) stays "stable"."""
    thresholds = params["thresholds"]
    training, batch = training.dropna(), batch.dropna()
    if numeric:
        train_values, batch_values = training.to_numpy(float), batch.to_numpy(float)
        expected, actual = numeric_shares(train_values, batch_values, params["psi_bins"])
        test = ks_2samp(train_values, batch_values)
        ks, p_value = float(test.statistic), float(test.pvalue)
    else:
        expected, actual = categorical_shares(training, batch)
        ks = p_value = None
    psi = population_stability_index(expected, actual)
    status = status_of(psi, thresholds["psi_watch"], thresholds["psi_act"])
    if p_value is not None and p_value >= params["ks_p_value"]:
        status = "stable"
    return {
        "psi": round(psi, 4),
        "ks_statistic": None if ks is None else round(ks, 4),
        "ks_p_value": None if p_value is None else float(f"{p_value:.4g}"),
        "training_mean": round(float(training.mean()), 4) if numeric else None,
        "batch_mean": round(float(batch.mean()), 4) if numeric else None,
        "status": status,
    }


def measure_drift(
    training_customers: Any,
    scored_customers: pd.DataFrame,
    segment_model: Pipeline,
    column_schema: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """The drift report of a scored batch against the segmented training customers."""
    schema = schema_from_dict(column_schema)
    training, training_rows = _training_table(training_customers, schema.id_column, params)
    if scored_customers.empty:
        raise DataValidationError(
            "monitoring: the scored batch is empty (every new customer was quarantined or the file "
            "has no rows); there is nothing to compare with the training customers"
        )
    thresholds = params["thresholds"]
    features = params.get("features") or model_features_of(segment_model)
    report_features = {
        feature: feature_drift(
            training[feature], scored_customers[feature], feature in schema.numeric, params
        )
        for feature in features
    }
    far_limit = float(np.nanquantile(training["distance_to_centroid"].astype(float), 0.99))
    batch_distance = scored_customers["distance_to_centroid"].astype(float)
    far_share = float((batch_distance > far_limit).mean())
    mix_ids = sorted(set(training["segment_id"]) | set(scored_customers["segment_id"]))
    training_mix = (
        training["segment_id"].value_counts(normalize=True).reindex(mix_ids, fill_value=0)
    )
    batch_mix = (
        scored_customers["segment_id"].value_counts(normalize=True).reindex(mix_ids, fill_value=0)
    )
    mix_psi = population_stability_index(training_mix.to_numpy(), batch_mix.to_numpy())
    drifting = {f: r["status"] for f, r in report_features.items() if r["status"] != "stable"}
    statuses = [
        *(r["status"] for r in report_features.values()),
        status_of(far_share, thresholds["far_share_watch"], thresholds["far_share_act"]),
        status_of(mix_psi, thresholds["psi_watch"], thresholds["psi_act"]),
    ]
    return {
        "batch_rows": len(scored_customers),
        "training_rows": int(training_rows),
        "training_rows_compared": len(training),
        "thresholds": thresholds,
        "features": report_features,
        "drifting_features": drifting,
        "far_from_centroids": {
            "training_p99_distance": round(far_limit, 4),
            "batch_share": round(far_share, 4),
            "expected_share": 0.01,
            "status": statuses[-2],
        },
        "segment_mix": {
            "psi": round(mix_psi, 4),
            "training_share": {int(i): round(float(v), 4) for i, v in training_mix.items()},
            "batch_share": {int(i): round(float(v), 4) for i, v in batch_mix.items()},
            "status": statuses[-1],
        },
        "status": max(statuses, key=STATUS_ORDER.__getitem__),
    }


def check_drift(drift_report: dict[str, Any], params: dict[str, Any]) -> None:
    """Log a warning naming the drifting features; with `strict`, fail when anything reached "act"."""
    problems = [
        f"{feature} (PSI {drift_report['features'][feature]['psi']}, {status})"
        for feature, status in drift_report["drifting_features"].items()
    ]
    for part, label in (("far_from_centroids", "far from every centroid"),
                        ("segment_mix", "segment mix")):  # fmt: skip
        if drift_report[part]["status"] != "stable":
            problems.append(f"{label} ({drift_report[part]['status']})")
    if not problems:
        logger.info("Drift: the new batch looks like the training customers (all stable)")
        return
    message = (
        f"Drift: the batch of {drift_report['batch_rows']} new customers differs from the training "
        f"customers in {', '.join(problems)}; see data/08_reporting/drift_report.json"
    )
    if params["strict"] and drift_report["status"] == "act":
        raise DriftError(message + " (monitoring.drift.strict is on)")
    logger.warning(message)


TRAINING_GREY = "#c4cad3"


@plain_text
def plot_drift(drift_report: dict[str, Any], column_schema: dict[str, Any]) -> Figure:
    """PSI per feature (by its label) against the watch/act lines, coloured by status; the segment
    mix of the batch beside training's."""
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    psi_axes, mix_axes = figure.subplots(1, 2, width_ratios=[1.2, 1])
    features = drift_report["features"]
    names = list(features)
    thresholds = drift_report["thresholds"]
    # a bar past a line that the KS test does not confirm is drawn in the line's colour, hatched
    # and pale, and says why it stays stable: the colour never contradicts the line it crosses
    levels = [
        status_of(features[n]["psi"], thresholds["psi_watch"], thresholds["psi_act"]) for n in names
    ]
    unconfirmed = [level != features[n]["status"] for n, level in zip(names, levels, strict=True)]
    schema = schema_from_dict(column_schema)
    labels = [schema.axis_label(n) for n in names]
    bars = psi_axes.barh(labels, [features[n]["psi"] for n in names],
                         color=[STATUS_COLOURS[level] for level in levels])  # fmt: skip
    for bar, gated in zip(bars, unconfirmed, strict=True):
        if gated:
            bar.set(alpha=0.35, hatch="//", edgecolor=bar.get_facecolor())
    for value, label in ((thresholds["psi_watch"], "watch"), (thresholds["psi_act"], "act")):
        # each line named at its top, above the bars (a legend box would cover a bar's text)
        psi_axes.axvline(value, color=STATUS_COLOURS[label], linestyle="--")
        psi_axes.text(value, 1.01, f"{label} {value}", color=STATUS_COLOURS[label], ha="center",
                      va="bottom", fontsize=8, transform=psi_axes.get_xaxis_transform())  # fmt: skip
    for y, name in enumerate(names):
        p_value = features[name]["ks_p_value"]
        note = (
            f" (KS p = {p_value:.2g}: not confirmed)" if unconfirmed[y] else
            f" KS {features[name]['ks_statistic']:.2f}" if p_value is not None else ""
        )  # fmt: skip
        psi_axes.text(features[name]["psi"], y, f" {features[name]['status']}{note}", va="center",
                      fontsize=8, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1,
                                        "alpha": 0.8})  # fmt: skip
    if any(unconfirmed):  # a footnote under both panels, laid out with them
        figure.supxlabel(
            "Hatched: past a line, but the KS test does not confirm the shift (the batch is too "
            "small to tell), so the feature stays stable.",
            x=0.01, ha="left", fontsize=8,
        )  # fmt: skip
    psi_axes.set_xlabel("population stability index")
    psi_axes.set_title("Features", pad=16)
    mix = drift_report["segment_mix"]
    ids = list(mix["training_share"])
    positions = np.arange(len(ids))
    # training in grey, the batch in each segment's own colour (blue and orange mean segments 1
    # and 2 in every figure, never "training" and "batch")
    colours = segment_colours([int(i) for i in ids])
    mix_axes.bar(positions - 0.2, [mix["training_share"][i] for i in ids], 0.4,
                 color=TRAINING_GREY, label="training")  # fmt: skip
    mix_axes.bar(positions + 0.2, [mix["batch_share"][i] for i in ids], 0.4,
                 color=[colours[int(i)] for i in ids], label="new batch (segment colour)")  # fmt: skip
    mix_axes.set_xticks(positions, [str(i) for i in ids])
    far = drift_report["far_from_centroids"]
    mix_axes.set(
        xlabel="segment id", ylabel="share of customers",
        title=f"Segment mix (PSI {mix['psi']}, {mix['status']})",
    )  # fmt: skip
    # headroom above the tallest bar for the legend, so that it never covers a bar
    tallest = max([*mix["training_share"].values(), *mix["batch_share"].values()], default=0)
    mix_axes.set_ylim(0, max(tallest, 0.01) * 1.35)
    mix_axes.legend(fontsize=8, loc="upper right")
    figure.suptitle(
        f"Drift of {drift_report['batch_rows']} new customers: {drift_report['status']} · "
        f"{far['batch_share']:.1%} beyond the training 99th-percentile distance ({far['status']})"
    )
    return figure
