"""reporting: exploratory and segment plots, and the self-contained HTML segment report."""

from kedro.pipeline import Node, Pipeline

from .eda_plots import (
    plot_correlation_heatmap,
    plot_distributions,
    plot_gender_counts,
    plot_pair_plot,
)
from .report import build_segment_report
from .segment_plots import (
    plot_pca,
    plot_profile_heatmap,
    plot_segment_boxplots,
    plot_segment_scatter,
    plot_segment_sizes,
    plot_segments_3d,
)

REPORT_FIGURES = [
    "elbow_plot",
    "k_scores_plot",
    "silhouette_plot",
    "segment_sizes_plot",
    "profile_heatmap_plot",
    "segment_scatter_plot",
    "pca_plot",
    "segment_boxplots_plot",
    "distributions_plot",
    "gender_counts_plot",
    "correlation_heatmap_plot",
    "pair_plot",
]


def create_pipeline(**kwargs) -> Pipeline:
    """Clean customers, segments and model-selection results in; plots and the report out."""
    eda = [
        Node(
            plot_distributions,
            ["customers_primary", "params:reporting"],
            "distributions_plot",
            name="plot_distributions_node",
        ),
        Node(
            plot_gender_counts,
            "customers_primary",
            "gender_counts_plot",
            name="plot_gender_counts_node",
        ),
        Node(
            plot_pair_plot,
            ["customers_primary", "params:reporting"],
            "pair_plot",
            name="plot_pair_plot_node",
        ),
        Node(
            plot_correlation_heatmap,
            "customers_primary",
            "correlation_heatmap_plot",
            name="plot_correlation_heatmap_node",
        ),
    ]
    segments = [
        Node(
            plot_segment_scatter,
            ["segmented_customers", "segment_profiles", "params:reporting"],
            "segment_scatter_plot",
            name="plot_segment_scatter_node",
        ),
        Node(
            plot_segments_3d,
            ["segmented_customers", "segment_profiles", "params:reporting"],
            "segments_3d_plot",
            name="plot_segments_3d_node",
        ),
        Node(
            plot_pca,
            ["model_features", "segmented_customers", "segment_profiles", "params:reporting"],
            "pca_plot",
            name="plot_pca_node",
        ),
        Node(
            plot_profile_heatmap,
            "segment_profiles",
            "profile_heatmap_plot",
            name="plot_profile_heatmap_node",
        ),
        Node(
            plot_segment_boxplots,
            ["segmented_customers", "segment_profiles"],
            "segment_boxplots_plot",
            name="plot_segment_boxplots_node",
        ),
        Node(
            plot_segment_sizes,
            "segment_profiles",
            "segment_sizes_plot",
            name="plot_segment_sizes_node",
        ),
    ]
    report = Node(
        build_segment_report,
        {
            "data_quality_report": "data_quality_report",
            "k_selection": "k_selection",
            "segment_profiles": "segment_profiles",
            "params": "params:reporting",
            **{name: name for name in REPORT_FIGURES},
        },
        "segment_report",
        name="build_segment_report_node",
    )
    return Pipeline([*eda, *segments, report])
