"""Nodes of the scoring pipeline: place new customers in the saved model's segments."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from customer_segmentation.errors import DataValidationError, validation_message
from customer_segmentation.models import UNASSIGNED, UNASSIGNED_NAME
from customer_segmentation.pipelines.clustering.nodes import (
    assign_segments,
    cleaning_statistics_of,
    model_features_of,
)

logger = logging.getLogger(__name__)


def scoring_feature_parameters(
    customer_features: dict[str, Any], scoring: dict[str, Any]
) -> dict[str, Any]:
    """The customer_features parameters for the new customers' order log: its own name in messages."""
    return {**customer_features, "source_file": scoring["order_lines_file"]}


def scoring_cleaning_parameters(
    data_processing: dict[str, Any], scoring: dict[str, Any], segment_model: Pipeline
) -> dict[str, Any]:
    """The data_processing parameters for the new file: its own name in messages, as required
    columns the customer id plus the columns the saved model was trained on (other declared columns
    are checked when present), and the fill values and outlier fences learned at training
    (`learned_statistics`): a new customer is cleaned the same whoever else is in the file."""
    needed = model_features_of(segment_model)
    declared = {column.get("name") for column in data_processing["columns"]}
    undeclared = [name for name in needed if name not in declared]
    if undeclared:
        model = getattr(segment_model, "source_", "the segment model")
        raise DataValidationError(
            validation_message(
                scoring["source_file"],
                f"the segment model {model} was trained on columns this environment does not "
                "declare, so its customers cannot be scored with it.",
                f"the model's columns declared in data_processing.columns: {', '.join(needed)}",
                f"not declared: {', '.join(undeclared)}",
            )
        )
    columns = [
        {**column, "required": column.get("role") == "id" or column.get("name") in needed}
        for column in data_processing["columns"]
    ]
    statistics = cleaning_statistics_of(segment_model)
    if statistics is None:
        logger.warning(
            "The segment model %s was saved without its cleaning statistics: blanks and outliers "
            "of %s are treated with statistics of the file itself (run `kedro run` to retrain)",
            getattr(segment_model, "source_", ""),
            scoring["source_file"],
        )
    return {
        **data_processing,
        **({} if statistics is None else {"learned_statistics": statistics}),
        "columns": columns,
        "source_file": scoring["source_file"],
        "required_because": f"(the segment model was trained on {', '.join(needed)})",
    }


def score_customers(
    customers: pd.DataFrame, segment_model: Pipeline, segment_profiles: pd.DataFrame
) -> pd.DataFrame:
    """New customers with the segment id, segment name and distance of the saved model."""
    scored = assign_segments(customers, segment_model)
    names = scored["segment_id"].map(segment_profiles.set_index("segment_id")["segment_name"])
    # a density model may leave a new customer unassigned even if every training customer fitted
    names = names.mask(names.isna() & scored["segment_id"].eq(UNASSIGNED), UNASSIGNED_NAME)
    # categorical like the segmented customers' `segment_name`, with the same categories in order
    categories = list(dict.fromkeys([*segment_profiles["segment_name"], *names.dropna()]))
    names = pd.Categorical(names, categories=categories)
    scored.insert(scored.columns.get_loc("segment_id") + 1, "segment_name", names)
    logger.info(
        "Scored %d new customers: %s",
        len(scored),
        scored["segment_id"].value_counts().sort_index().to_dict(),
    )
    return scored
