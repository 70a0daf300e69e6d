"""Is a figure legible as saved? The figures a run's plot nodes make, and what is wrong with each.

matplotlib figures are laid out at the catalog's saved size and resolution, then every drawn text is
checked: at least 8 pt; tick labels, axis labels, titles, annotations and legend boxes neither
overlapping each other nor cut off by the figure's edge; a legend inside the axes covering no plotted
point, line or bar. Plotly figures are checked for fonts of at least 8 pt (11 px) and for categorical
axes with more labels than their width holds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

MIN_POINTS = 8  # the smallest text a reader is asked to read, at the saved size
MIN_PLOTLY_PX = 11  # 8 pt on a 96 dpi screen
SAVED_DPI = 110  # conf/base/catalog_08_reporting.yml, "{name}_plot" save_args
TOLERANCE = 1.0  # pixels a text may run past the figure's edge (anti-aliased glyph edges)
GAP = 2.0  # pixels between two texts at least: closer, "bisecting" "agglomerative" read as one word


def run_figures(project: Path, env: str | None = None) -> dict[str, Any]:
    """Every figure the workflow of `env` makes, made again in-process by its plot nodes from the
    inputs the project's run saved (read through the environment's own catalog and parameters)."""
    from customer_segmentation.datasets import ProjectDataCatalog  # noqa: PLC0415
    from customer_segmentation.environments import ProjectConfigLoader  # noqa: PLC0415
    from customer_segmentation.settings import CONFIG_LOADER_ARGS  # noqa: PLC0415
    from tests.conftest import workflow_pipeline  # noqa: PLC0415

    config = ProjectConfigLoader(str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)
    catalog = ProjectDataCatalog.from_config(config["catalog"])
    parameters = config["parameters"]

    def value(name: str) -> Any:
        if not name.startswith("params:"):
            return catalog.load(name)
        found = parameters
        for key in name.removeprefix("params:").split("."):
            found = found[key]
        return found

    figures: dict[str, Any] = {}
    with contextlib.chdir(project):  # the catalog's paths are relative to the project
        for node in workflow_pipeline(env).nodes:
            if any(output.endswith("_plot") for output in node.outputs):
                made = node.run({name: value(name) for name in node.inputs})
                figures.update({k: v for k, v in made.items() if k.endswith("_plot")})
    return figures


def problems(name: str, figure: Any) -> list[str]:
    """What makes `figure` hard to read, one sentence each ([] when nothing)."""
    if isinstance(figure, Figure):
        return [f"{name}: {problem}" for problem in _matplotlib_problems(figure)]
    return [f"{name}: {problem}" for problem in _plotly_problems(figure.to_dict())]


def _matplotlib_problems(figure: Figure) -> Iterator[str]:
    figure.set_dpi(SAVED_DPI)
    canvas = FigureCanvasAgg(figure)  # PNG, as the catalog saves it
    figure.draw_without_rendering()  # the layout and every text's place, without the pixels
    renderer = canvas.get_renderer()
    read = list({id(artist): (label, artist) for label, artist in _read(figure)}.values())
    for _label, artist in read:
        texts = (
            artist.get_texts() + [artist.get_title()] if isinstance(artist, Legend) else [artist]
        )
        for text in texts:
            if text.get_text().strip() and text.get_fontsize() < MIN_POINTS:
                yield f"{_quote(text)} is {text.get_fontsize():g} pt (less than {MIN_POINTS} pt)"
    shapes = [(label, _shape(artist, renderer)) for label, artist in read]
    page = figure.bbox
    for label, corners in shapes:
        x, y = corners[:, 0], corners[:, 1]
        if (
            x.min() < page.x0 - TOLERANCE
            or x.max() > page.x1 + TOLERANCE
            or y.min() < page.y0 - TOLERANCE
            or y.max() > page.y1 + TOLERANCE
        ):
            yield f"{label} is cut off by the figure's edge"
    for (first, a), (second, b) in combinations(shapes, 2):
        if _polygons_overlap(a, b):
            yield f"{first} overlaps {second}"
    for axes in figure.axes:
        legend = axes.get_legend()
        if axes.get_visible() and legend is not None and legend.get_visible():
            if _covers_data(axes, legend.get_window_extent(renderer), renderer):
                yield f"the legend of {_axes_name(axes)} covers plotted data"


def _read(figure: Figure) -> Iterator[tuple[str, Text | Legend]]:
    """(description, artist) of every text a reader reads and every legend, as drawn."""
    for text in [*figure.texts, figure._suptitle, figure._supxlabel, figure._supylabel]:
        if _shown(text):
            yield _quote(text), text
    for legend in figure.legends:
        yield "a figure legend", legend
    for axes in figure.axes:
        if axes.get_visible():
            yield from _read_axes(axes)


def _read_axes(axes: Axes) -> Iterator[tuple[str, Text | Legend]]:
    name = _axes_name(axes)
    for axis in (axes.xaxis, axes.yaxis) if axes.axison else ():
        for label in _tick_labels(axis):
            yield f"tick label {_quote(label)} of {name}", label
        if _shown(axis.label):
            yield f"axis label {_quote(axis.label)} of {name}", axis.label
    for title in (axes.title, axes._left_title, axes._right_title):
        if _shown(title):
            yield f"title {_quote(title)}", title
    for text in axes.texts:
        if _shown(text):
            yield f"text {_quote(text)} in {name}", text
    legend = axes.get_legend()
    if legend is not None and legend.get_visible():
        yield f"the legend of {name}", legend


def _shown(text: Text | None) -> bool:
    return text is not None and text.get_visible() and bool(text.get_text().strip())


def _tick_labels(axis: Axis) -> Iterator[Text]:
    """The tick labels matplotlib draws: visible, not empty, inside the view interval."""
    low, high = sorted(axis.get_view_interval())
    span = (high - low) * 1e-9
    for tick in axis.get_major_ticks() + axis.get_minor_ticks():
        if not low - span <= tick.get_loc() <= high + span:
            continue
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                yield label


def _covers_data(axes: Axes, box: Bbox, renderer: Any) -> bool:
    """Any plotted point, line vertex or bar of `axes` inside `box` (the legend's window box)?"""
    inner = box.expanded(1, 1).shrunk(1, 1)  # the legend's own frame edge may touch a line
    for artist in axes.get_children():
        if not artist.get_visible() or isinstance(artist, Legend):
            continue
        if isinstance(artist, Line2D):
            points = artist.get_transform().transform(artist.get_xydata())
        elif isinstance(artist, Collection):
            offsets = artist.get_offsets()
            if len(offsets) > 1 or np.any(offsets):
                points = artist.get_offset_transform().transform(offsets)
            else:
                transform = artist.get_transform()
                points = np.concatenate(
                    [transform.transform(path.vertices) for path in artist.get_paths()]
                    or [np.empty((0, 2))]
                )
        elif isinstance(artist, Rectangle) and artist is not axes.patch:
            if _overlap(artist.get_window_extent(renderer), inner):
                return True
            continue
        else:
            continue
        points = points[np.isfinite(points).all(axis=1)]
        if np.any(
            (points[:, 0] > inner.x0) & (points[:, 0] < inner.x1)
            & (points[:, 1] > inner.y0) & (points[:, 1] < inner.y1)
        ):  # fmt: skip
            return True
    return False


def _shape(artist: Text | Legend, renderer: Any) -> np.ndarray:
    """The four corners (window pixels) of a legend's box, or of a text's box turned with it: the
    box of a text at 30 degrees is a slanted rectangle, not the upright box around it."""
    box = artist.get_window_extent(renderer)
    rotation = artist.get_rotation() if isinstance(artist, Text) else 0
    if rotation % 90 == 0:
        return box.corners()[[0, 1, 3, 2]]  # around the box, as the slanted one
    artist.set_rotation(0)
    upright = artist.get_window_extent(renderer)
    artist.set_rotation(rotation)
    half = np.array([[-1, -1], [-1, 1], [1, 1], [1, -1]]) * [upright.width / 2, upright.height / 2]
    angle = np.radians(rotation)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return half @ turn.T + [box.x0 + box.width / 2, box.y0 + box.height / 2]


def _polygons_overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Are two convex quadrilaterals closer than GAP pixels (no separating axis with that gap)?"""
    for polygon in (a, b):
        edges = np.roll(polygon, -1, axis=0) - polygon
        for normal in np.stack([-edges[:, 1], edges[:, 0]], axis=1):
            length = np.hypot(*normal)
            if length == 0:
                continue
            on_a, on_b = a @ (normal / length), b @ (normal / length)
            if min(on_a.max(), on_b.max()) - max(on_a.min(), on_b.min()) <= -GAP:
                return False
    return True


def _overlap(a: Bbox, b: Bbox) -> bool:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > TOLERANCE and height > TOLERANCE


def _quote(text: Text) -> str:
    return repr(" ".join(text.get_text().split())[:40])


def _axes_name(axes: Axes) -> str:
    title = axes.get_title() or axes.get_ylabel() or axes.get_xlabel()
    return f"the panel {' '.join(title.split())[:40]!r}" if title else "a panel"


def _plotly_problems(figure: dict[str, Any]) -> Iterator[str]:
    layout = figure.get("layout", {})
    for path, size in _font_sizes({k: v for k, v in figure.items() if k != "layout"} | {
        "layout": {k: v for k, v in layout.items() if k != "template"}
    }):  # fmt: skip
        if size < MIN_PLOTLY_PX:
            yield f"{path} has a {size} px font (smaller than {MIN_PLOTLY_PX} px)"
    base = layout.get("font", {}).get("size", 12)  # plotly's default
    width = layout.get("width") or 700  # plotly's default
    keys = {"xaxis" + trace.get("xaxis", "x")[1:] for trace in figure.get("data", [])}
    for key in sorted(keys | {k for k in layout if k.startswith("xaxis")}):
        axis = layout.get(key, {})
        labels = _categories(figure, key)
        if not labels or axis.get("tickangle") in (90, -90):
            continue
        start, end = axis.get("domain", [0, 1])
        room = width * (end - start) * 0.8 / len(labels)  # the plot area is ~80 % of the width
        size = axis.get("tickfont", {}).get("size", base)
        needed = max(len(str(label)) for label in labels) * 0.6 * size
        if needed > room:
            yield f"{key} has {len(labels)} labels of up to {needed:.0f} px in {room:.0f} px each"


def _font_sizes(node: Any, path: str = "figure") -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("font", "tickfont", "textfont") and isinstance(value, dict):
                sizes = value.get("size")
                for size in sizes if isinstance(sizes, list) else [sizes]:
                    if isinstance(size, int | float):
                        yield f"{path}.{key}", size
            else:
                yield from _font_sizes(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _font_sizes(value, f"{path}[{index}]")


def _categories(figure: dict[str, Any], axis_key: str) -> list[Any]:
    """The distinct text values the traces put on a categorical x axis."""
    anchor = "x" + axis_key.removeprefix("xaxis")
    values: list[Any] = []
    for trace in figure.get("data", []):
        if trace.get("xaxis", "x") == anchor and trace.get("type", "scatter") in ("bar", "box"):
            values += [v for v in trace.get("x", []) or [] if isinstance(v, str)]
    return list(dict.fromkeys(values))
