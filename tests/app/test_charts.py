"""The explorer's charts, from a run's tables (the explorer draws them with Streamlit)."""

from __future__ import annotations

import pandas as pd

from customer_segmentation.app.charts import readable, z_chart, z_range
from customer_segmentation.plot_style import segment_colours
from customer_segmentation.schema import schema_from_params
from tests.conftest import latest


def test_every_card_shares_one_x_range_and_labels_every_bar(ran_project, parameters):
    profiles = pd.read_csv(latest(ran_project / "data/07_model_output/segment_profiles.csv"))
    schema = schema_from_params(parameters["data_processing"])
    largest = profiles.filter(like="z_").abs().to_numpy().max()
    assert largest <= z_range(profiles) < largest + 0.5
    specs = [z_chart(profiles, sid, schema).to_dict() for sid in profiles["segment_id"]]
    domains = {tuple(s["encoding"]["x"]["scale"]["domain"]) for s in specs}
    assert domains == {(-z_range(profiles), z_range(profiles))}  # one scale for every card
    colours = segment_colours(profiles["segment_id"].tolist())
    for sid, spec in zip(profiles["segment_id"], specs, strict=True):
        data = next(iter(spec["datasets"].values()))
        assert [row["feature"] for row in data] == [
            "age (years)", "annual income (k$)", "spending score (1–100)"
        ]  # fmt: skip
        assert spec["mark"]["color"] == colours[sid]
        assert spec["height"] >= 22 * len(data)  # room for every bar's label


def test_the_profile_table_reads_in_labels_and_units(parameters):
    schema = schema_from_params(parameters["data_processing"])
    profile = pd.DataFrame(
        {
            "feature": ["age", "annual_income_k"],
            "segment mean": [42.0545, 87.71428],
            "population mean": [38.85, 60.56],
            "difference": [3.2045, 27.15428],
            "z (difference in population SDs)": [0.23456, 1.0512],
        }
    )
    table = readable(profile, schema)
    assert table["feature"].tolist() == ["age", "annual income"]
    assert table["segment mean"].tolist() == ["42.1 years", "87.7 k$"]
    assert table["difference"].tolist() == ["3.2 years", "27.2 k$"]
    assert table["z (difference in population SDs)"].tolist() == [0.23, 1.05]
