"""Every figure of the embedded examples is legible as saved (tests/legibility.py says what that is),
and the check itself finds what it is there to find."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure

from tests.legibility import problems, run_figures


@pytest.mark.slow
@pytest.mark.parametrize("env", [None, "cards", "transactions"])
def test_every_figure_of_the_embedded_examples_is_legible(sequence_project, env):
    """The default, cards and transactions runs of the README's command sequence; the run with
    `clustering.algorithm=best` is checked in tests/test_run.py."""
    figures = run_figures(sequence_project, env)
    assert len(figures) >= 16
    assert [p for name, figure in figures.items() for p in problems(name, figure)] == []


def test_small_text_is_found():
    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.set_axis_off()
    axes.set_title("small", fontsize=7)
    assert problems("f", figure) == ["f: 'small' is 7 pt (less than 8 pt)"]


def test_crowded_tick_labels_are_found_and_slanted_ones_that_clear_each_other_are_not():
    figure = Figure(figsize=(3, 3), layout="constrained")
    axes = figure.subplots()
    names = ["bisecting k-means", "agglomerative clustering", "Gaussian mixture"]
    axes.bar(names, [1, 2, 3])
    found = problems("f", figure)
    assert "tick label 'bisecting k-means' of a panel overlaps tick label 'agglomerative" in (
        " ".join(found)
    )
    axes.set_xticks(range(3), names, rotation=45, ha="right", rotation_mode="anchor")
    assert problems("f", figure) == []


def test_a_legend_over_points_and_a_text_past_the_edge_are_found():
    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    axes.scatter([0, 1, 2], [0, 1, 2], label="segment 1")
    axes.legend(loc="center")
    figure.text(0.9, 0.5, "a note running off the page")
    assert problems("f", figure) == [
        "f: 'a note running off the page' is cut off by the figure's edge",
        "f: the legend of a panel covers plotted data",
    ]


def test_plotly_axes_with_more_labels_than_room_and_small_fonts_are_found():
    crowded = go.Figure(go.Bar(x=[f"customer segment {i}" for i in range(30)], y=list(range(30))))
    crowded.update_layout(width=500, font={"size": 9})
    assert problems("p", crowded) == [
        "p: figure.layout.font has a 9 px font (smaller than 11 px)",
        "p: xaxis has 30 labels of up to 103 px in 13 px each",
    ]
    assert problems("p", go.Figure(go.Bar(x=["a", "b"], y=[1, 2]))) == []
