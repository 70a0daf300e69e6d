"""From a transaction log to segments: `kedro run --env transactions` as a user types it, in a temp copy."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from customer_segmentation.order_log_generator import BEHAVIOURS, generate_order_log
from tests.conftest import kedro, latest

pytestmark = pytest.mark.slow


def test_the_order_log_environment_recovers_planted_behaviours_with_rfm_beside(sequence_project):
    project_copy = sequence_project  # where `kedro run --env transactions` ran
    data = project_copy / "data" / "transactions"  # the environment's data root
    accounting = json.loads(latest(data / "08_reporting" / "line_accounting.json").read_text())
    raw = project_copy / "data" / "01_raw" / "order_lines.csv"
    lines_in_file = len(raw.read_text().splitlines()) - 1
    assert accounting["holds"] and accounting["lines_in"] == lines_in_file
    assert accounting["lines_in"] == (
        accounting["lines_used"] + accounting["lines_netted"] + accounting["lines_quarantined"]
    )
    features = pd.read_parquet(latest(data / "02_intermediate" / "customer_features.parquet"))
    assert len(features) == accounting["customers_out"]
    # every step of the order-log rules is a table of the environment's DuckDB file
    database = duckdb.connect(str(data / "order_log.duckdb"), read_only=True)
    steps = {row[0] for row in database.sql("SHOW TABLES").fetchall()}
    assert {"order_lines_standardised", "order_lines_clean", "order_lines_net"} <= steps
    used = database.sql("SELECT count(*) FROM order_lines_net WHERE status = 'used'").fetchall()[0]
    assert used[0] == accounting["lines_used"]
    database.close()

    selection = json.loads(latest(data / "05_model_input" / "k_selection.json").read_text())
    assert selection["k"] == len(BEHAVIOURS)
    segmented = pd.read_parquet(latest(data / "07_model_output" / "segmented_customers.parquet"))
    planted = generate_order_log()[1]
    ari = adjusted_rand_score(planted.loc[segmented["customer_id"]], segmented["segment_id"])
    assert ari >= 0.8, ari
    profiles = pd.read_csv(latest(data / "07_model_output" / "segment_profiles.csv"))
    assert "Recent · Frequent · High spend" in set(profiles["segment_name"])

    scores = pd.read_csv(latest(data / "07_model_output" / "rfm_scores.csv"), dtype=str)
    assert scores["customer_id"].tolist() == features["customer_id"].tolist()
    summary = json.loads(latest(data / "08_reporting" / "rfm_summary.json").read_text())
    assert sum(s["customers"] for s in summary["segments"]) == len(features)
    assert summary["customers_in_crosstab"] == len(segmented)
    report = latest(data / "08_reporting" / "segment_report.html").read_text()
    for text in ("From the order log", "RFM segments beside the K-Means segments", "Champions",
                 'data-plot="rfm_grid_plot"', 'data-plot="rfm_crosstab_plot"', "net spend (£)"):  # fmt: skip
        assert text in report, text

    scored = pd.read_csv(latest(data / "07_model_output" / "scored_customers.csv"))
    assert len(scored) == 60 and scored["segment_name"].notna().all()


def test_the_other_edition_of_online_retail_runs_by_its_format_alone(project_copy):
    """The second edition's headers (Invoice, Price, Customer ID) and ISO dates with seconds: only
    the date format is a parameter to change."""
    log = generate_order_log(600, seed=3)[0].rename(
        columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"}
    )
    dates = pd.to_datetime(log["InvoiceDate"], format="%m/%d/%Y %H:%M", errors="coerce")
    log["InvoiceDate"] = dates.dt.strftime("%Y-%m-%d %H:%M:%S").fillna("not a date")
    log.to_csv(project_copy / "data" / "01_raw" / "order_lines.csv", index=False)
    kedro(
        project_copy, "run", "--env", "transactions", "--pipelines", "customer_features",
        "--params", "customer_features.date_format='%Y-%m-%d %H:%M:%S'",
    )  # fmt: skip
    data = project_copy / "data" / "transactions"
    accounting = json.loads(latest(data / "08_reporting" / "line_accounting.json").read_text())
    assert accounting["holds"] and accounting["lines_in"] == len(log)
    assert accounting["quarantined_by_reason"]["unparseable date (expected %Y-%m-%d %H:%M:%S)"] == 1
    assert accounting["customers_out"] >= 0.98 * 600


def test_an_export_without_a_required_column_stops_with_one_clear_message(project_copy):
    path = project_copy / "data" / "01_raw" / "order_lines.csv"
    pd.read_csv(path, dtype=str).drop(columns="UnitPrice").to_csv(path, index=False)
    result = kedro(project_copy, "run", "--env", "transactions", check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "DataValidationError" in log
    assert "data/01_raw/order_lines.csv: required order-line column(s) missing: unit_price" in log
