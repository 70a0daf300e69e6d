"""Unit tests of the experiments nodes on a table shaped like `mlflow.search_runs`."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.experiments.nodes import (
    compare_experiments,
    plot_experiment_comparison,
)
from customer_segmentation.plot_style import segment_colours

PARAMS = {"last_runs": 10, "ignore_parameters": []}


def tracked(run: str, started: str, status: str = "FINISHED", **values) -> dict:
    row = {
        "run_id": f"id-{run}",
        "status": status,
        "start_time": pd.Timestamp(started, tz="UTC"),
        "tags.mlflow.runName": run,
        "tags.environment": "local",
        "tags.pipeline": "__default__",
        "tags.data_fingerprint": "abc",
        "tags.git_commit": "0123456789abcdef",
        "params.data_processing.scaler": "standard",
        "params.clustering.algorithm": "kmeans",
        "metrics.k": 5.0,
        "metrics.silhouette": 0.7,
        "metrics.calinski_harabasz": 8000.0,
        "metrics.davies_bouldin": 0.35,
        "metrics.rows_kept": 1995.0,
        "metrics.segment_size.1": 700.0,
        "metrics.segment_size.2": 500.0,
    }
    row.update(values)
    return row


def test_the_table_shows_only_the_parameters_that_differ_newest_first():
    runs = pd.DataFrame(
        [
            tracked("a", "2026-11-01 10:00"),
            tracked("b", "2026-11-02 10:00", **{"params.data_processing.scaler": "minmax",
                                                 "metrics.k": 4.0}),
            tracked("c", "2026-11-03 10:00", status="FAILED"),
            tracked("d", "2026-11-04 10:00", **{"metrics.k": None}),  # scoring only
        ]
    )  # fmt: skip
    table = compare_experiments(runs, PARAMS)
    assert table["run"].tolist() == ["b", "a"]
    assert table["data_processing.scaler"].tolist() == ["minmax", "standard"]
    assert "clustering.algorithm" not in table
    assert table["k"].tolist() == [4.0, 5.0]
    assert table["segment_sizes"].tolist() == ["1: 700 / 2: 500", "1: 700 / 2: 500"]
    assert table["git_commit"].tolist() == ["0123456789", "0123456789"]
    figure = plot_experiment_comparison(table)
    assert "2 tracked runs" in figure.texts[0].get_text()


def test_last_runs_and_ignored_parameters():
    runs = pd.DataFrame(
        [tracked(str(i), f"2026-11-0{i} 10:00", **{"params.x": str(i)}) for i in range(1, 5)]
    )
    table = compare_experiments(runs, {"last_runs": 2, "ignore_parameters": ["x"]})
    assert table["run"].tolist() == ["4", "3"]
    assert "x" not in table


def test_an_empty_store_is_a_clear_error():
    runs = pd.DataFrame(columns=["run_id", "status"])
    runs.attrs["tracking_uri"] = "sqlite:///mlflow.db"
    with pytest.raises(DataValidationError, match=r"no tracked run .* sqlite:///mlflow.db"):
        compare_experiments(runs, PARAMS)


def test_segment_bars_carry_the_ids_and_colours_of_the_segments():
    """An HDBSCAN run has segments 0 (unassigned) to 5: the bars say 0 … 5, in the colours every
    other figure gives those ids; a k-means run beside it keeps its own ids and colours."""
    hdbscan = {
        f"metrics.segment_size.{i}": size for i, size in enumerate([40, 600, 500, 400, 300, 200])
    }
    runs = pd.DataFrame(
        [
            tracked("kmeans", "2026-11-01 10:00"),
            tracked(
                "hdbscan",
                "2026-11-02 10:00",
                **{"params.clustering.algorithm": "hdbscan"},
                **hdbscan,
            ),  # fmt: skip
        ]
    )
    table = compare_experiments(runs, PARAMS)
    assert (
        table["segment_sizes"].tolist()[0] == "0: 40 / 1: 600 / 2: 500 / 3: 400 / 4: 300 / 5: 200"
    )
    sizes = plot_experiment_comparison(table).axes[1]
    labels = [text.get_text() for text in sizes.texts]
    # drawn bottom up (the newest run at the top); 0 is too small a share to be labelled
    assert labels == ["1", "2", "1", "2", "3", "4", "5"]
    colours = segment_colours([0, 1, 2, 3, 4, 5])
    newest = [to_hex(bar.get_facecolor()) for bar in sizes.patches[2:8]]
    assert newest == [colours[i] for i in range(6)]
