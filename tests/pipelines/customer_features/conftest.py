"""The engines the order-log rules run on, as a fixture: every node test runs on each of them.

`engine` gives a real DuckDB (in memory), a real Spark session (local[2]) and a real PostgreSQL server
(started once per test process); `engine.table(frame)` puts a raw order log (every cell text) there
as a table, as the catalog's dataset would hand it to the first node."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest
from ibis.backends.pyspark.datatypes import PySparkSchema

from customer_segmentation.datasets import CachedTableDataset

ENGINES = ("duckdb", "pyspark", "postgres")


@dataclass
class Engine:
    name: str
    connection: Any

    def table(self, frame: pd.DataFrame, lines: bool = True) -> ir.Table:
        """`frame` as a table of this engine: text columns (cells text or None) as text, numbers as
        numbers. A database table has no file order, so there it is loaded with its rows' line
        numbers as `source_line` (as a log is loaded into a database; `lines=False`: without)."""
        if self.name == "postgres" and lines and "source_line" not in frame:
            frame = frame.assign(source_line=range(2, len(frame) + 2))
        schema = ibis.schema(
            {
                str(c): "string" if frame[c].dtype == object or frame[c].dtype == "str"
                else ibis.dtype(frame[c].dtype)
                for c in frame.columns
            }
        )  # fmt: skip
        rows = frame.astype(object).where(frame.notna(), None)
        name = f"log_{uuid.uuid4().hex[:12]}"
        if self.name == "pyspark":  # a Spark DataFrame as its reader gives it (a temporary view)
            session = self.connection._session
            spark_schema = PySparkSchema.from_ibis(schema) if len(schema) else "`_` STRING"
            values = [tuple(r) for r in rows.itertuples(index=False)]
            session.createDataFrame(values, spark_schema).createOrReplaceTempView(name)
            return self.connection.table(name)
        return self.connection.create_table(name, ibis.memtable(rows, schema=schema), temp=True)

    def keep(self, table: ir.Table) -> ir.Table:
        """A step's result kept as the catalog keeps it: a table in the database, a cached Spark
        table (conf/base/catalog_order_log.yml, conf/spark_transactions)."""
        if self.name == "pyspark":
            kept = CachedTableDataset()
            kept.save(table)
            return kept.load()
        return self.connection.create_table(f"step_{uuid.uuid4().hex[:12]}", table, temp=True)


@pytest.fixture(scope="session")
def connections(request) -> dict[str, Any]:
    return {}


@pytest.fixture(params=ENGINES)
def engine(request, connections) -> Engine:
    name = request.param
    if name not in connections:
        if name == "duckdb":
            connections[name] = ibis.duckdb.connect()
        elif name == "pyspark":
            connections[name] = ibis.pyspark.connect(request.getfixturevalue("spark"))
        else:
            connections[name] = ibis.postgres.connect(**request.getfixturevalue("postgres"))
    return Engine(name, connections[name])
