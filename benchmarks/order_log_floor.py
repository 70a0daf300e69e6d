"""The bare floors of the order-log benchmark: read the CSV, recency / frequency / monetary.

`python -m benchmarks.order_log_floor order_lines.csv [pandas|duckdb]`: no validation, no netting of
cancellations, no quarantine, no accounting, no output file; what a notebook does first, with pandas
(the whole log in memory) or as one DuckDB query over the file (the engine the pipeline uses).
"""

from __future__ import annotations

import sys

import pandas as pd

DATE_FORMAT = "%m/%d/%Y %H:%M"


def pandas_floor(path: str) -> int:
    lines = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    lines = lines.dropna(subset=["CustomerID"])
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format=DATE_FORMAT, errors="coerce")
    lines["value"] = pd.to_numeric(lines["Quantity"], errors="coerce") * lines["UnitPrice"]
    snapshot = lines["InvoiceDate"].max() + pd.Timedelta(days=1)
    per = lines.groupby("CustomerID")
    rfm = pd.DataFrame(
        {
            "recency": (snapshot - per["InvoiceDate"].max()).dt.days,
            "frequency": per["InvoiceNo"].nunique(),
            "monetary": per["value"].sum(),
        }
    )
    return len(rfm)


def duckdb_floor(path: str) -> int:
    import duckdb  # noqa: PLC0415

    query = f"""
        WITH lines AS (
            SELECT CustomerID AS customer, InvoiceNo AS invoice,
                   try_strptime(InvoiceDate, '{DATE_FORMAT}') AS day,
                   try_cast(Quantity AS DOUBLE) * try_cast(UnitPrice AS DOUBLE) AS value
            FROM read_csv('{path}', all_varchar = true)
            WHERE CustomerID IS NOT NULL
        )
        SELECT customer,
               date_diff('day', max(day), (SELECT max(day) FROM lines) + INTERVAL 1 DAY) AS recency,
               count(DISTINCT invoice) AS frequency, sum(value) AS monetary
        FROM lines GROUP BY customer
    """
    return len(duckdb.connect().sql(query).fetchall())


if __name__ == "__main__":
    floor = duckdb_floor if sys.argv[2:] == ["duckdb"] else pandas_floor
    print(f"{floor(sys.argv[1])} customers")  # noqa: T201
