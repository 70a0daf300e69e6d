"""model_selection: sweep k on the scaled features and choose k with a recorded reason."""

from kedro.pipeline import Node, Pipeline

from .nodes import select_k, sweep_k
from .plots import plot_elbow, plot_k_scores


def create_pipeline(**kwargs) -> Pipeline:
    """Scaled features in; metrics per k, the k selection and its two plots out."""
    return Pipeline(
        [
            Node(
                sweep_k,
                ["model_features", "params:model_selection"],
                "k_metrics",
                name="sweep_k_node",
            ),
            Node(
                select_k,
                ["k_metrics", "params:model_selection"],
                "k_selection",
                name="select_k_node",
            ),
            Node(plot_elbow, ["k_metrics", "k_selection"], "elbow_plot", name="plot_elbow_node"),
            Node(
                plot_k_scores,
                ["k_metrics", "k_selection"],
                "k_scores_plot",
                name="plot_k_scores_node",
            ),
        ]
    )
