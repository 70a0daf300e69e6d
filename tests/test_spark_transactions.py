"""`kedro run --env spark_transactions` as a user types it, against `kedro run --env transactions` in
the same folder (its own file, so that pytest-xdist runs it beside the other Spark end-to-end test)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from tests.conftest import FAST, kedro, latest
from tests.test_spark import spark_parts

pytestmark = pytest.mark.slow


def test_kedro_run_env_spark_transactions_gives_the_transactions_answer(project_copy):
    """`kedro run --env transactions`, then `kedro run --env spark_transactions` in the same folder:
    the order log on Spark gives the line accounting, the RFM scores, the k and the segments of the
    DuckDB run. (A folder of its own, not the shared command sequence: this file starts first and
    does not wait for the sequence's five runs.)"""
    # stability is not under test in either run
    kedro(project_copy, "run", "--env", "transactions", "--params", FAST)
    duckdb = project_copy / "data/transactions"
    data = project_copy / "data/spark_transactions"
    accounting = json.loads(latest(duckdb / "08_reporting/line_accounting.json").read_text())
    duckdb_k = json.loads(latest(duckdb / "05_model_input/k_selection.json").read_text())["k"]
    duckdb_rfm = pd.read_csv(latest(duckdb / "07_model_output/rfm_scores.csv"))
    duckdb_segments = pd.read_csv(latest(duckdb / "07_model_output/segmented_customers.csv"))
    kedro(project_copy, "run", "--env", "spark_transactions", "--params", FAST)
    assert json.loads(latest(data / "08_reporting/line_accounting.json").read_text()) == accounting
    assert json.loads(latest(data / "05_model_input/k_selection.json").read_text())["k"] == duckdb_k
    rfm = pd.read_parquet(latest(data / "07_model_output/rfm_scores_spark.parquet"))
    joined = duckdb_rfm.merge(rfm.astype({"customer_id": "int64"}), on="customer_id")
    assert len(joined) == len(duckdb_rfm) == len(rfm) == accounting["customers_out"]
    assert (joined["rfm_cell_x"] == joined["rfm_cell_y"]).all()
    parts = spark_parts(data / "07_model_output/segmented_customers_spark", "part-*.csv")
    segments = pd.concat(pd.read_csv(part) for part in parts)
    joined = duckdb_segments.merge(segments, on="customer_id", suffixes=("_duckdb", "_spark"))
    assert len(joined) == len(duckdb_segments) == len(segments)
    assert adjusted_rand_score(joined["segment_id_duckdb"], joined["segment_id_spark"]) >= 0.95
    report = latest(data / "08_reporting/segment_report.html").read_text()
    assert "RFM" in report
