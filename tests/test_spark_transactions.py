"""`kedro run --env spark_transactions` as a user types it, against `kedro run --env transactions` in
the same folder (its own file, so that pytest-xdist runs it beside the other Spark end-to-end test)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.exports import is_formula_like, unquoted
from tests.conftest import FAST, kedro, latest
from tests.test_spark import spark_parts

pytestmark = pytest.mark.slow


def test_kedro_run_env_spark_transactions_gives_the_transactions_answer(project_copy):
    """`kedro run --env transactions`, then `kedro run --env spark_transactions` in the same folder,
    on the embedded log with cells a spreadsheet would run (a description and a price, and a
    customer whose id starts with '@'): the order log on Spark gives the line accounting, the RFM
    scores, the k and the segments of the DuckDB run, and no cell of any CSV either engine writes
    starts like a formula. (A folder of its own, not the shared command sequence: this file starts
    first and does not wait for the sequence's five runs.)"""
    path = project_copy / "data" / "01_raw" / "order_lines.csv"  # the embedded log
    log = pd.read_csv(path, dtype=str, keep_default_na=False)
    log.loc[3, ["Description", "UnitPrice"]] = ['=HYPERLINK("http://x","click")', "=1+1"]
    log.loc[log["CustomerID"] == log.loc[10, "CustomerID"], "CustomerID"] = "@SUM(A1)"
    log.to_csv(path, index=False)
    # stability is not under test in either run
    kedro(project_copy, "run", "--env", "transactions", "--params", FAST)
    duckdb = project_copy / "data/transactions"
    data = project_copy / "data/spark_transactions"
    accounting = json.loads(latest(duckdb / "08_reporting/line_accounting.json").read_text())
    assert accounting["quarantined_by_reason"]["unparseable price"] >= 1  # the "=1+1" price
    duckdb_k = json.loads(latest(duckdb / "05_model_input/k_selection.json").read_text())["k"]
    duckdb_rfm = read_csv(latest(duckdb / "07_model_output/rfm_scores.csv"))
    duckdb_segments = read_csv(latest(duckdb / "07_model_output/segmented_customers.csv"))
    assert "@SUM(A1)" in set(duckdb_segments["customer_id"])  # read back as it was written
    quarantine = read_csv(latest(duckdb / "02_intermediate/order_lines_quarantine.csv"))
    assert quarantine["description"].str.startswith("=HYPERLINK").any()
    kedro(project_copy, "run", "--env", "spark_transactions", "--params", FAST)
    assert json.loads(latest(data / "08_reporting/line_accounting.json").read_text()) == accounting
    assert json.loads(latest(data / "05_model_input/k_selection.json").read_text())["k"] == duckdb_k
    rfm = pd.read_parquet(latest(data / "07_model_output/rfm_scores_spark.parquet"))
    joined = duckdb_rfm.merge(rfm.astype({"customer_id": str}), on="customer_id")
    assert len(joined) == len(duckdb_rfm) == len(rfm) == accounting["customers_out"]
    assert (joined["rfm_cell_x"] == joined["rfm_cell_y"].astype(str)).all()
    parts = spark_parts(data / "07_model_output/segmented_customers_spark", "part-*.csv")
    segments = pd.concat(read_csv(part) for part in parts)
    joined = duckdb_segments.merge(segments, on="customer_id", suffixes=("_duckdb", "_spark"))
    assert len(joined) == len(duckdb_segments) == len(segments)
    assert adjusted_rand_score(joined["segment_id_duckdb"], joined["segment_id_spark"]) >= 0.95
    report = latest(data / "08_reporting/segment_report.html").read_text()
    assert "RFM" in report

    written = [p for root in (duckdb, data) for p in sorted(root.rglob("*.csv")) if p.is_file()]
    assert len(written) >= 20
    for path in written:
        cells = pd.read_csv(path, dtype=str, keep_default_na=False)
        texts = [*cells.columns, *cells.to_numpy().ravel().tolist()]
        assert not [t for t in texts if is_formula_like(t)], path


def read_csv(path) -> pd.DataFrame:
    """A CSV the project wrote, read back as the project reads it (text, the formula quote off)."""
    return unquoted(pd.read_csv(path, dtype=str, keep_default_na=False))
