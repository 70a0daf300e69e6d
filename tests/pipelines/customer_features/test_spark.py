"""customer_features on a real Spark session: every hand-made log of test_nodes.py gives the pandas
answer line by line (quarantine, netting, features, accounting, RFM), and the same clear errors."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.customer_features.rfm import score_rfm
from customer_segmentation.pipelines.customer_features.spark import spark_date_pattern
from tests.conftest import load_parameters
from tests.pipelines.customer_features.test_nodes import FIRST_EDITION, LOG, raw_log, run_nodes

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

SECOND_EDITION = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
                  "Customer ID", "Country"]  # fmt: skip
LOGS = {
    "first edition": (LOG, FIRST_EDITION, {}),
    "second edition, day first, seconds, snapshot": (
        [["1", "A", "a", "1", "03/04/2025 10:00:00", "5", "17850.0", "France"],
         ["2", "A", "a", "1", "01/05/2025 10:00:00", "5", "17850.0", "France"],
         ["C3", "A", "a", "-1", "02/05/2025 10:00:00", "5", "17850.0", "France"]],
        SECOND_EDITION,
        {"date_format": "%d/%m/%Y %H:%M:%S", "snapshot_date": "2025-06-01"},
    ),
    "one row per invoice": (
        [["1", "1", "01/02/2025 10:00", "120.00", "7"], ["2", "1", "01/09/2025 10:00", "80.00", "7"],
         ["C2", "-1", "01/09/2025 11:00", "80.00", "7"]],
        ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"],
        {},
    ),
}  # fmt: skip


def spark_log(spark, rows, header):
    schema = ", ".join(f"`{h}` STRING" for h in header)
    return spark.createDataFrame([tuple(r) for r in rows], schema)


def by_line(frame) -> pd.DataFrame:
    table = frame.toPandas() if hasattr(frame, "toPandas") else frame
    return table.sort_values("source_line").reset_index(drop=True)


@pytest.mark.parametrize("log", LOGS)
def test_spark_gives_the_pandas_answer_line_by_line(spark, log):
    rows, header, changes = LOGS[log]
    params = {**copy.deepcopy(load_parameters()["customer_features"]), **changes}
    expected = run_nodes(raw_log(rows, header), params)
    found = run_nodes(spark_log(spark, rows, header), params)
    clean, quarantine, net, netting_quarantine, features, accounting = found
    assert accounting == expected[5]
    for spark_table, pandas_table in ((quarantine, expected[1]), (netting_quarantine, expected[3])):
        got, want = by_line(spark_table), by_line(pandas_table)
        assert got["source_line"].tolist() == want["source_line"].tolist()
        assert got["reason"].tolist() == want["reason"].tolist()
    got, want = by_line(net), by_line(expected[2])
    assert got["status"].tolist() == want["status"].astype(str).tolist()
    np.testing.assert_allclose(got["net_quantity"], want["net_quantity"])
    got = features.toPandas()
    assert list(got.columns) == list(expected[4].columns)
    pd.testing.assert_frame_equal(got, expected[4], check_dtype=False)
    rfm = load_parameters()["customer_features"]
    pd.testing.assert_frame_equal(
        score_rfm(features, rfm).toPandas(), score_rfm(expected[4], rfm), check_dtype=False
    )


def test_a_wrong_date_format_stops_on_spark_with_the_format_and_examples(spark):
    params = {**load_parameters()["customer_features"], "date_format": "%d/%m/%Y %H:%M"}
    rows = [row for row in LOG if row[4][:2] in ("02", "03") and int(row[4][3:5]) > 12]
    with pytest.raises(DataValidationError) as error:
        run_nodes(spark_log(spark, rows, FIRST_EDITION), params)
    message = str(error.value)
    assert f"no usable order line: all {len(rows)} lines would be quarantined" in message
    assert "'%d/%m/%Y %H:%M'" in message and "03/21/2025 12:00" in message


def test_missing_columns_and_no_purchase_are_the_pandas_errors_on_spark(spark):
    params = load_parameters()["customer_features"]
    header = [h for h in FIRST_EDITION if h != "UnitPrice"]
    rows = [[v for h, v in zip(FIRST_EDITION, row, strict=True) if h != "UnitPrice"] for row in LOG]
    with pytest.raises(DataValidationError, match="unit_price: one of \\['UnitPrice', 'Price'\\]"):
        run_nodes(spark_log(spark, rows, header), params)
    with pytest.raises(DataValidationError, match="no customer has a purchase left after netting"):
        run_nodes(spark_log(spark, LOG[2:4], FIRST_EDITION), params)
    with pytest.raises(DataValidationError, match="the order log is empty"):
        run_nodes(spark_log(spark, [], FIRST_EDITION), params)


@pytest.mark.parametrize(
    ("date_format", "pattern"),
    [
        ("%m/%d/%Y %H:%M", "M/d/yyyy H:m"),
        ("%Y-%m-%dT%H:%M:%S", "yyyy-M-d'T'H:m:s"),
        ("%d %b %Y", "d MMM yyyy"),
    ],
)
def test_strptime_formats_become_spark_patterns(date_format, pattern):
    assert spark_date_pattern(date_format) == pattern


def test_an_unsupported_directive_names_the_parameter():
    with pytest.raises(DataValidationError, match="customer_features.date_format: %j"):
        spark_date_pattern("%Y-%j")
