"""The customers the plots draw when the tables live on Spark (`kedro run --env spark`)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from customer_segmentation.engine import spark_sample
from customer_segmentation.schema import schema_from_dict

SEGMENT_COLUMNS = ["segment_id", "segment_name", "distance_to_centroid"]


def draw_plot_sample(
    segmented_customers: Any,
    model_features: Any,
    column_schema: dict[str, Any],
    params: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A seeded sample of `max_points` customers brought from Spark to pandas: (their clean
    columns, the same with their segments, their model features indexed by id), the same customers
    in the same order in all three. Each table's `attrs["customers"]` is the number of customers it
    was drawn from, so the plots' titles say they show a sample of how many."""
    id_column = schema_from_dict(column_schema).id_column
    size, seed = params["max_points"], params["random_state"]
    segmented, customers = spark_sample(segmented_customers, size, seed, [id_column])
    features, _ = spark_sample(model_features, size, seed, [id_column])
    features = features.set_index(id_column).reindex(segmented[id_column].astype(str))
    primary = segmented.drop(columns=SEGMENT_COLUMNS)
    for table in (primary, segmented, features):
        table.attrs["customers"] = customers
    return primary, segmented, features
