"""The comparison plot: every algorithm's scores side by side, and their agreement as a heat map."""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from customer_segmentation.models import ALGORITHM_NAMES
from customer_segmentation.plot_style import human_number, plain_text

PANELS = [
    ("silhouette", "silhouette (higher is better)"),
    ("davies_bouldin", "Davies-Bouldin (lower is better)"),
    ("calinski_harabasz", "Calinski-Harabasz (higher is better)"),
    ("stability", "bootstrap stability, ARI (higher is better)"),
    ("share_unassigned", "share of customers unassigned"),
]


@plain_text
def plot_algorithm_comparison(
    table: pd.DataFrame, agreement: pd.DataFrame, choice: dict[str, Any]
) -> Figure:
    """Bars per score for the algorithms that ran (the chosen one highlighted) and the pairwise
    adjusted Rand index between their segmentations."""
    ran = table[table["status"] == "ok"].reset_index(drop=True)
    figure = Figure(figsize=(16, 9), layout="constrained")
    grid = figure.subplots(2, 3).ravel()
    colours = ["crimson" if a == choice["algorithm"] else "slategray" for a in ran["algorithm"]]
    names = [_label(a) for a in ran["algorithm"]]
    for axes, (column, title) in zip(grid, PANELS, strict=False):
        values = ran[column].astype(float).fillna(0).to_numpy()
        bars = axes.bar(names, values, color=colours)
        axes.bar_label(bars, labels=[human_number(v) for v in values], fontsize=9)
        axes.set_title(title)
        axes.tick_params(axis="x", labelsize=9, labelrotation=30)
        axes.set_xticks(axes.get_xticks(), names, ha="right", rotation_mode="anchor")
    axes = grid[-1]
    agreement = agreement.set_index("algorithm")
    matrix = agreement.to_numpy(dtype=float)
    image = axes.imshow(matrix, cmap="Greens", vmin=0, vmax=1)
    labels = [_label(a) for a in agreement.index]
    axes.set_xticks(range(len(labels)), [_label(a, width=80) for a in agreement.index],
                    fontsize=8, rotation=45, ha="right", rotation_mode="anchor")  # fmt: skip
    axes.set_yticks(range(len(labels)), labels, fontsize=8)
    for i, j in np.ndindex(matrix.shape):
        axes.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=8,
                  color="white" if matrix[i, j] > 0.6 else "black")  # fmt: skip
    axes.set_title("agreement between algorithms (ARI)")
    figure.colorbar(image, ax=axes, shrink=0.8)
    fitted = ran["fit_rows"].max() if len(ran) else 0
    customers = int(table["customers"].iloc[0]) if len(table) else 0
    figure.suptitle(
        f"Clustering algorithms compared at k = {choice.get('k', '?')} "
        f"(fitted on up to {fitted:,} of {customers:,} customers; chosen: "
        f"{_label(choice['algorithm'], width=80)})"
    )
    return figure


def _label(algorithm: str, width: int = 10) -> str:
    """The algorithm's plain name on lines of about `width` characters ("bisecting\nk-means")."""
    name = ALGORITHM_NAMES.get(algorithm, algorithm).removeprefix("a ")
    return "\n".join(textwrap.wrap(name, width, break_long_words=False))
