"""The RFM section of the report (environments that start from an order log): RFM segment sizes and
revenue, the R x F grid, and how the K-Means segments relate to the RFM segments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from customer_segmentation.engine import is_spark
from customer_segmentation.pipelines.customer_features.rfm import rfm_cell_names
from customer_segmentation.plot_style import plain_text, wrapped


def summarise_rfm(
    rfm_scores: pd.DataFrame, segmented_customers: pd.DataFrame, rfm_params: dict[str, Any]
) -> dict[str, Any]:
    """Per RFM segment (in the order of the rules): customers, share, revenue (net spend) and revenue
    share, mean R/F/M scores; customers per R x F cell; and the crosstab of K-Means segments (rows)
    against RFM segments (columns), counting the customers both tables hold. Spark tables come to
    the driver as the few columns used here (one row per customer, not per order line)."""
    if is_spark(rfm_scores):
        rfm_scores = rfm_scores.select(
            "customer_id", "rfm_segment", "monetary", "r_score", "f_score", "m_score"
        ).toPandas()
    if is_spark(segmented_customers):
        segmented_customers = segmented_customers.select(
            "customer_id", "segment_id", "segment_name"
        ).toPandas()
    order = [rule["name"] for rule in rfm_params["rfm"]["segments"]]
    by_segment = rfm_scores.groupby("rfm_segment").agg(
        customers=("customer_id", "size"),
        revenue=("monetary", "sum"),
        r_score=("r_score", "mean"),
        f_score=("f_score", "mean"),
        m_score=("m_score", "mean"),
    )
    by_segment = by_segment.reindex([n for n in order if n in by_segment.index])
    by_segment["share"] = by_segment["customers"] / by_segment["customers"].sum()
    by_segment["revenue_share"] = by_segment["revenue"] / by_segment["revenue"].sum()
    bins = rfm_params["rfm"]["bins"]
    grid = (
        rfm_scores.groupby(["r_score", "f_score"]).size()
        .reindex(pd.MultiIndex.from_product([range(1, bins + 1)] * 2), fill_value=0)
        .unstack()
    )  # fmt: skip
    joined = segmented_customers[["customer_id", "segment_id", "segment_name"]].merge(
        rfm_scores[["customer_id", "rfm_segment"]].astype({"customer_id": str}),
        on="customer_id",
        how="inner",
    )
    crosstab = pd.crosstab(
        [joined["segment_id"], joined["segment_name"]], joined["rfm_segment"]
    ).reindex(columns=[n for n in order if n in set(joined["rfm_segment"])], fill_value=0)
    return {
        "segments": by_segment.round(4).reset_index(names="rfm_segment").to_dict(orient="records"),
        "grid": {
            "r_scores": [int(r) for r in grid.index],
            "f_scores": [int(f) for f in grid.columns],
            "customers": grid.to_numpy().tolist(),
            "names": rfm_cell_names(rfm_params["rfm"]),
        },
        "crosstab": {
            "rows": [f"{i} · {name}" for i, name in crosstab.index],
            "columns": list(crosstab.columns),
            "customers": crosstab.to_numpy().tolist(),
        },
        "customers_scored": len(rfm_scores),
        "customers_in_crosstab": len(joined),
    }


@plain_text
def plot_rfm_grid(rfm_summary: dict[str, Any]) -> Figure:
    """Customers per R x F cell as a heat grid, each cell labelled with its count and RFM segment."""
    grid = rfm_summary["grid"]
    counts = np.array(grid["customers"])
    figure = Figure(figsize=(10, 7.5), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues", origin="lower")
    for i, r in enumerate(grid["r_scores"]):
        for j, f in enumerate(grid["f_scores"]):
            name = grid["names"].get(f"R{r}F{f}", "")
            dark = counts[i, j] > counts.max() * 0.6
            axes.text(j, i, f"{counts[i, j]:,}\n{wrapped(name, 12)}", ha="center", va="center",
                      fontsize=9, color="white" if dark else "black")  # fmt: skip
    axes.set_xticks(range(len(grid["f_scores"])), grid["f_scores"])
    axes.set_yticks(range(len(grid["r_scores"])), grid["r_scores"])
    axes.set(xlabel="F score (frequency; 5 = most orders)",
             ylabel="R score (recency; 5 = most recent)",
             title="Customers per RFM cell, named by the RFM grid")  # fmt: skip
    figure.colorbar(image, ax=axes, label="customers")
    return figure


@plain_text
def plot_rfm_crosstab(rfm_summary: dict[str, Any]) -> Figure:
    """K-Means segments (rows) against RFM segments (columns): each row's customers as shares, with
    the counts written in the cells."""
    crosstab = rfm_summary["crosstab"]
    counts = np.array(crosstab["customers"], dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    rows, columns = len(crosstab["rows"]), len(crosstab["columns"])
    figure = Figure(figsize=(2.0 + 1.15 * columns, 1.6 + 0.6 * rows), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(shares, cmap="Purples", vmin=0, vmax=1, aspect="auto")
    for i in range(rows):
        for j in range(columns):
            axes.text(j, i, f"{int(counts[i, j]):,}", ha="center", va="center", fontsize=8,
                      color="white" if shares[i, j] > 0.6 else "black")  # fmt: skip
    axes.set_xticks(range(columns), [wrapped(c, 11) for c in crosstab["columns"]], fontsize=8)
    axes.set_yticks(range(rows), [wrapped(r, 40) for r in crosstab["rows"]], fontsize=8)
    axes.set(xlabel="RFM segment", title="K-Means segments against RFM segments (row shares)")
    figure.colorbar(image, ax=axes, label="share of the K-Means segment")
    return figure
