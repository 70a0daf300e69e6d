"""Per-segment statistics of the assigned customers: what centroids and profiles are made of.

Everything a profile needs is an aggregate (sizes, means, medians, the population's mean and spread,
category counts), so on Spark the same statistics come from Spark's aggregations (`spark.py`) and
only these small tables reach the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from customer_segmentation.engine import is_spark, spark_module


@dataclass
class SegmentStatistics:
    """Rows of each table: segment ids, ascending."""

    customers: int
    sizes: pd.Series
    means: pd.DataFrame  # numeric columns
    medians: pd.DataFrame
    population_mean: pd.Series
    population_std: pd.Series  # ddof=0
    counts: dict[str, pd.DataFrame]  # per categorical column: customers per segment and category

    def shares(self, column: str) -> pd.DataFrame:
        """Share of each category of `column` per segment (columns: categories, sorted)."""
        counts = self.counts[column]
        return counts.div(counts.sum(axis=1), axis=0)

    def population_shares(self, column: str) -> pd.Series:
        counts = self.counts[column].sum(axis=0)
        return counts / counts.sum()


def numeric_columns(assigned: Any, columns: list[str]) -> list[str]:
    """The `columns` that hold numbers (pandas or Spark types)."""
    if is_spark(assigned):
        types = dict(assigned.dtypes)
        numeric = ("int", "bigint", "smallint", "tinyint", "double", "float")
        return [c for c in columns if types[c] in numeric or types[c].startswith("decimal")]
    return [c for c in columns if pd.api.types.is_numeric_dtype(assigned[c])]


def segment_statistics(
    assigned: Any, numeric: list[str], categorical: list[str]
) -> SegmentStatistics:
    """The statistics of `assigned` (customers with `segment_id`), pandas or Spark."""
    if is_spark(assigned):
        return spark_module("clustering").segment_statistics(assigned, numeric, categorical)
    groups = assigned.groupby("segment_id")
    return SegmentStatistics(
        customers=len(assigned),
        sizes=groups.size(),
        means=groups[numeric].mean(),
        medians=groups[numeric].median(),
        population_mean=assigned[numeric].mean(),
        population_std=assigned[numeric].std(ddof=0),
        counts={
            column: pd.crosstab(assigned["segment_id"], assigned[column].astype(str))
            for column in categorical
        },
    )
