"""clustering: the final model, stable named segments, centroids, profiles, segmented customers."""

from kedro.pipeline import Node, Pipeline

from .nodes import assign_segments, build_segmented_customers, compute_centroids, fit_segment_model
from .profiles import profile_segments


def create_pipeline(**kwargs) -> Pipeline:
    """Clean customers, the fitted transformer and the chosen k in; model, profiles and table out."""
    return Pipeline(
        [
            Node(
                fit_segment_model,
                [
                    "customers_primary",
                    "feature_transformer",
                    "cleaning_statistics",
                    "k_selection",
                    "algorithm_choice",
                    "params:clustering",
                    "params:comparison",
                ],
                "segment_model",
                name="fit_segment_model_node",
            ),
            Node(
                assign_segments,
                ["customers_primary", "segment_model"],
                "customer_segments",
                name="assign_segments_node",
            ),
            Node(
                compute_centroids,
                ["customer_segments", "segment_model"],
                "segment_centroids",
                name="compute_centroids_node",
            ),
            Node(
                profile_segments,
                ["customer_segments", "column_schema", "params:clustering"],
                ["segment_profiles", "segment_profiles_json"],
                name="profile_segments_node",
            ),
            Node(
                build_segmented_customers,
                ["customer_segments", "segment_profiles"],
                ["segmented_customers", "segmented_customers_parquet"],
                name="build_segmented_customers_node",
            ),
        ]
    )
