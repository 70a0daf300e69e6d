"""What every plot and table shares: one colour per segment, numbers for people, the columns a plot
shows, sampling of large tables."""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
from matplotlib import colormaps, rc_context, ticker
from matplotlib.axes import Axes

from customer_segmentation.schema import Schema

T = TypeVar("T")


UNASSIGNED_COLOUR = "#9aa5b1"  # segment 0, the customers a density method leaves out: grey


def segment_colours(segment_ids: list[int]) -> dict[int, str]:
    """One colour per segment id, fixed by the id itself, so that it is the same in every plot, in
    the report, the Sankey and the explorer, and segment 3 keeps its colour whether or not a run
    has unassigned customers: segment i takes tab10's colour i - 1 (tab20's above 10 segments);
    segment 0 (unassigned) is grey."""
    segments = [int(sid) for sid in segment_ids if int(sid) != 0]
    palette = colormaps["tab10" if max(segments, default=0) <= 10 else "tab20"]
    hex_colour = "#{:02x}{:02x}{:02x}"
    colours = {
        sid: hex_colour.format(*(int(255 * c) for c in palette((sid - 1) % palette.N)[:3]))
        for sid in segments
    }
    return {0: UNASSIGNED_COLOUR, **colours} if len(segments) < len(segment_ids) else colours


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
    """At most `max_points` rows (seeded), and the note for the plot title ('' when not sampled).
    A table that is already a sample (`sample_note`) says of how many customers."""
    if len(frame) > max_points:
        return frame.sample(n=max_points, random_state=random_state), sample_note(frame, max_points)
    return frame, sample_note(frame)


def sample_note(frame: pd.DataFrame, shown: int | None = None) -> str:
    """' (random sample of n of N customers)' when the plot shows `shown` (default: all) rows of
    `frame` and `frame.attrs["customers"]` (N; a sample drawn by Spark) or the frame itself has more;
    '' when every customer is shown."""
    shown = len(frame) if shown is None else shown
    customers = int(frame.attrs.get("customers", len(frame)))
    return f" (random sample of {shown:,} of {customers:,} customers)" if shown < customers else ""


def grid_shape(panels: int, columns: int = 3) -> tuple[int, int]:
    """(rows, columns) of a subplot grid for `panels` panels, at most `columns` wide."""
    width = max(1, min(columns, panels))
    return -(-max(panels, 1) // width), width


def compact_number(value: float, _position: int | None = None) -> str:
    """Tick label: '12k' for 12,000, '1.5M' for 1,500,000, the number itself below 10,000."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= size:
            return f"{value / (size if suffix != 'k' else 1e3):g}{suffix}"
    return f"{value:g}"


def style_value_axis(axes: Axes, schema: Schema, column: str, axis: str = "x") -> None:
    """Readable ticks for a column's values; a symmetric log scale when the column is clustered on
    its log1p or Yeo-Johnson transform (so the plot shows what the model sees)."""
    which = axes.xaxis if axis == "x" else axes.yaxis
    if schema.transform(column) != "none":
        (axes.set_xscale if axis == "x" else axes.set_yscale)("symlog", linthresh=1)
    else:
        which.set_major_locator(ticker.MaxNLocator(6))
    which.set_major_formatter(ticker.FuncFormatter(compact_number))


CURRENCIES = ("$", "£", "€", "¥")  # units written before the number
SCALE = re.compile(r"\d+\s*[–-]\s*(\d+)")  # a unit that is a scale, e.g. "1–100"


def human_number(value: float, unit: str | None = None) -> str:
    """A figure for people: thousands separated, at most 3 significant decimals ('42.1', '0.372',
    '1,250'), integers as integers, a currency before the number, a score over the top of its scale
    (unit '1–100': '59/100') and any other unit after it."""
    if value is None or pd.isna(value):
        return "n/a"
    magnitude = abs(value)
    decimals = 0 if magnitude >= 100 or float(value).is_integer() else 1 if magnitude >= 10 else 2
    if 0 < magnitude < 1:
        decimals = 3
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if not unit:
        return text
    if unit in CURRENCIES:
        return f"-{unit}{text[1:]}" if text.startswith("-") else f"{unit}{text}"
    scale = SCALE.fullmatch(unit)
    if scale:  # a score on a scale: '59/100', not '59 1–100'
        return f"{text}/{scale.group(1)}"
    return f"{text} {unit}"


def wrapped(text: str, width: int = 80) -> str:
    """A long title on several lines."""
    return "\n".join(textwrap.wrap(text, width))


def plain_text(plot: Callable[..., T]) -> Callable[..., T]:
    """Decorate a plot node so its texts are drawn as written: a '$' in a unit ("balance ($)") is a
    dollar sign, not the start of a maths formula."""

    @functools.wraps(plot)
    def draw(*args: Any, **kwargs: Any) -> T:
        with rc_context({"text.parse_math": False}):
            return plot(*args, **kwargs)

    return draw
