"""reporting through the real pipeline: figures saved by the project's figure dataset, then embedded."""

from __future__ import annotations

import base64

import plotly.graph_objects as go
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

from customer_segmentation.pipelines.monitoring import create_migration_pipeline
from customer_segmentation.pipelines.reporting import create_pipeline
from customer_segmentation.pipelines.reporting.pipeline import REPORT_FIGURES
from tests.conftest import load_parameters
from tests.pipelines.clustering.test_pipeline import fast_parameters, run_training


def test_report_embeds_every_figure_saved_in_this_run(tmp_path):
    trained = run_training(fast_parameters())
    catalog = DataCatalog.from_config(
        {
            "{name}_plot": {
                "type": "customer_segmentation.datasets.FigureDataset",
                "filepath": str(tmp_path / "{name}_plot.png"),
            },
            "segments_3d_plot": {
                "type": "plotly.JSONDataset",
                "filepath": str(tmp_path / "segments_3d_plot.json"),
            },
            "segment_migration_plot": {
                "type": "plotly.JSONDataset",
                "filepath": str(tmp_path / "segment_migration_plot.json"),
            },
        }
    )
    for name in (
        "customers_primary",
        "segmented_customers_parquet",
        "segment_profiles",
        "model_features",
        "data_quality_report",
        "k_selection",
        "algorithm_comparison",
        "algorithm_choice",
        "algorithm_comparison_plot",
        "column_schema",
        "segment_model",
        "elbow_plot",
        "k_scores_plot",
        "k_metrics",
    ):
        if name.endswith("_plot"):
            catalog[name].save(trained[name])
        else:
            catalog[name] = trained[name]
    catalog["params:reporting"] = load_parameters()["reporting"]
    # the previous segmentation: the same customers in the same segments
    catalog["segmented_customers_previous"] = trained["segmented_customers_parquet"]
    SequentialRunner().run(create_pipeline() + create_migration_pipeline(), catalog)

    html = catalog["segment_report"].load()
    for name in REPORT_FIGURES:
        png = (tmp_path / f"{name}.png").read_bytes()
        assert base64.b64encode(png).decode() in html, name
    assert html.count('class="segment-card"') == 5
    assert isinstance(catalog["segments_3d_plot"].load(), go.Figure)
    migration = html[html.index('id="migration"') : html.index('id="customers"')]
    assert "100.0 % of the returning customers stayed in the matched segment" in migration
    assert "Plotly.newPlot" in migration and "sankey" in migration
