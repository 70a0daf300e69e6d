"""reporting: exploratory and segment plots, and the self-contained HTML segment report."""

from kedro.pipeline import Node, Pipeline, pipeline

from .eda_plots import (
    plot_category_counts,
    plot_correlation_heatmap,
    plot_distributions,
    plot_pair_plot,
)
from .report import build_segment_report
from .rfm_plots import plot_rfm_crosstab, plot_rfm_grid, summarise_rfm
from .samples import draw_plot_sample
from .segment_plots import (
    plot_pca,
    plot_profile_heatmap,
    plot_segment_boxplots,
    plot_segment_scatter,
    plot_segment_sizes,
    plot_segments_3d,
    plot_silhouette,
)
from .tracking import run_metrics, score_segments, sweep_metrics
from .workbook import build_workbook

REPORT_FIGURES = [
    "elbow_plot",
    "k_scores_plot",
    "silhouette_plot",
    "algorithm_comparison_plot",
    "segment_sizes_plot",
    "profile_heatmap_plot",
    "segment_scatter_plot",
    "pca_plot",
    "segment_boxplots_plot",
    "distributions_plot",
    "category_counts_plot",
    "correlation_heatmap_plot",
    "pair_plot",
]
RFM_FIGURES = ["rfm_grid_plot", "rfm_crosstab_plot"]


def create_rfm_nodes() -> list[Node]:
    """RFM summary and plots, for a workflow that starts from an order log."""
    return [
        Node(
            summarise_rfm,
            ["rfm_scores", "segmented_customers_parquet", "params:customer_features"],
            "rfm_summary",
            name="summarise_rfm_node",
        ),
        Node(plot_rfm_grid, "rfm_summary", "rfm_grid_plot", name="plot_rfm_grid_node"),
        Node(plot_rfm_crosstab, "rfm_summary", "rfm_crosstab_plot", name="plot_rfm_crosstab_node"),
    ]


def create_pipeline(rfm: bool = False, spark: bool = False, **kwargs) -> Pipeline:
    """Clean customers, segments, the column schema and model-selection results in; plots and the
    report out. With `rfm` (the workflow starts from an order log), the report also shows the line
    accounting and the RFM segments beside the K-Means segments. With `spark` (the tables are Spark
    tables) the plots draw one seeded sample brought to pandas (`draw_plot_sample`); the profiles,
    sizes and counts in the report are Spark's aggregates over every customer."""
    eda = [
        Node(
            plot_distributions,
            ["customers_primary", "column_schema", "params:reporting"],
            "distributions_plot",
            name="plot_distributions_node",
        ),
        Node(
            plot_category_counts,
            ["customers_primary", "column_schema"],
            "category_counts_plot",
            name="plot_category_counts_node",
        ),
        Node(
            plot_pair_plot,
            ["customers_primary", "column_schema", "params:reporting"],
            "pair_plot",
            name="plot_pair_plot_node",
        ),
        Node(
            plot_correlation_heatmap,
            ["customers_primary", "column_schema"],
            "correlation_heatmap_plot",
            name="plot_correlation_heatmap_node",
        ),
    ]
    segments = [
        Node(
            plot_segment_scatter,
            [
                "segmented_customers_parquet",
                "segment_profiles",
                "column_schema",
                "params:reporting",
            ],
            "segment_scatter_plot",
            name="plot_segment_scatter_node",
        ),
        Node(
            plot_segments_3d,
            [
                "segmented_customers_parquet",
                "model_features",
                "segment_profiles",
                "column_schema",
                "params:reporting",
            ],
            "segments_3d_plot",
            name="plot_segments_3d_node",
        ),
        Node(
            plot_pca,
            [
                "model_features",
                "segmented_customers_parquet",
                "segment_profiles",
                "column_schema",
                "params:reporting",
            ],
            "pca_plot",
            name="plot_pca_node",
        ),
        Node(
            plot_silhouette,
            ["model_features", "segment_model", "segment_profiles", "params:reporting"],
            "silhouette_plot",
            name="plot_silhouette_node",
        ),
        Node(
            score_segments,
            ["model_features", "segment_model", "params:reporting"],
            "segment_quality",
            name="score_segments_node",
        ),
        Node(
            plot_profile_heatmap,
            ["segment_profiles", "column_schema"],
            "profile_heatmap_plot",
            name="plot_profile_heatmap_node",
        ),
        Node(
            plot_segment_boxplots,
            ["segmented_customers_parquet", "segment_profiles", "column_schema"],
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
            "column_schema": "column_schema",
            "algorithm_comparison": "algorithm_comparison",
            "algorithm_choice": "algorithm_choice",
            "segment_matching": "segment_matching",
            "segment_migration_plot": "segment_migration_plot",
            "params": "params:reporting",
            **{name: name for name in REPORT_FIGURES},
            **(
                {"line_accounting": "line_accounting", "rfm_summary": "rfm_summary"}
                | {name: name for name in RFM_FIGURES}
                if rfm
                else {}
            ),
        },
        "segment_report",
        name="build_segment_report_node",
    )
    plots = Pipeline([*eda, *segments])
    # the workbook lists every customer: for the tables pandas holds (a Spark table's segments are
    # written by Spark, as segmented_customers_parquet's partitions, one folder per segment)
    workbook = (
        []
        if spark
        else [
            Node(
                build_workbook,
                ["segmented_customers_parquet", "segment_profiles", "column_schema"],
                "segments_workbook",
                name="build_workbook_node",
            )
        ]
    )
    if spark:
        sampled = {
            "customers_primary": "plot_customers",
            "segmented_customers_parquet": "plot_segmented_customers",
            "model_features": "plot_model_features",
        }
        sample = Node(
            draw_plot_sample,
            ["segmented_customers_parquet", "model_features", "column_schema", "params:reporting"],
            list(sampled.values()),
            name="draw_plot_sample_node",
        )
        plots = Pipeline([sample]) + pipeline(plots, inputs=sampled)
    tracking = [
        Node(sweep_metrics, "k_metrics", "k_sweep_metrics", name="sweep_metrics_node"),
        Node(
            run_metrics,
            ["k_selection", "segment_quality", "segment_profiles", "data_quality_report"],
            "run_metrics",
            name="run_metrics_node",
        ),
    ]
    return plots + Pipeline([*(create_rfm_nodes() if rfm else []), report, *workbook, *tracking])
