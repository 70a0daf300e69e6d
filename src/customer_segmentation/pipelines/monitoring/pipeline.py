"""monitoring: drift of the scored batch (also part of the scoring pipeline) and segment migration
between the previous and the current segmented customers (also feeds the report)."""

from kedro.pipeline import Node, Pipeline

from .drift import check_drift, measure_drift, plot_drift
from .migration import migrate_segments, plot_migration


def create_drift_pipeline() -> Pipeline:
    """Scored customers against the segmented training customers: `drift_report`, `drift_plot`, a
    warning naming the drifting features (an error with `monitoring.drift.strict`)."""
    return Pipeline(
        [
            Node(
                measure_drift,
                [
                    "segmented_customers_parquet",
                    "scored_customers",
                    "segment_model",
                    "column_schema",
                    "params:monitoring.drift",
                ],
                "drift_report",
                name="measure_drift_node",
            ),
            Node(
                check_drift,
                ["drift_report", "params:monitoring.drift"],
                None,
                name="check_drift_node",
            ),
            Node(
                plot_drift,
                ["drift_report", "column_schema"],
                "drift_plot",
                name="plot_drift_node",
            ),
        ]
    )


def create_migration_pipeline() -> Pipeline:
    """The previous and the current segmented customers: `segment_migration` (who moved where),
    `segment_matching` (which old segment is which new one) and the Sankey `segment_migration_plot`."""
    return Pipeline(
        [
            Node(
                migrate_segments,
                ["segmented_customers_previous", "segmented_customers_parquet", "column_schema"],
                ["segment_migration", "segment_matching"],
                name="migrate_segments_node",
            ),
            Node(
                plot_migration,
                ["segment_migration", "segment_matching"],
                "segment_migration_plot",
                name="plot_migration_node",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Migration between the previous complete run's segmentation and the current one (`kedro run
    --pipelines monitoring` compares the versions pinned with `--load-versions`). The drift of every
    scored batch belongs to the scoring stage (pipeline_registry)."""
    return create_migration_pipeline()
