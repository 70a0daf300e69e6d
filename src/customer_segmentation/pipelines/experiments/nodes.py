"""Nodes of the experiments pipeline: the tracked runs side by side."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from customer_segmentation.errors import DataValidationError
from customer_segmentation.plot_style import plain_text, segment_colours

logger = logging.getLogger(__name__)

SCORES = ["k", "silhouette", "calinski_harabasz", "davies_bouldin", "rows_kept"]
TAGS = ["environment", "pipeline", "data_fingerprint", "git_commit"]


def _differing_parameters(runs: pd.DataFrame, ignore: list[str]) -> list[str]:
    """The logged parameters whose values are not the same in every run (missing counts as a value)."""
    columns = [
        c for c in runs.columns
        if c.startswith("params.") and c.removeprefix("params.") not in ignore
    ]  # fmt: skip
    return sorted(c for c in columns if runs[c].astype(str).nunique(dropna=False) > 1)


def _segment_sizes(run: pd.Series) -> str:
    """'1: 697 / 2: 359 / ...': each segment's id and size (segment_size.<id> metrics); with
    HDBSCAN the unassigned customers are segment 0."""
    sizes = {
        int(c.rsplit(".", 1)[1]): run[c]
        for c in run.index
        if c.startswith("metrics.segment_size.") and pd.notna(run[c])
    }
    return " / ".join(f"{i}: {int(sizes[i])}" for i in sorted(sizes))


def compare_experiments(tracked_runs: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """One row per finished run of the segmentation workflow (newest first, at most `last_runs`):
    run name and id, start time, environment, pipeline, data fingerprint, git commit, the parameters
    that differ between these runs, chosen k, the final segments' silhouette, Calinski-Harabasz and
    Davies-Bouldin, customers kept, and segment sizes by id."""
    where = tracked_runs.attrs.get("tracking_uri", "the MLflow store")
    if tracked_runs.empty or "metrics.k" not in tracked_runs:
        raise DataValidationError(
            f"experiments: no tracked run with segments in {where}; `kedro run` records one "
            "(tracking must be on for its environment, conf/base/mlflow.yml)"
        )
    finished = tracked_runs[
        tracked_runs["status"].eq("FINISHED") & tracked_runs["metrics.k"].notna()
    ]
    runs = finished.sort_values("start_time", ascending=False).head(params["last_runs"])
    differing = _differing_parameters(runs, params.get("ignore_parameters", []))
    table = pd.DataFrame(
        {
            "run": runs["tags.mlflow.runName"].to_numpy(),
            "run_id": runs["run_id"].to_numpy(),
            "started": pd.to_datetime(runs["start_time"])
            .dt.strftime("%Y-%m-%d %H:%M:%S")
            .to_numpy(),
            **{
                tag: runs.get(f"tags.{tag}", pd.Series(index=runs.index)).to_numpy() for tag in TAGS
            },
            **{c.removeprefix("params."): runs[c].to_numpy() for c in differing},
            **{m: runs.get(f"metrics.{m}", pd.Series(index=runs.index)).to_numpy() for m in SCORES},
            "segment_sizes": [_segment_sizes(run) for _, run in runs.iterrows()],
        }
    )
    table["git_commit"] = table["git_commit"].astype(str).str[:10]
    logger.info(
        "Compared %d tracked runs; parameters that differ: %s",
        len(table),
        ", ".join(c.removeprefix("params.") for c in differing) or "none",
    )
    return table


def _label(row: pd.Series, parameters: list[str]) -> str:
    """'local · __default__ 05:26:55' and, below, the differing parameters of this run."""
    settings = [f"{p}={row[p]}" for p in parameters]
    return "\n".join([f"{row['run']}  {row['started'][5:]}", *settings])


@plain_text
def _sizes_by_id(text: object) -> dict[int, float]:
    """{segment id: size} from the table's '1: 697 / 2: 359' (empty for a run without segments)."""
    pairs = [part.split(": ") for part in str(text).split(" / ") if ": " in part]
    return {int(segment_id): float(size) for segment_id, size in pairs}


def plot_experiment_comparison(experiment_comparison: pd.DataFrame) -> Figure:
    """Each compared run as one row: its silhouette (bar, with k, Calinski-Harabasz and
    Davies-Bouldin written beside it) and its segment sizes as shares of the customers kept."""
    table = experiment_comparison.iloc[::-1].reset_index(drop=True)  # newest run at the top
    fixed = {"run", "run_id", "started", *TAGS, *SCORES, "segment_sizes"}
    parameters = [c for c in table.columns if c not in fixed]
    labels = [_label(row, parameters) for _, row in table.iterrows()]
    height = max(3.0, 0.75 * len(table) * (1 + 0.3 * len(parameters)) + 1.5)
    figure = Figure(figsize=(12, height), layout="constrained")
    scores, sizes = figure.subplots(1, 2, sharey=True, width_ratios=[1, 1.3])
    positions = np.arange(len(table))
    silhouette = table["silhouette"].astype(float).fillna(0)
    scores.barh(positions, silhouette, color="#4c72b0")
    for y, row in table.iterrows():
        scores.text(
            silhouette[y] + 0.01, y,
            f"k={row['k']:.0f}  CH={row['calinski_harabasz']:.0f}  DB={row['davies_bouldin']:.2f}",
            va="center", fontsize=8,
        )  # fmt: skip
    scores.set(
        yticks=positions, yticklabels=labels, xlim=(0, 1.25), xlabel="silhouette (higher is better)"
    )
    scores.tick_params(axis="y", labelsize=8)
    for y, row in table.iterrows():
        counts = _sizes_by_id(row["segment_sizes"])
        colours = segment_colours(list(counts))
        left, total = 0.0, sum(counts.values())
        for segment_id, count in counts.items():
            share = count / total
            sizes.barh(y, share, left=left, color=colours[segment_id], edgecolor="white")
            if share > 0.06:
                sizes.text(left + share / 2, y, str(segment_id), ha="center", va="center",
                           fontsize=8)  # fmt: skip
            left += share
    sizes.set(xlim=(0, 1), xlabel="segment sizes (share of customers; segment id in the bar)")
    figure.suptitle(f"{len(table)} tracked runs compared (newest at the top)")
    return figure
