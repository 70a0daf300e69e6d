"""Plot nodes of model_selection: each returns a matplotlib Figure; the catalog saves it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

CHOSEN_STYLE = {"color": "crimson", "linestyle": "--", "linewidth": 1.2}


def plot_elbow(k_metrics: pd.DataFrame, k_selection: dict[str, Any]) -> Figure:
    """WCSS against k with the knee (or a note that there is none) and the chosen k marked."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.subplots()
    axes.plot(k_metrics["k"], k_metrics["wcss"], marker="o", color="steelblue")
    knee = k_selection["knee"]
    if knee is not None:
        wcss = k_metrics.set_index("k").loc[knee, "wcss"]
        axes.scatter(
            [knee],
            [wcss],
            s=160,
            facecolors="none",
            edgecolors="darkorange",
            linewidths=2,
            label=f"knee: k={knee}",
            zorder=3,
        )
    else:
        axes.text(
            0.5,
            0.9,
            "no knee in this range",
            transform=axes.transAxes,
            ha="center",
            color="darkorange",
        )
    axes.axvline(k_selection["k"], label=f"chosen: k={k_selection['k']}", **CHOSEN_STYLE)
    axes.set(
        xlabel="number of segments k",
        ylabel="within-cluster sum of squares (WCSS)",
        title="Elbow: WCSS by k",
    )
    axes.set_xticks(k_metrics["k"])
    axes.legend()
    return figure


PANELS = (
    ("silhouette", "silhouette (higher is better)"),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)"),
    ("davies_bouldin", "Davies-Bouldin (lower is better)"),
    ("gap", "gap statistic ± s.e."),
    ("stability_mean", "bootstrap stability, ARI ± sd"),
)


def plot_k_scores(k_metrics: pd.DataFrame, k_selection: dict[str, Any]) -> Figure:
    """One panel per criterion against k, each with the chosen k marked."""
    figure = Figure(figsize=(14, 7.5), layout="constrained")
    grid = figure.subplots(2, 3).ravel()
    rows = k_metrics[k_metrics["silhouette"].notna()]
    for axes, (column, title) in zip(grid, PANELS, strict=False):
        errors = {"gap": "gap_se", "stability_mean": "stability_std"}.get(column)
        if rows[column].isna().all():
            axes.text(0.5, 0.5, "switched off", transform=axes.transAxes, ha="center")
        elif errors:
            axes.errorbar(rows["k"], rows[column], yerr=rows[errors], marker="o", capsize=3)
        else:
            axes.plot(rows["k"], rows[column], marker="o")
        axes.axvline(k_selection["k"], **CHOSEN_STYLE)
        axes.set(title=title, xlabel="k")
        axes.set_xticks(rows["k"])
    grid[-1].axis("off")
    picks = "\n".join(f"{name}: {k}" for name, k in k_selection["picks"].items())
    grid[-1].text(
        0,
        0.95,
        f"chosen k = {k_selection['k']} ({k_selection['policy']})\n\n{picks}",
        va="top",
        fontsize=11,
    )
    figure.suptitle("Scores by number of segments (dashed line: chosen k)")
    return figure
