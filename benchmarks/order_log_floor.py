"""The bare pandas floor of the order-log benchmark: read the CSV, recency / frequency / monetary.

`python -m benchmarks.order_log_floor order_lines.csv`: no validation, no netting of cancellations,
no quarantine, no accounting, no output file; what a notebook does first.
"""

from __future__ import annotations

import sys

import pandas as pd


def main(path: str) -> None:
    lines = pd.read_csv(path, dtype={"CustomerID": str, "InvoiceNo": str, "StockCode": str})
    lines = lines.dropna(subset=["CustomerID"])
    lines["InvoiceDate"] = pd.to_datetime(
        lines["InvoiceDate"], format="%m/%d/%Y %H:%M", errors="coerce"
    )
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
    print(f"{len(rfm)} customers")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1])
