"""Plots of the segments. Each uses the segment names and the same colour per segment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.decomposition import PCA

from customer_segmentation.plot_style import axis_label, sample_rows, segment_colours

PROFILED = ["age", "annual_income_k", "spending_score"]


def _segments(profiles: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(id, name, colour) per segment in id order."""
    colours = segment_colours(profiles["segment_id"].tolist())
    return [
        (int(i), name, colours[int(i)])
        for i, name in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
    ]


def plot_segment_scatter(
    segmented: pd.DataFrame, profiles: pd.DataFrame, params: dict[str, Any]
) -> Figure:
    """2-D scatter of the two `scatter_features`, coloured by segment, centroids marked."""
    x, y = params["scatter_features"]
    shown, note = sample_rows(segmented, params["max_points"], params["random_state"])
    figure = Figure(figsize=(9, 6.5), layout="constrained")
    axes = figure.subplots()
    for segment_id, name, colour in _segments(profiles):
        members = shown[shown["segment_id"] == segment_id]
        axes.scatter(
            members[x],
            members[y],
            s=10,
            alpha=0.6,
            color=colour,
            label=f"{segment_id}. {name}",
            linewidths=0,
        )
        everyone = segmented[segmented["segment_id"] == segment_id]
        axes.scatter(
            everyone[x].mean(),
            everyone[y].mean(),
            marker="X",
            s=220,
            color=colour,
            edgecolors="black",
            linewidths=1.2,
        )
    axes.set(
        xlabel=axis_label(x),
        ylabel=axis_label(y),
        title=f"Segments by {axis_label(x)} and {axis_label(y)} (X: centroid){note}",
    )
    axes.legend(fontsize=8, loc="best")
    return figure


def plot_segments_3d(
    segmented: pd.DataFrame, profiles: pd.DataFrame, params: dict[str, Any]
) -> go.Figure:
    """Interactive 3-D scatter of age × income × spending score coloured by segment name."""
    shown, note = sample_rows(segmented, params["max_points"], params["random_state"])
    figure = go.Figure()
    for segment_id, name, colour in _segments(profiles):
        members = shown[shown["segment_id"] == segment_id]
        figure.add_trace(
            go.Scatter3d(
                x=members["age"], y=members["annual_income_k"], z=members["spending_score"],
                mode="markers", name=f"{segment_id}. {name}",
                marker={"size": 3, "color": colour, "opacity": 0.7},
                customdata=members[["customer_id"]], hovertemplate="customer %{customdata[0]}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title=f"Segments in age × income × spending score{note}",
        scene={
            "xaxis_title": axis_label("age"),
            "yaxis_title": axis_label("annual_income_k"),
            "zaxis_title": axis_label("spending_score"),
        },
        legend={"title": "segment"},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
    )
    return figure


def plot_pca(
    model_features: pd.DataFrame,
    segmented: pd.DataFrame,
    profiles: pd.DataFrame,
    params: dict[str, Any],
) -> Figure:
    """The scaled features projected on their first two principal components, coloured by segment."""
    features = model_features.reindex(segmented["customer_id"].astype(str))
    n_components = min(2, features.shape[1])
    pca = PCA(n_components=n_components, random_state=params["random_state"]).fit(features)
    projected = pd.DataFrame(pca.transform(features), index=segmented.index).reindex(
        columns=[0, 1], fill_value=0.0
    )
    projected["segment_id"] = segmented["segment_id"].to_numpy()
    shown, note = sample_rows(projected, params["max_points"], params["random_state"])
    ratio = list(pca.explained_variance_ratio_) + [0.0] * (2 - n_components)
    figure = Figure(figsize=(8.5, 6.5), layout="constrained")
    axes = figure.subplots()
    for segment_id, name, colour in _segments(profiles):
        members = shown[shown["segment_id"] == segment_id]
        axes.scatter(
            members[0],
            members[1],
            s=10,
            alpha=0.6,
            color=colour,
            label=f"{segment_id}. {name}",
            linewidths=0,
        )
    axes.set(
        xlabel=f"PC1 ({ratio[0]:.1%} of variance)",
        ylabel=f"PC2 ({ratio[1]:.1%} of variance)",
        title=f"PCA projection of the clustering features ({', '.join(model_features.columns)}){note}",
    )
    axes.legend(fontsize=8)
    return figure


def plot_profile_heatmap(profiles: pd.DataFrame) -> Figure:
    """Each segment's mean age, income and score as z-scores against the population, annotated."""
    columns = [c for c in PROFILED if f"z_{c}" in profiles.columns]
    z = profiles[[f"z_{c}" for c in columns]].to_numpy()
    means = profiles[[f"mean_{c}" for c in columns]].to_numpy()
    figure = Figure(figsize=(10.5, 1.4 + 0.7 * len(profiles)), layout="constrained")
    axes = figure.subplots()
    limit = max(1.5, float(np.abs(z).max()))
    image = axes.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(np.arange(len(columns)), [axis_label(c) for c in columns])
    axes.set_yticks(
        np.arange(len(profiles)),
        [
            f"{i}. {n}"
            for i, n in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
        ],
    )
    for (i, j), value in np.ndenumerate(z):
        axes.text(
            j,
            i,
            f"{means[i, j]:.1f}\n(z {value:+.2f})",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if abs(value) > limit * 0.6 else "black",
        )
    figure.colorbar(image, ax=axes, label="z-score of the segment mean vs population")
    axes.set_title("Segment profiles: mean (and z-score against all customers)")
    return figure


def plot_segment_boxplots(segmented: pd.DataFrame, profiles: pd.DataFrame) -> Figure:
    """Box plots of age, income and spending score by segment."""
    segments = _segments(profiles)
    figure = Figure(figsize=(14, 5), layout="constrained")
    grid = figure.subplots(1, len(PROFILED))
    for axes, column in zip(grid, PROFILED, strict=True):
        data = [
            segmented.loc[segmented["segment_id"] == sid, column].to_numpy()
            for sid, _, _ in segments
        ]
        boxes = axes.boxplot(
            data,
            tick_labels=[str(sid) for sid, _, _ in segments],
            patch_artist=True,
            showfliers=False,
        )
        for patch, (_, _, colour) in zip(boxes["boxes"], segments, strict=True):
            patch.set(facecolor=colour, alpha=0.75)
        axes.set(xlabel="segment", ylabel=axis_label(column), title=axis_label(column))
    figure.legend(
        handles=[Patch(color=c, label=f"{i}. {n}") for i, n, c in segments],
        loc="outside lower center", ncols=min(3, len(segments)), fontsize=8,
    )  # fmt: skip
    figure.suptitle("Attributes by segment")
    return figure


def plot_segment_sizes(profiles: pd.DataFrame) -> Figure:
    """Customers per segment, with shares."""
    segments = _segments(profiles)
    figure = Figure(figsize=(9, 1.2 + 0.6 * len(segments)), layout="constrained")
    axes = figure.subplots()
    labels = [f"{i}. {n}" for i, n, _ in segments]
    bars = axes.barh(labels, profiles["size"], color=[c for _, _, c in segments])
    axes.bar_label(
        bars,
        labels=[
            f"{n:,} ({s:.0%})" for n, s in zip(profiles["size"], profiles["share"], strict=True)
        ],
        padding=3,
    )
    axes.invert_yaxis()
    axes.set(xlabel="customers", title="Segment sizes")
    axes.set_xlim(0, profiles["size"].max() * 1.25)
    return figure
