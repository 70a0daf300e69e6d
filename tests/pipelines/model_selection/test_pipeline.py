"""model_selection run with SequentialRunner on an in-memory catalog."""

from __future__ import annotations

from matplotlib.figure import Figure

from customer_segmentation.pipelines.model_selection import create_pipeline
from tests.conftest import run_pipeline
from tests.pipelines.model_selection.test_nodes import planted_blobs


def test_pipeline_chooses_planted_k_and_draws_every_plot(parameters):
    params = parameters["model_selection"]
    params.update(gap_references=3, stability_resamples=3)
    params["k_range"]["max"] = 6
    outputs = run_pipeline(
        create_pipeline(),
        {"model_features": planted_blobs(4), "params:model_selection": params},
    )
    assert outputs["k_selection"]["k"] == 4
    assert outputs["k_metrics"]["k"].tolist() == [1, 2, 3, 4, 5, 6]
    for plot in ("elbow_plot", "k_scores_plot"):  # the silhouette plot is reporting's
        assert isinstance(outputs[plot], Figure)
        assert outputs[plot].axes, plot
