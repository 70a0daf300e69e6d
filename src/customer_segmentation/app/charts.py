"""The explorer's charts and tables, built from the run's tables alone (testable without a browser)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from customer_segmentation.plot_style import human_number, segment_colours
from customer_segmentation.schema import Schema

BAR_HEIGHT = 22  # px per feature: every bar gets its label
# px for the x axis, its labels and its title: Streamlit fits the whole chart, axes included, into
# the height the chart asks for (without this room the bars were squashed to a line)
AXIS_HEIGHT = 70


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
            y=alt.Y(
                "feature:N",
                title=None,
                sort=None,
                axis=alt.Axis(labelLimit=220, labelOverlap=False, labelFontSize=11),
            ),
            tooltip=["feature", alt.Tooltip("z:Q", format="+.2f")],
        )
        .properties(height=BAR_HEIGHT * len(columns) + AXIS_HEIGHT)
    )


def readable(profile: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The profile table for people: each column by its label, figures in its unit with at most 3
    significant decimals ('£1,250', '42.1 years'), z-scores to 2 decimals."""
    units = [schema.column(f).unit if f in schema.names else None for f in profile["feature"]]
    shown = profile.assign(feature=[schema.label(f) for f in profile["feature"]])
    for column in ("segment mean", "population mean", "difference"):
        shown[column] = [human_number(v, u) for v, u in zip(profile[column], units, strict=True)]
    return shown.round({"z (difference in population SDs)": 2})
