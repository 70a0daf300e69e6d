"""The explorer's charts, from a run's tables (the explorer draws them with Streamlit)."""

from __future__ import annotations

import pandas as pd

from customer_segmentation.app.charts import z_chart, z_range
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
