"""What the pipelines' Spark modules share: seeded samples, feature columns as vectors, collecting.

A seeded sample is the `size` rows with the smallest hash of (customer id, seed): the same customers
whatever the partitioning, the cluster or the order in which Spark read the file.
"""

from __future__ import annotations

import pandas as pd
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 (Spark's own convention)

VECTOR = "_features"


def seeded_rows(frame: DataFrame, size: int | None, seed: int, key: list[str]) -> DataFrame:
    """At most `size` rows of `frame`: all of them when `size` is None or not smaller than the
    table, else the `size` rows with the smallest hash of (`key` columns, seed): the customer id,
    or for a table without one, every column."""
    if size is None or frame.count() <= size:
        return frame
    hashed = F.xxhash64(*[F.col(c).cast("string") for c in key], F.lit(int(seed)))
    return frame.orderBy(hashed).limit(int(size))


def sample_to_pandas(
    frame: DataFrame, size: int | None, seed: int, key: list[str]
) -> tuple[pd.DataFrame, int]:
    """`seeded_rows` on the driver, ordered by `key`, and the number of rows it was drawn from."""
    rows = frame.count()
    sample = seeded_rows(frame, size, seed, key).toPandas()
    return sample.sort_values(key, kind="stable", ignore_index=True), rows


def with_vector(frame: DataFrame, columns: list[str], shift: float = 0.0) -> DataFrame:
    """`frame` with the `columns` assembled into one vector column (`VECTOR`) for pyspark.ml, each
    value plus `shift` (the columns themselves unchanged)."""
    if not shift:
        return VectorAssembler(inputCols=columns, outputCol=VECTOR).transform(frame)
    shifted = [f"_shifted_{i}" for i in range(len(columns))]
    frame = frame.select(
        "*", *[(F.col(c) + shift).alias(s) for c, s in zip(columns, shifted, strict=True)]
    )
    return VectorAssembler(inputCols=shifted, outputCol=VECTOR).transform(frame).drop(*shifted)
