"""The RFM section's summary and plots, on a small scored table built in the test."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from customer_segmentation.pipelines.customer_features.rfm import score_rfm
from customer_segmentation.pipelines.reporting.rfm_plots import (
    plot_rfm_crosstab,
    plot_rfm_grid,
    summarise_rfm,
)
from tests.conftest import load_parameters
from tests.pipelines.customer_features.test_nodes import random_rfm_features


@pytest.fixture(scope="module")
def summary_inputs() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    params = load_parameters("transactions")["customer_features"]
    features = random_rfm_features(300, seed=4)
    scores = score_rfm(ibis.memtable(features), params).to_pandas()
    # K-Means segments for all but the last 10 customers (as if data_processing set them aside)
    segmented = pd.DataFrame(
        {
            "customer_id": features["customer_id"][:290],
            "segment_id": (features["recency"][:290] > 180).astype(int) + 1,
        }
    )
    segmented["segment_name"] = segmented["segment_id"].map({1: "Recent", 2: "Lapsed"})
    return scores, segmented, params


def test_summary_sizes_revenue_cells_and_crosstab(summary_inputs):
    scores, segmented, params = summary_inputs
    summary = summarise_rfm(scores, segmented, params)
    segments = pd.DataFrame(summary["segments"])
    assert segments["customers"].sum() == 300
    assert segments["revenue"].sum() == pytest.approx(scores["monetary"].sum(), abs=0.1)
    assert segments["revenue_share"].sum() == pytest.approx(1, abs=1e-3)
    order = [rule["name"] for rule in params["rfm"]["segments"]]
    assert segments["rfm_segment"].tolist() == [
        n for n in order if n in set(segments["rfm_segment"])
    ]
    assert np.array(summary["grid"]["customers"]).sum() == 300
    assert len(summary["grid"]["names"]) == 25  # every cell named, empty or not
    assert summary["grid"]["names"]["R1F5"] == "Can't lose them"
    crosstab = np.array(summary["crosstab"]["customers"])
    assert crosstab.sum() == summary["customers_in_crosstab"] == 290
    assert summary["crosstab"]["rows"] == ["1 · Recent", "2 · Lapsed"]
    lapsed = crosstab[1]
    recent_names = {"Champions", "New customers", "Promising"}
    assert all(
        lapsed[j] == 0
        for j, name in enumerate(summary["crosstab"]["columns"])
        if name in recent_names
    )


def test_rfm_plots_label_cells_with_counts_and_names(summary_inputs):
    summary = summarise_rfm(*summary_inputs)
    grid = plot_rfm_grid(summary)
    assert isinstance(grid, Figure)
    texts = {t.get_text() for t in grid.axes[0].texts}
    assert any(t.endswith("Champions") for t in texts) and any("lose" in t for t in texts)
    crosstab = plot_rfm_crosstab(summary)
    labels = [t.get_text() for t in crosstab.axes[0].get_yticklabels()]
    assert labels == ["1 · Recent", "2 · Lapsed"]
