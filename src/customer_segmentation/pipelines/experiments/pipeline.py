"""experiments: one table and one plot over the tracked runs (`kedro run --pipelines experiments`).

Not part of `__default__` and not tracked itself (conf/base/mlflow.yml): it reads the runs that earlier
`kedro run`s recorded in the MLflow store.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import compare_experiments, plot_experiment_comparison


def create_pipeline(**kwargs) -> Pipeline:
    """`tracked_runs` in; `experiment_comparison` (CSV) and `experiment_comparison_plot` out."""
    return Pipeline(
        [
            Node(
                compare_experiments,
                ["tracked_runs", "params:experiments"],
                "experiment_comparison",
                name="compare_experiments_node",
            ),
            Node(
                plot_experiment_comparison,
                "experiment_comparison",
                "experiment_comparison_plot",
                name="plot_experiment_comparison_node",
            ),
        ]
    )
