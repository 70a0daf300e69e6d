"""Plots of the segments. Each uses the segment names, the same colour per segment, and the labels
and units of the declared columns (`column_schema`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples
from sklearn.pipeline import Pipeline as SklearnPipeline

from customer_segmentation.plot_style import (
    grid_shape,
    human_number,
    numeric_columns_to_show,
    plain_text,
    sample_note,
    sample_rows,
    segment_colours,
    style_value_axis,
    wrapped,
)
from customer_segmentation.schema import schema_from_dict


def _segments(profiles: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(id, name, colour) per segment in id order."""
    colours = segment_colours(profiles["segment_id"].tolist())
    return [
        (int(i), name, colours[int(i)])
        for i, name in zip(profiles["segment_id"], profiles["segment_name"], strict=True)
    ]


def _profiled_numeric(profiles: pd.DataFrame) -> list[str]:
    """The numeric columns the profiles describe (those with a `z_<column>`), in profile order."""
    return [c.removeprefix("z_") for c in profiles.columns if c.startswith("z_")]


def _no_data(figure: Figure, text: str) -> Figure:
    axes = figure.subplots()
    axes.axis("off")
    axes.text(0.5, 0.5, text, ha="center", va="center")
    return figure


ZERO_BAND = 0.4  # half-width of the band customers at 0 are spread over (symlog is linear to 1)


@plain_text
def plot_segment_scatter(
    segmented: pd.DataFrame,
    profiles: pd.DataFrame,
    column_schema: dict[str, Any],
    params: dict[str, Any],
) -> Figure:
    """2-D scatter coloured by segment with each segment's mean marked (its median on log-scaled
    axes): `scatter_features`, or the first two numeric features (then other numeric columns)."""
    schema = schema_from_dict(column_schema)
    columns = numeric_columns_to_show(schema, params.get("scatter_features"), 2)
    figure = Figure(figsize=(9, 6.5), layout="constrained")
    if len(columns) < 2:
        return _no_data(figure, "a 2-D scatter needs two numeric columns")
    x, y = columns
    # on transformed (log-like) axes a mean sits between the clouds: mark the median there
    skewed = schema.transform(x) != "none" or schema.transform(y) != "none"
    shown, note = sample_rows(segmented, params["max_points"], params["random_state"])
    # on a log-like axis every customer at exactly 0 would sit under one marker: they are spread
    # over a band around 0 (inside the axis' linear part) and the axis says how many are at 0
    at_zero = {
        c: float((segmented[c] == 0).mean()) for c in columns if schema.transform(c) != "none"
    }
    rng = np.random.default_rng(params["random_state"])
    shown = shown.assign(
        **{
            c: shown[c].mask(shown[c] == 0, rng.uniform(-ZERO_BAND, ZERO_BAND, len(shown)))
            for c, share in at_zero.items()
            if share > 0
        }
    )
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
        everyone = segmented.loc[segmented["segment_id"] == segment_id, [x, y]]
        centre = everyone.median() if skewed else everyone.mean()
        axes.scatter(
            centre[x],
            centre[y],
            marker="X",
            s=220,
            color=colour,
            edgecolors="black",
            linewidths=1.2,
        )

    def label(column: str) -> str:
        share = at_zero.get(column, 0.0)
        zeros = f" · {share:.0%} at 0 (spread around 0)" if share > 0 else ""
        return schema.axis_label(column) + zeros

    axes.set(
        xlabel=label(x),
        ylabel=label(y),
        title=wrapped(
            f"Segments by {schema.label(x)} and {schema.label(y)} "
            f"(X: segment {'median' if skewed else 'mean'}){note}"
        ),
    )
    style_value_axis(axes, schema, x, "x")
    style_value_axis(axes, schema, y, "y")
    figure.legend(fontsize=8, loc="outside lower center", ncols=2)  # below, never over points
    return figure


def features_of(model_features: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """The model features of the customers `ids` (a plot's sample), in that order. Only the sample's
    ids are hashed, not the index of millions of customers."""
    ids = pd.Index(ids.astype(str))
    return model_features[model_features.index.isin(ids)].reindex(ids)


@plain_text
def plot_segments_3d(
    segmented: pd.DataFrame,
    model_features: pd.DataFrame,
    profiles: pd.DataFrame,
    column_schema: dict[str, Any],
    params: dict[str, Any],
) -> go.Figure:
    """Interactive 3-D scatter coloured by segment: on three numeric columns (the features first), or
    on the first three principal components of the model features when there are more than three
    features (components from the shown sample). The axis titles say which."""
    schema = schema_from_dict(column_schema)
    shown, note = sample_rows(segmented, params["max_points"], params["random_state"])
    if model_features.shape[1] > 3:
        features = features_of(model_features, shown[schema.id_column])
        pca = PCA(n_components=3, random_state=params["random_state"]).fit(features)
        coordinates = pd.DataFrame(pca.transform(features), index=shown.index)
        titles = [
            f"PC{i + 1} ({ratio:.0%} of variance)"
            for i, ratio in enumerate(pca.explained_variance_ratio_)
        ]
        what = "the first three principal components of the features"
    else:
        columns = numeric_columns_to_show(schema, params.get("scatter_3d_features"), 3)
        coordinates = shown[columns].set_axis(range(len(columns)), axis=1)
        coordinates = coordinates.reindex(columns=range(3), fill_value=0.0)
        titles = [schema.axis_label(c) for c in columns] + ["–"] * (3 - len(columns))
        what = " × ".join(schema.label(c) for c in columns)
    figure = go.Figure()
    for segment_id, name, colour in _segments(profiles):
        members = shown["segment_id"] == segment_id
        points = coordinates[members]
        figure.add_trace(
            go.Scatter3d(
                x=points[0], y=points[1], z=points[2], mode="markers", name=f"{segment_id}. {name}",
                marker={"size": 3, "color": colour, "opacity": 0.7},
                customdata=shown.loc[members, [schema.id_column]],
                hovertemplate="customer %{customdata[0]}<extra>" + name + "</extra>",
            )
        )  # fmt: skip
    figure.update_layout(
        title=f"Segments in {what}{note}",
        scene={"xaxis_title": titles[0], "yaxis_title": titles[1], "zaxis_title": titles[2]},
        legend={"title": "segment"},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
    )
    return figure


@plain_text
def plot_pca(
    model_features: pd.DataFrame,
    segmented: pd.DataFrame,
    profiles: pd.DataFrame,
    column_schema: dict[str, Any],
    params: dict[str, Any],
) -> Figure:
    """The scaled features projected on their first two principal components, coloured by segment
    (above `max_points` customers, components and points from the same seeded sample)."""
    schema = schema_from_dict(column_schema)
    segmented, note = sample_rows(
        segmented[[schema.id_column, "segment_id"]], params["max_points"], params["random_state"]
    )
    features = features_of(model_features, segmented[schema.id_column])
    n_components = min(2, features.shape[1])
    pca = PCA(n_components=n_components, random_state=params["random_state"]).fit(features)
    shown = pd.DataFrame(pca.transform(features), index=segmented.index).reindex(
        columns=[0, 1], fill_value=0.0
    )
    shown["segment_id"] = segmented["segment_id"].to_numpy()
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
        title=wrapped(
            "PCA projection of the clustering features "
            f"({', '.join(schema.axis_label(c) for c in model_features.columns)}){note}"
        ),
    )
    figure.legend(fontsize=8, loc="outside lower center", ncols=2)  # below, never over points
    return figure


@plain_text
def plot_profile_heatmap(profiles: pd.DataFrame, column_schema: dict[str, Any]) -> Figure:
    """Each segment's mean of every profiled numeric column as a z-score against the population."""
    schema = schema_from_dict(column_schema)
    columns = _profiled_numeric(profiles)
    z = profiles[[f"z_{c}" for c in columns]].to_numpy()
    means = profiles[[f"mean_{c}" for c in columns]].to_numpy()
    figure = Figure(
        figsize=(4.5 + 1.6 * len(columns), 1.4 + 0.7 * len(profiles)), layout="constrained"
    )
    if not columns:
        return _no_data(figure, "no numeric columns profiled")
    axes = figure.subplots()
    limit = max(1.5, float(np.abs(z).max()))
    image = axes.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(
        np.arange(len(columns)),
        [schema.axis_label(c) for c in columns],
        rotation=20 if len(columns) > 4 else 0,
        ha="right" if len(columns) > 4 else "center",
    )
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
            f"{human_number(means[i, j])}\n(z {value:+.2f})",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if abs(value) > limit * 0.6 else "black",
        )
    figure.colorbar(image, ax=axes, label="z-score of the segment mean vs population")
    axes.set_title("Segment profiles: mean (and z-score against all customers)")
    return figure


@plain_text
def plot_segment_boxplots(
    segmented: pd.DataFrame, profiles: pd.DataFrame, column_schema: dict[str, Any]
) -> Figure:
    """Box plots of every profiled numeric column by segment."""
    schema = schema_from_dict(column_schema)
    segments = _segments(profiles)
    columns = _profiled_numeric(profiles)
    rows, width = grid_shape(len(columns), 4)
    figure = Figure(figsize=(4.6 * width, 4.2 * rows + 0.8), layout="constrained")
    if not columns:
        return _no_data(figure, "no numeric columns profiled")
    grid = np.atleast_1d(figure.subplots(rows, width)).ravel()
    for axes, column in zip(grid, columns, strict=False):
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
        axes.set(xlabel="segment", ylabel=schema.axis_label(column), title=schema.label(column))
        style_value_axis(axes, schema, column, "y")
    for axes in grid[len(columns) :]:
        axes.axis("off")
    figure.legend(
        handles=[Patch(color=c, label=f"{i}. {n}") for i, n, c in segments],
        loc="outside lower center", ncols=min(3, len(segments)), fontsize=8,
    )  # fmt: skip
    figure.suptitle("Attributes by segment" + sample_note(segmented))
    return figure


@plain_text
def plot_silhouette(
    model_features: pd.DataFrame,
    segment_model: SklearnPipeline,
    profiles: pd.DataFrame,
    params: dict[str, Any],
) -> Figure:
    """Per-customer silhouette of the final segments, one band per segment in its colour, sorted;
    on a seeded sample of `silhouette_sample_size` customers above that size. The segment of each
    customer comes from the saved model's clusterer applied to the model features."""
    shown, note = sample_rows(
        model_features, params["silhouette_sample_size"], params["random_state"]
    )
    features = shown.to_numpy(dtype=float)
    labels = segment_model.named_steps["segments"].predict(features)
    values = silhouette_samples(features, labels) if len(set(labels)) > 1 else np.zeros(len(labels))
    figure = Figure(figsize=(8, 6), layout="constrained")
    axes = figure.subplots()
    bottom, centres = 0, []
    for segment_id, _, colour in _segments(profiles):
        band = np.sort(values[labels == segment_id])
        positions = np.arange(bottom, bottom + len(band))
        axes.fill_betweenx(positions, 0, band, color=colour, alpha=0.85, linewidth=0)
        centres.append(bottom + len(band) / 2)
        bottom += len(band) + max(10, len(values) // 100)
    axes.axvline(values.mean(), color="crimson", linestyle="--", label=f"mean {values.mean():.2f}")
    axes.set_yticks(centres, [str(sid) for sid, _, _ in _segments(profiles)])
    axes.set(
        title=f"Silhouette of the {len(profiles)} segments{note}",
        xlabel="silhouette coefficient",
        ylabel="segment (customers sorted by silhouette)",
    )
    # below the plot, never over a segment's silhouettes
    figure.legend(
        handles=[Patch(color=c, label=f"{i}. {n}") for i, n, c in _segments(profiles)]
        + axes.get_legend_handles_labels()[0],
        loc="outside lower center",
        ncols=2,
        fontsize=8,
    )
    return figure


@plain_text
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
