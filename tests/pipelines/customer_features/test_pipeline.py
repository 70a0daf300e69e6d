"""customer_features through Kedro's runner on the seeded order log (a pandas table in, as the explorer
hands one: computed by DuckDB in memory), and how the registry wires it in."""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd
import pytest

from customer_segmentation.order_log_generator import DIRT, generate_order_log
from customer_segmentation.pipelines.customer_features import create_pipeline
from tests.conftest import load_parameters, run_pipeline, workflow_pipeline


def run_on(log: pd.DataFrame) -> dict:
    """The pipeline's outputs, tables as pandas."""
    params = load_parameters("transactions")["customer_features"]
    result = run_pipeline(
        create_pipeline(), {"order_lines_raw": log, "params:customer_features": params}
    )
    return {k: v.to_pandas() if isinstance(v, ir.Table) else v for k, v in result.items()}


@pytest.fixture(scope="module")
def outputs() -> dict:
    log, planted = generate_order_log(400, seed=5)
    return {**run_on(log), "log": log, "planted": planted}


def test_line_accounting_holds_and_finds_the_planted_dirt(outputs):
    accounting = outputs["line_accounting"]
    assert accounting["holds"] and accounting["lines_in"] == len(outputs["log"])
    assert accounting["lines_in"] == (
        accounting["lines_used"] + accounting["lines_netted"] + accounting["lines_quarantined"]
    )
    reasons = accounting["quarantined_by_reason"]
    assert reasons["duplicate line"] >= DIRT["duplicate_lines"]
    assert reasons["non-positive price"] == DIRT["zero_prices"]
    assert reasons["unparseable quantity"] == 1
    assert reasons["unparseable date (expected %m/%d/%Y %H:%M)"] == 1
    assert reasons["missing customer id"] > 0 and reasons["non-product stock code"] > 0
    # planted returns, plus cancellations whose purchase line was quarantined (e.g. a zero price)
    assert accounting["unmatched_return_lines"] >= DIRT["unmatched_returns"]
    quarantine = outputs["order_lines_quarantine"]
    bad_date = quarantine[quarantine["reason"].str.startswith("unparseable date")]
    line = bad_date["source_line"].item()
    assert outputs["log"].iloc[line - 2]["InvoiceDate"] == DIRT["bad_date"]  # the file's line


def test_the_huge_cancelled_order_is_netted_to_nothing(outputs):
    net = outputs["order_lines_net"]
    huge = net[net["quantity"].abs() == DIRT["huge_cancelled_line"]]
    assert len(huge) == 2 and set(huge["status"]) == {"netted"}


def test_one_row_per_identified_customer_with_an_rfm_segment_each(outputs):
    features, scores = outputs["customer_features"], outputs["rfm_scores"]
    assert features["customer_id"].is_unique
    assert features["customer_id"].is_monotonic_increasing
    assert set(features["customer_id"]) <= set(outputs["planted"].index)
    assert len(features) == outputs["line_accounting"]["customers_out"] >= 0.98 * 400
    assert (features["frequency"] >= 1).all() and features["return_rate"].between(0, 1).all()
    assert scores["customer_id"].tolist() == features["customer_id"].tolist()
    assert scores["rfm_segment"].notna().all()
    champions = outputs["planted"][outputs["planted"] == "Champions"].index
    champion_scores = scores[scores["customer_id"].isin(champions)]
    assert champion_scores["r_score"].mean() > 4.5 and champion_scores["f_score"].mean() > 4.5


def test_same_log_gives_the_same_features_and_scores(outputs):
    again = run_on(generate_order_log(400, seed=5)[0])
    pd.testing.assert_frame_equal(again["customer_features"], outputs["customer_features"])
    pd.testing.assert_frame_equal(again["rfm_scores"], outputs["rfm_scores"])


def test_the_workflow_starts_from_the_order_log_only_where_the_environment_says_so():
    transactions = workflow_pipeline("transactions")
    assert "customer_features.standardise_order_lines_node" in {n.name for n in transactions.nodes}
    # written by the order-log rules, read by data_processing as pandas (Kedro transcoding)
    assert "customer_features@ibis" in transactions.all_outputs()
    assert "customer_features@pandas" in {i for n in transactions.nodes for i in n.inputs}
    assert "customers_raw" not in transactions.inputs()
    assert {"new_order_lines_raw", "order_lines_raw"} <= transactions.inputs()
    assert {"rfm_summary", "rfm_grid_plot", "line_accounting"} <= transactions.all_outputs()

    base = workflow_pipeline(None)  # built again: nothing carried over from the first
    assert "customers_raw" in base.inputs() and "order_lines_raw" not in base.inputs()
    assert not {n.name for n in base.nodes if "order_lines" in n.name}
