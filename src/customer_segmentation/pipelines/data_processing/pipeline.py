"""data_processing: validate and clean raw customers, then build scaled model features."""

from kedro.pipeline import Node, Pipeline

from .features import build_features
from .nodes import (
    build_data_quality_report,
    build_primary_table,
    cleaning_statistics,
    collect_quarantine,
    declare_schema,
    impute_missing_values,
    remove_duplicate_customers,
    standardise_columns,
    treat_outliers,
    validate_customers,
)


def create_cleaning_pipeline(parameters: str = "params:data_processing") -> Pipeline:
    """Standardised customers in, clean primary table + quarantine + quality report out.

    Shared by data_processing and (under the `scoring` namespace) by the scoring pipeline, which
    passes its own `parameters` dataset (the data_processing parameters with its file's name).
    """
    return Pipeline(
        [
            Node(
                validate_customers,
                ["customers_standardised", parameters],
                ["customers_validated", "validation_quarantine"],
                name="validate_customers_node",
            ),
            Node(
                impute_missing_values,
                ["customers_validated", parameters],
                [
                    "customers_imputed",
                    "missing_value_quarantine",
                    "imputation_counts",
                    "imputation_values",
                ],
                name="impute_missing_values_node",
            ),
            Node(
                remove_duplicate_customers,
                ["customers_imputed", parameters],
                ["customers_unique", "duplicate_quarantine"],
                name="remove_duplicate_customers_node",
            ),
            Node(
                treat_outliers,
                ["customers_unique", parameters],
                ["customers_treated", "outlier_quarantine", "outlier_counts", "outlier_fences"],
                name="treat_outliers_node",
            ),
            Node(
                collect_quarantine,
                [
                    "customers_standardised",
                    "validation_quarantine",
                    "missing_value_quarantine",
                    "duplicate_quarantine",
                    "outlier_quarantine",
                ],
                "quarantined_customers",
                name="collect_quarantine_node",
            ),
            Node(
                build_primary_table,
                ["customers_treated", "quarantined_customers", parameters],
                "customers_primary",
                name="build_primary_table_node",
            ),
            Node(
                build_data_quality_report,
                [
                    "customers_standardised",
                    "customers_primary",
                    "quarantined_customers",
                    "imputation_counts",
                    "outlier_counts",
                    parameters,
                ],
                "data_quality_report",
                name="build_data_quality_report_node",
            ),
        ]
    )


def create_pipeline(**kwargs) -> Pipeline:
    """The full data_processing pipeline on `customers_raw`.

    The same pipeline runs on Spark (`kedro run --env spark`): there `customers_raw` is a Spark
    dataset, so every node is handed a Spark DataFrame and runs its Spark version.
    """
    cleaning = create_cleaning_pipeline()
    return Pipeline(
        [
            Node(
                standardise_columns,
                ["customers_raw", "params:data_processing"],
                "customers_standardised",
                name="standardise_columns_node",
            ),
            cleaning,
            Node(
                cleaning_statistics,
                ["imputation_values", "outlier_fences"],
                "cleaning_statistics",
                name="cleaning_statistics_node",
            ),
            Node(
                declare_schema,
                ["customers_primary", "params:data_processing"],
                "column_schema",
                name="declare_schema_node",
            ),
            Node(
                build_features,
                ["customers_primary", "params:data_processing"],
                ["feature_transformer", "model_features"],
                name="build_features_node",
            ),
        ]
    )
