"""Kedro-Viz's layer bands: every path through the workflow keeps the layers in order."""

from __future__ import annotations

import pytest

from tests.conftest import config_loader, workflow_pipeline

LAYERS = ["raw", "intermediate", "primary", "feature", "model_input", "models", "model_output",
          "reporting"]  # fmt: skip


@pytest.mark.parametrize("env", [None, "cards", "transactions", "spark", "spark_transactions"])
def test_kedro_viz_layers_flow_in_order_in_every_environment(env):
    """Kedro-Viz drops its layer bands if a dataset feeds an earlier layer (even through unlayered
    in-memory datasets), so every path through the graph must keep layer order."""
    catalog_config = config_loader(env)["catalog"]
    workflow = workflow_pipeline(env)

    def layer(dataset: str) -> int | None:
        entry = catalog_config.get(dataset) or (
            catalog_config["{name}_plot"] if dataset.endswith("_plot") else {}
        )
        name = entry.get("metadata", {}).get("kedro-viz", {}).get("layer")
        return LAYERS.index(name) if name else None

    reached: dict[str, int] = {}  # the latest layer upstream of each dataset
    for node in workflow.nodes:  # topologically sorted
        upstream = max(
            [layer(d) if layer(d) is not None else reached.get(d, 0) for d in node.inputs] or [0]
        )
        for output in node.outputs:
            if layer(output) is not None:
                assert layer(output) >= upstream, (node.name, output, LAYERS[upstream])
            reached[output] = layer(output) if layer(output) is not None else upstream
    if env == "transactions":
        assert layer("customer_features@pandas") == LAYERS.index("intermediate")
    if env == "spark":
        assert "reporting.draw_plot_sample_node" in {node.name for node in workflow.nodes}
