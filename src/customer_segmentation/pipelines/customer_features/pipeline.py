"""customer_features: an order log -> validated, netted lines -> one row of behaviour per customer.

In the `order_log` workflows (`kedro run --env transactions`, `--env spark_transactions`) the pipeline
registry starts here: `customer_features` becomes the customer table that data_processing reads
(written as `customer_features@ibis`, read as `@pandas` or `@spark`), and new customers to score are
built from `new_order_lines_raw` the same way. The nodes are Ibis expressions: the catalog's datasets
decide the engine (DuckDB embedded, Spark, a SQL database).
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    build_customer_features,
    build_line_accounting,
    clean_order_lines,
    count_lines,
    net_cancellations,
    standardise_order_lines,
)
from .rfm import score_rfm


def create_feature_pipeline(parameters: str = "params:customer_features") -> Pipeline:
    """`order_lines_raw` -> `customer_features`, the quarantined lines and the line accounting.

    Shared by this pipeline and (under the `scoring` namespace) by the scoring of new customers, which
    passes its own `parameters` (its file's name in messages).
    """
    return Pipeline(
        [
            Node(
                standardise_order_lines,
                ["order_lines_raw", parameters],
                "order_lines_standardised",
                name="standardise_order_lines_node",
            ),
            Node(
                count_lines,
                "order_lines_standardised",
                "order_lines_in",
                name="count_order_lines_node",
            ),
            Node(
                clean_order_lines,
                ["order_lines_standardised", parameters],
                ["order_lines_clean", "order_lines_quarantine"],
                name="clean_order_lines_node",
            ),
            Node(
                net_cancellations,
                "order_lines_clean",
                ["order_lines_net", "netting_quarantine"],
                name="net_cancellations_node",
            ),
            Node(
                build_customer_features,
                ["order_lines_net", parameters],
                "customer_features",
                name="build_customer_features_node",
            ),
            Node(
                build_line_accounting,
                [
                    "order_lines_in",
                    "order_lines_quarantine",
                    "netting_quarantine",
                    "order_lines_net",
                    "customer_features",
                    parameters,
                ],
                "line_accounting",
                name="build_line_accounting_node",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Customer features from the order log, and their RFM scores and named RFM segments."""
    return create_feature_pipeline() + Pipeline(
        [
            Node(
                score_rfm,
                ["customer_features", "params:customer_features"],
                "rfm_scores",
                name="score_rfm_node",
            )
        ]
    )
