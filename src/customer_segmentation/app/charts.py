"""The explorer's charts, built from the run's tables alone (testable without a browser)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from customer_segmentation.plot_style import segment_colours
from customer_segmentation.schema import Schema

BAR_HEIGHT = 22  # px per feature: every bar gets its label


def z_range(profiles: pd.DataFrame) -> float:
    """The half-width of the x axis every segment card shares: the largest |z| of any segment,
    rounded up to a half, at least 1 (so cards can be compared at a glance)."""
    z = profiles.filter(like="z_").abs().to_numpy()
    largest = float(z.max()) if z.size else 1.0
    return max(1.0, math.ceil(largest * 2) / 2)


def z_chart(profiles: pd.DataFrame, segment_id: int, schema: Schema) -> alt.Chart:
    """One segment's profile against everyone, as z-scores: a bar per numeric column labelled with
    the column's label (and unit), on the x range every card shares, in the segment's colour."""
    row = profiles.set_index("segment_id").loc[segment_id]
    columns = [c.removeprefix("z_") for c in row.index if c.startswith("z_")]
    table = pd.DataFrame(
        {
            "feature": [schema.axis_label(c) for c in columns],
            "z": [float(row[f"z_{c}"]) for c in columns],
        }
    )
    half = z_range(profiles)
    colour = segment_colours(profiles["segment_id"].tolist())[int(segment_id)]
    return (
        alt.Chart(table)
        .mark_bar(color=colour)
        .encode(
            x=alt.X(
                "z:Q",
                title="difference from everyone, in standard deviations",
                scale=alt.Scale(domain=[-half, half]),
            ),
            y=alt.Y("feature:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
            tooltip=["feature", alt.Tooltip("z:Q", format="+.2f")],
        )
        .properties(height=BAR_HEIGHT * len(columns))
    )
