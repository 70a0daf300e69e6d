"""comparison: one template pipeline instantiated once per algorithm (a Kedro namespace each), then
one table, one agreement matrix, one plot and the choice of the algorithm that makes the segments."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline, pipeline

from customer_segmentation.models import ALGORITHMS

from .nodes import (
    choose_algorithm,
    compare_algorithms,
    draw_comparison_sample,
    fit_candidate,
    score_candidate,
)
from .plots import plot_algorithm_comparison


def create_candidate_pipeline(algorithm: str) -> Pipeline:
    """The template: fit one algorithm on the shared sample, then score it. Its settings are
    `params:comparison.algorithms.<algorithm>`, its outputs `<algorithm>_candidate` and
    `<algorithm>_scores`."""
    fit = update_wrapper(partial(fit_candidate, algorithm=algorithm), fit_candidate)
    template = Pipeline(
        [
            Node(
                fit,
                ["comparison_sample", "k_selection", "params:options", "params:comparison"],
                "candidate",
                name="fit_candidate_node",
            ),
            Node(
                score_candidate,
                ["comparison_sample", "candidate", "params:options", "params:comparison"],
                "scores",
                name="score_candidate_node",
            ),
        ]
    )
    return pipeline(
        template,
        namespace=algorithm,
        inputs={"comparison_sample", "k_selection"},
        outputs={"candidate": f"{algorithm}_candidate", "scores": f"{algorithm}_scores"},
        parameters={
            "params:options": f"params:comparison.algorithms.{algorithm}",
            "params:comparison": "params:comparison",
        },
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Scaled features and the chosen k in; the comparison table, agreement, plot and choice out."""
    candidates = sum((create_candidate_pipeline(a) for a in ALGORITHMS), Pipeline([]))
    return (
        Pipeline(
            [
                Node(
                    draw_comparison_sample,
                    ["model_features", "feature_transformer", "params:comparison"],
                    "comparison_sample",
                    name="draw_comparison_sample_node",
                )
            ]
        )
        + candidates
        + Pipeline(
            [
                Node(
                    compare_algorithms,
                    {
                        "sample": "comparison_sample",
                        **{f"{a}_candidate": f"{a}_candidate" for a in ALGORITHMS},
                        **{f"{a}_scores": f"{a}_scores" for a in ALGORITHMS},
                    },
                    ["algorithm_comparison", "algorithm_agreement"],
                    name="compare_algorithms_node",
                ),
                Node(
                    choose_algorithm,
                    ["algorithm_comparison", "params:clustering", "params:comparison"],
                    "algorithm_choice",
                    name="choose_algorithm_node",
                ),
                Node(
                    plot_algorithm_comparison,
                    ["algorithm_comparison", "algorithm_agreement", "algorithm_choice"],
                    "algorithm_comparison_plot",
                    name="plot_algorithm_comparison_node",
                ),
            ]
        )
    )
