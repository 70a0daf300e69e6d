"""scoring: validate new customers like data_processing does, then assign the saved model's segments.

`kedro run --pipelines scoring` loads the latest `segment_model` and `segment_profiles` (or the versions
pinned with `--load-versions`), so it needs one earlier full run. Its intermediate datasets live under
the `scoring` namespace.
"""

from kedro.pipeline import Node, Pipeline, pipeline

from customer_segmentation.pipelines.customer_features.pipeline import create_feature_pipeline
from customer_segmentation.pipelines.data_processing.nodes import standardise_columns
from customer_segmentation.pipelines.data_processing.pipeline import create_cleaning_pipeline

from .nodes import score_customers, scoring_cleaning_parameters, scoring_feature_parameters


def create_pipeline(**kwargs) -> Pipeline:
    """`new_customers_raw` in; `scored_customers`, `scoring_quarantine` and a quality report out.
    (The registered `scoring` pipeline adds the batch's drift: monitoring.create_drift_pipeline.)"""
    scoring = Pipeline(
        [
            Node(
                scoring_cleaning_parameters,
                ["params:data_processing", "params:scoring", "segment_model"],
                "cleaning_parameters",
                name="scoring_cleaning_parameters_node",
            ),
            Node(
                standardise_columns,
                ["new_customers_raw", "cleaning_parameters"],
                "customers_standardised",
                name="standardise_new_customers_node",
            ),
            create_cleaning_pipeline(parameters="cleaning_parameters"),
            Node(
                score_customers,
                ["customers_primary", "segment_model", "segment_profiles"],
                "scored_customers",
                name="score_customers_node",
            ),
        ]
    )
    return pipeline(
        scoring,
        namespace="scoring",
        inputs={"new_customers_raw", "segment_model", "segment_profiles"},
        parameters={"params:data_processing", "params:scoring"},
        outputs={
            "scored_customers": "scored_customers",
            "quarantined_customers": "scoring_quarantine",
            "data_quality_report": "scoring_data_quality_report",
        },
    )


def create_order_log_scoring(reader: str = "pandas") -> Pipeline:
    """Scoring when the workflow starts from an order log: `new_order_lines_raw` -> the same
    customer_features rules (its file's name in messages) -> the scoring above, which reads the new
    customers' features as `new_customer_features@<reader>` (Kedro transcoding: the rules write
    `new_customer_features@ibis`).

    Also writes `scoring_line_accounting` and the new log's quarantined lines."""
    features = Pipeline(
        [
            Node(
                scoring_feature_parameters,
                ["params:customer_features", "params:scoring"],
                "feature_parameters",
                name="scoring_feature_parameters_node",
            ),
            create_feature_pipeline(parameters="feature_parameters"),
        ]
    )
    features = pipeline(
        features,
        namespace="scoring",
        inputs={"order_lines_raw": "new_order_lines_raw"},
        parameters={"params:customer_features", "params:scoring"},
        outputs={
            "customer_features": "new_customer_features@ibis",
            "line_accounting": "scoring_line_accounting",
            "order_lines_quarantine": "scoring_order_lines_quarantine",
            "netting_quarantine": "scoring_netting_quarantine",
        },
    )
    return features + pipeline(
        create_pipeline(), inputs={"new_customers_raw": f"new_customer_features@{reader}"}
    )
