"""Spark datasets of the spark environments (imported by the catalog only there, as PySpark is)."""

from __future__ import annotations

from typing import Any

from kedro_datasets.spark import SparkDatasetV2

from customer_segmentation.exports import safe_spark


class SafeSparkDataset(SparkDatasetV2):
    """`spark.SparkDatasetV2` whose CSV parts are safe to open in a spreadsheet: a text cell or header
    that would run as a formula is written with a quote in front (`exports.safe_spark`)."""

    # SparkDatasetV2 writes in `_save`, which Kedro makes the dataset's `save`
    def _save(self, data: Any) -> None:
        super()._save(safe_spark(data) if self._file_format == "csv" else data)
