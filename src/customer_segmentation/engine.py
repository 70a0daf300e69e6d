"""Which engine a node was handed: pandas, or Spark (`kedro run --env spark`).

A node that runs on both engines checks its table with `is_spark` and hands a Spark DataFrame to the
function of the same name in its pipeline's `spark.py`, imported only then (`spark_module`), so the
default environment never imports PySpark.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType


def is_spark(frame: object) -> bool:
    """True for a Spark DataFrame (classic or Spark Connect)."""
    return type(frame).__module__.startswith("pyspark.")


def spark_module(pipeline: str, module: str = "spark") -> ModuleType:
    """The Spark versions of the nodes of `pipeline` (`pipelines/<pipeline>/spark.py`, or the
    pipeline's other Spark `module`)."""
    return import_module(f"customer_segmentation.pipelines.{pipeline}.{module}")


def spark_sample(frame: object, size: int | None, seed: int, key: list[str]):
    """A seeded sample of a Spark table on the driver and the rows it was drawn from
    (`spark_frames.sample_to_pandas`), for nodes that run their pandas code on a sample."""
    return import_module("customer_segmentation.spark_frames").sample_to_pandas(
        frame, size, seed, key
    )
