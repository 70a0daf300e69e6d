"""Exploratory plots of the clean customer table; each node returns a figure the catalog saves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from customer_segmentation.plot_style import axis_label, sample_rows

NUMERIC = ["age", "annual_income_k", "spending_score"]


def plot_distributions(customers: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Histograms of age, income and spending score, and customers per age group."""
    figure = Figure(figsize=(13, 8), layout="constrained")
    grid = figure.subplots(2, 2).ravel()
    for axes, column in zip(grid[:3], NUMERIC, strict=True):
        axes.hist(customers[column], bins=30, color="steelblue", edgecolor="white")
        axes.axvline(
            customers[column].mean(),
            color="crimson",
            linestyle="--",
            label=f"mean {customers[column].mean():.1f}",
        )
        axes.set(
            xlabel=axis_label(column),
            ylabel="customers",
            title=f"Distribution of {axis_label(column)}",
        )
        axes.legend()
    groups = params["age_groups"]
    age_group = pd.cut(customers["age"], bins=groups["bins"], labels=groups["labels"], right=False)
    counts = age_group.value_counts().reindex(groups["labels"], fill_value=0)
    bars = grid[3].bar(counts.index.astype(str), counts.to_numpy(), color="slategray")
    grid[3].bar_label(bars, labels=[f"{n:,}" for n in counts])
    grid[3].set(xlabel="age group (years)", ylabel="customers", title="Customers by age group")
    figure.suptitle(f"Customer attributes ({len(customers):,} customers)")
    return figure


def plot_gender_counts(customers: pd.DataFrame) -> Figure:
    """Customers by gender, with shares."""
    counts = customers["gender"].value_counts().sort_index()
    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.subplots()
    bars = axes.bar(counts.index, counts.to_numpy(), color=["#c0504d", "#4f81bd"][: len(counts)])
    axes.bar_label(bars, labels=[f"{n:,} ({n / counts.sum():.0%})" for n in counts])
    axes.set(xlabel="gender", ylabel="customers", title="Customers by gender")
    return figure


def plot_pair_plot(customers: pd.DataFrame, params: dict[str, Any]) -> Figure:
    """Scatter matrix of age, income and spending score, histograms on the diagonal."""
    shown, note = sample_rows(customers, params["max_points"], params["random_state"])
    n = len(NUMERIC)
    figure = Figure(figsize=(10, 10), layout="constrained")
    grid = figure.subplots(n, n)
    for i, y in enumerate(NUMERIC):
        for j, x in enumerate(NUMERIC):
            axes = grid[i, j]
            if i == j:
                axes.hist(shown[x], bins=25, color="steelblue", edgecolor="white")
            else:
                axes.scatter(shown[x], shown[y], s=4, alpha=0.4, color="steelblue", linewidths=0)
            if i == n - 1:
                axes.set_xlabel(axis_label(x))
            if j == 0:
                axes.set_ylabel(axis_label(y) if i else "customers")
    figure.suptitle("Pair plot of the numeric attributes" + note)
    return figure


def plot_correlation_heatmap(customers: pd.DataFrame) -> Figure:
    """Pearson correlations between the numeric attributes, annotated."""
    columns = [c for c in [*NUMERIC, "is_female"] if c in customers.columns]
    correlation = customers[columns].corr()
    figure = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(correlation, cmap="RdBu_r", vmin=-1, vmax=1)
    labels = [axis_label(c) for c in columns]
    axes.set_xticks(np.arange(len(columns)), labels, rotation=30, ha="right")
    axes.set_yticks(np.arange(len(columns)), labels)
    for (i, j), value in np.ndenumerate(correlation.to_numpy()):
        axes.text(
            j,
            i,
            f"{value:.2f}",
            ha="center",
            va="center",
            color="white" if abs(value) > 0.5 else "black",
        )
    figure.colorbar(image, ax=axes, label="Pearson correlation")
    axes.set_title("Correlation between attributes")
    return figure
