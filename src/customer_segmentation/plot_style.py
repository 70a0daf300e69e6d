"""What every plot shares: one colour per segment, the columns a plot shows, sampling of large tables."""

from __future__ import annotations

import pandas as pd
from matplotlib import colormaps

from customer_segmentation.schema import Schema


def segment_colours(segment_ids: list[int]) -> dict[int, str]:
    """One colour per segment id, the same in every plot and in the report (tab10, then tab20)."""
    palette = colormaps["tab10" if len(segment_ids) <= 10 else "tab20"]
    hex_colour = "#{:02x}{:02x}{:02x}"
    return {
        int(sid): hex_colour.format(*(int(255 * c) for c in palette(i % palette.N)[:3]))
        for i, sid in enumerate(sorted(segment_ids))
    }


def numeric_columns_to_show(schema: Schema, wanted: list[str] | None, count: int) -> list[str]:
    """Up to `count` numeric columns: `wanted` when given, else the numeric features, then the other
    declared numeric columns, in declaration order."""
    if wanted:
        return list(wanted)[:count]
    ordered = schema.numeric_features + [c for c in schema.numeric if c not in schema.features]
    return ordered[:count]


def sample_rows(
    frame: pd.DataFrame, max_points: int, random_state: int
) -> tuple[pd.DataFrame, str]:
    """At most `max_points` rows (seeded), and the note for the plot title ('' when not sampled)."""
    if len(frame) <= max_points:
        return frame, ""
    sampled = frame.sample(n=max_points, random_state=random_state)
    return sampled, f" (random sample of {max_points:,} of {len(frame):,} customers)"


def grid_shape(panels: int, columns: int = 3) -> tuple[int, int]:
    """(rows, columns) of a subplot grid for `panels` panels, at most `columns` wide."""
    width = max(1, min(columns, panels))
    return -(-max(panels, 1) // width), width
