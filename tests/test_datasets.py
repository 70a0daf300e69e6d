"""The project's catalog datasets."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError, Version
from matplotlib.figure import Figure

from customer_segmentation.datasets import FigureDataset, RawCustomersDataset


def test_raw_customers_are_read_as_text(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("CustomerID,Age\n007,45k\n8,\n")
    frame = RawCustomersDataset(filepath=str(path)).load()
    assert frame["CustomerID"].tolist() == ["007", "8"]
    assert frame["Age"].iloc[0] == "45k" and frame["Age"].isna().iloc[1]


def test_empty_file_loads_as_an_empty_table(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert RawCustomersDataset(filepath=str(path)).load().columns.empty


def test_missing_file_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(
        DatasetError, match=r"No customer file at '.*nowhere\.csv'.*Run on your own data"
    ):
        RawCustomersDataset(filepath=str(tmp_path / "nowhere.csv")).load()


def test_figure_dataset_saves_png_versions_and_loads_their_bytes(tmp_path):
    figure = Figure()
    figure.subplots().plot([1, 3, 2])
    dataset = FigureDataset(filepath=str(tmp_path / "a_plot.png"), version=Version(None, None))
    dataset.save(figure)
    png = dataset.load()
    assert png.startswith(b"\x89PNG")
    assert len(list((tmp_path / "a_plot.png").iterdir())) == 1
