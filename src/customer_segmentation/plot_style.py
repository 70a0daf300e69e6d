"""What every plot shares: one colour per segment, axis labels with units, sampling of large tables."""

from __future__ import annotations

import pandas as pd
from matplotlib import colormaps

AXIS_LABELS = {
    "age": "age (years)",
    "annual_income_k": "annual income (k$)",
    "spending_score": "spending score (1–100)",
    "is_female": "female (0/1)",
}


def axis_label(column: str) -> str:
    return AXIS_LABELS.get(column, column)


def segment_colours(segment_ids: list[int]) -> dict[int, str]:
    """One colour per segment id, the same in every plot and in the report (tab10, then tab20)."""
    palette = colormaps["tab10" if len(segment_ids) <= 10 else "tab20"]
    hex_colour = "#{:02x}{:02x}{:02x}"
    return {
        int(sid): hex_colour.format(*(int(255 * c) for c in palette(i % palette.N)[:3]))
        for i, sid in enumerate(sorted(segment_ids))
    }


def sample_rows(
    frame: pd.DataFrame, max_points: int, random_state: int
) -> tuple[pd.DataFrame, str]:
    """At most `max_points` rows (seeded), and the note for the plot title ('' when not sampled)."""
    if len(frame) <= max_points:
        return frame, ""
    sampled = frame.sample(n=max_points, random_state=random_state)
    return sampled, f" (random sample of {max_points:,} of {len(frame):,} customers)"
