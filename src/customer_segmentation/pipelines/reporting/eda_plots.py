"""Exploratory plots of the clean customer table; each node returns a figure the catalog saves.

Every plot shows the declared columns (`column_schema`) with their labels and units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib import ticker
from matplotlib.figure import Figure

from customer_segmentation.plot_style import (
    compact_number,
    grid_shape,
    numeric_columns_to_show,
    plain_text,
    sample_note,
    sample_rows,
)
from customer_segmentation.schema import per_column, schema_from_dict

PAIR_PLOT_MAX_COLUMNS = 5


@plain_text
def plot_distributions(
    customers: pd.DataFrame, column_schema: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """A histogram of every declared numeric column (mean marked), and customers per group for each
    column binned in `reporting.bins`."""
    schema = schema_from_dict(column_schema)
    binned = {c: b for c, b in per_column(params.get("bins")).items() if c in schema.numeric}
    panels = schema.numeric + list(binned)
    rows, width = grid_shape(len(panels))
    figure = Figure(figsize=(4.4 * width, 3.6 * rows + 0.6), layout="constrained")
    grid = np.atleast_1d(figure.subplots(rows, width)).ravel()
    for axes, column in zip(grid, schema.numeric, strict=False):
        values = customers[column]
        axes.hist(values, bins=30, color="steelblue", edgecolor="white")
        axes.axvline(
            values.mean(), color="crimson", linestyle="--", label=f"mean {values.mean():.1f}"
        )
        axes.set(
            xlabel=schema.axis_label(column),
            ylabel="customers",
            title=f"Distribution of {schema.label(column)}",
        )
        axes.xaxis.set_major_locator(ticker.MaxNLocator(6))
        axes.xaxis.set_major_formatter(ticker.FuncFormatter(compact_number))
        axes.legend()
    for axes, (column, bins) in zip(grid[len(schema.numeric) :], binned.items(), strict=False):
        group = pd.cut(customers[column], bins=bins["bins"], labels=bins["labels"], right=False)
        counts = group.value_counts().reindex(bins["labels"], fill_value=0)
        bars = axes.bar(counts.index.astype(str), counts.to_numpy(), color="slategray")
        axes.bar_label(bars, labels=[f"{n:,}" for n in counts])
        axes.set(
            xlabel=f"{schema.axis_label(column)}, grouped",
            ylabel="customers",
            title=f"Customers by {schema.label(column)} group",
        )
    for axes in grid[len(panels) :]:
        axes.axis("off")
    customers_count = int(customers.attrs.get("customers", len(customers)))
    figure.suptitle(f"Customer attributes ({customers_count:,} customers){sample_note(customers)}")
    return figure


@plain_text
def plot_category_counts(customers: pd.DataFrame, column_schema: dict[str, Any]) -> Figure:
    """Customers per category, with shares, for every declared categorical column."""
    schema = schema_from_dict(column_schema)
    columns = schema.categorical
    rows, width = grid_shape(len(columns), 2)
    figure = Figure(figsize=(6.5 * width, 4 * rows), layout="constrained")
    grid = np.atleast_1d(figure.subplots(rows, width)).ravel()
    if not columns:
        grid[0].axis("off")
        grid[0].text(0.5, 0.5, "no categorical columns declared", ha="center", va="center")
        return figure
    for axes, column in zip(grid, columns, strict=False):
        counts = customers[column].astype(str).value_counts().sort_index()
        bars = axes.bar(counts.index, counts.to_numpy(), color="slategray")
        axes.bar_label(bars, labels=[f"{n:,} ({n / counts.sum():.0%})" for n in counts])
        axes.set(
            xlabel=schema.axis_label(column),
            ylabel="customers",
            title=f"Customers by {schema.label(column)}",
        )
        axes.tick_params(axis="x", labelrotation=30 if len(counts) > 4 else 0)
    for axes in grid[len(columns) :]:
        axes.axis("off")
    if sample_note(customers):
        figure.suptitle("Customers by category" + sample_note(customers))
    return figure


@plain_text
def plot_pair_plot(
    customers: pd.DataFrame, column_schema: dict[str, Any], params: dict[str, Any]
) -> Figure:
    """Scatter matrix of at most five numeric columns (the features first), histograms on the diagonal."""
    schema = schema_from_dict(column_schema)
    columns = numeric_columns_to_show(schema, None, PAIR_PLOT_MAX_COLUMNS)
    shown, note = sample_rows(customers, params["max_points"], params["random_state"])
    n = len(columns)
    figure = Figure(figsize=(2.4 * n + 2.5, 2.4 * n + 2.5), layout="constrained")
    grid = np.atleast_2d(figure.subplots(n, n))
    for i, y in enumerate(columns):
        for j, x in enumerate(columns):
            axes = grid[i, j]
            if i == j:
                # a histogram's counts on the right, so that the left edge of every row (the
                # first one included) is labelled with the row's column
                axes.hist(shown[x], bins=25, color="steelblue", edgecolor="white")
                axes.yaxis.tick_right()
                axes.yaxis.set_label_position("right")
                axes.set_ylabel("customers", fontsize=8)
                # no 0 count: it would sit on the next panel's corner tick labels
                axes.yaxis.set_major_locator(ticker.MaxNLocator(4, prune="lower"))
            else:
                axes.scatter(shown[x], shown[y], s=4, alpha=0.4, color="steelblue", linewidths=0)
                axes.yaxis.set_major_formatter(ticker.FuncFormatter(compact_number))
            axes.xaxis.set_major_formatter(ticker.FuncFormatter(compact_number))  # 15k, not 15000
            if i == n - 1:
                axes.set_xlabel(schema.axis_label(x))
            if j == 0 and i == 0:  # no tick values of its own on the left: the label alone
                axes.text(-0.22, 0.5, schema.axis_label(y), rotation=90, va="center",
                          ha="center", transform=axes.transAxes)  # fmt: skip
            elif j == 0:
                axes.set_ylabel(schema.axis_label(y))
    figure.suptitle("Pair plot of the numeric attributes" + note)
    return figure


@plain_text
def plot_correlation_heatmap(customers: pd.DataFrame, column_schema: dict[str, Any]) -> Figure:
    """Pearson correlations between the declared numeric columns, annotated."""
    schema = schema_from_dict(column_schema)
    columns = schema.numeric
    correlation = customers[columns].corr()
    size = 3 + 0.75 * len(columns)
    figure = Figure(figsize=(size + 1, size), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(correlation, cmap="RdBu_r", vmin=-1, vmax=1)
    labels = [schema.axis_label(c) for c in columns]
    axes.set_xticks(np.arange(len(columns)), labels, rotation=30, ha="right")
    axes.set_yticks(np.arange(len(columns)), labels)
    for (i, j), value in np.ndenumerate(correlation.to_numpy()):
        axes.text(
            j,
            i,
            "–" if np.isnan(value) else f"{value:.2f}",
            ha="center",
            va="center",
            color="white" if abs(value) > 0.5 else "black",
        )
    figure.colorbar(image, ax=axes, label="Pearson correlation")
    axes.set_title("Correlation between attributes" + sample_note(customers))
    return figure
