"""customer_features nodes on small hand-made order logs whose every line's fate is known, on the
engines the rules run on (the `engine` fixture): the figures on DuckDB and PostgreSQL, the messages
that depend on the engine (a missing column, a date format) on Spark too. Spark's answers to the same logs are compared with DuckDB's line by line in
test_parity.py (each Spark action is a job: one comparison instead of a dozen runs)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.customer_features.nodes import (
    build_customer_features,
    build_line_accounting,
    clean_order_lines,
    count_lines,
    net_cancellations,
    standardise_order_lines,
)
from customer_segmentation.pipelines.customer_features.rfm import check_rfm_rules, score_rfm
from tests.conftest import load_parameters

FIRST_EDITION = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                 "CustomerID", "Country"]  # fmt: skip
# Each line's fate (by file line; the header is line 1):
LOG = [
    ["1001", "A", "a", "10", "01/05/2025 10:00", "2.00", "1", "United Kingdom"],  # 2: used, 8 left
    ["1001", "K", "k", "5", "01/05/2025 10:00", "4.00", "1", "United Kingdom"],  # 3: used
    ["1002", "A", "a", "74215", "02/10/2025 09:00", "1.00", "2", "France"],  # 4: netted
    ["C1002", "A", "a", "-74215", "02/10/2025 09:12", "1.00", "2", "France"],  # 5: netted
    ["1003", "C", "c", "4", "03/01/2025 12:00", "10.00", "2", "France"],  # 6: used
    ["1004", "A", "a", "6", "03/15/2025 12:00", "2.00", "1", "United Kingdom"],  # 7: netted
    ["C1005", "A", "a", "-8", "03/20/2025 12:00", "2.00", "1", "United Kingdom"],  # 8: netted
    ["C1006", "Z", "z", "-2", "03/21/2025 12:00", "5.00", "1", "United Kingdom"],  # 9: return
    ["1007", "POST", "POSTAGE", "1", "03/15/2025 12:00", "18.00", "1", "United Kingdom"],  # 10
    ["1008", "D", "d", "1", "03/16/2025 12:00", "3.00", "", "United Kingdom"],  # 11: no id
    ["1009", "E", "e", "1", "02/30/2025 12:00", "3.00", "3", "United Kingdom"],  # 12: bad date
    ["1010", "E", "e", "x", "03/16/2025 12:00", "3.00", "3", "United Kingdom"],  # 13: bad number
    ["1011", "E", "e", "1", "03/16/2025 12:00", "0.00", "3", "United Kingdom"],  # 14: zero price
    ["1001", "K", "k", "5", "01/05/2025 10:00", "4.00", "1", "United Kingdom"],  # 15: duplicate
    ["C1012", "F", "f", "-1", "03/22/2025 12:00", "7.00", "4", "Spain"],  # 16: no purchase
    ["1013", "G", "g", "2", "03/30/2025 08:00", "5.00", "3", "EIRE"],  # 17: used
]
QUARANTINED = {
    10: "non-product stock code",
    11: "missing customer id",
    12: "unparseable date (expected %m/%d/%Y %H:%M)",
    13: "unparseable quantity",
    14: "non-positive price",
    15: "duplicate of line 3",
}


ON_SQL_ENGINES = pytest.mark.parametrize("engine", ["duckdb", "postgres"], indirect=True)


@pytest.fixture
def params() -> dict:
    return copy.deepcopy(load_parameters()["customer_features"])


def raw_log(rows=LOG, header=FIRST_EDITION) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=header, dtype=object)


def by_line(table) -> pd.DataFrame:
    return table.to_pandas().sort_values("source_line", ignore_index=True)


def run_nodes(raw, params: dict, keep=lambda table: table):
    """The nodes in the pipeline's order, each step kept by `keep` as the catalog keeps it; the
    tables they return as pandas (lines by line number)."""
    lines = keep(standardise_order_lines(raw, params))
    clean, quarantine = clean_order_lines(lines, params)
    net, netting_quarantine = net_cancellations(keep(clean))
    net = keep(net)
    features = build_customer_features(net, params)
    accounting = build_line_accounting(
        count_lines(lines), quarantine, netting_quarantine, net, features, params
    )
    tables = (clean, quarantine, net, netting_quarantine)
    return (*map(by_line, tables), features.to_pandas(), accounting)


@ON_SQL_ENGINES
def test_every_bad_line_is_quarantined_with_its_line_number_and_first_reason(engine, params):
    _, quarantine, _, netting_quarantine, _, _ = run_nodes(
        engine.table(raw_log()), params, engine.keep
    )
    assert dict(zip(quarantine["source_line"], quarantine["reason"], strict=True)) == QUARANTINED
    assert list(quarantine.columns[:2]) == ["source_line", "invoice"]  # as delivered, plus reason
    assert (
        quarantine.loc[quarantine["source_line"] == 12, "invoice_date"].item() == "02/30/2025 12:00"
    )
    assert netting_quarantine["source_line"].tolist() == [16]
    assert netting_quarantine["reason"].tolist() == ["return without a purchase by this customer"]


@ON_SQL_ENGINES
def test_cancellations_are_netted_against_the_same_customers_same_item(engine, params):
    _, _, net, _, features, _ = run_nodes(engine.table(raw_log()), params, engine.keep)
    status = net.set_index("source_line")["status"].to_dict()
    assert {line for line, s in status.items() if s == "netted"} == {4, 5, 7, 8}
    remaining = net.set_index("source_line")["net_quantity"]
    assert remaining[2] == 8  # 10 bought; 8 cancelled, of which 6 took the later order (line 7)
    assert remaining[9] == -2  # an item customer 1 never bought here: an unmatched return
    customer_2 = features.set_index("customer_id").loc["2"]
    assert customer_2["monetary"] == 40.0  # the 74,215 units bought and cancelled count nothing


@ON_SQL_ENGINES
def test_features_per_customer_by_hand(engine, params):
    *_, features, _ = run_nodes(engine.table(raw_log()), params, engine.keep)
    by_id = features.set_index("customer_id")
    assert by_id.index.tolist() == ["1", "2", "3"]
    one = by_id.loc["1"]
    # snapshot: the day after the last invoice (03/30/2025) = 2025-03-31; last purchase 01/05/2025
    assert one["recency"] == 85 and one["tenure"] == 85
    assert one["frequency"] == 1  # invoice 1004 was cancelled entirely
    assert one["monetary"] == 8 * 2 + 5 * 4 - 2 * 5
    assert one["average_order_value"] == 26.0
    assert one["distinct_products"] == 2
    assert one["return_rate"] == pytest.approx(10 / 46, abs=1e-4)
    assert one["mean_days_between_orders"] == 85
    assert one["country"] == "United Kingdom"
    assert by_id.loc["2", "country"] == "France" and by_id.loc["2", "recency"] == 30
    assert by_id.loc["3", "recency"] == 1 and by_id.loc["3", "return_rate"] == 0


@ON_SQL_ENGINES
def test_line_accounting_holds_and_counts_reasons(engine, params):
    *_, accounting = run_nodes(engine.table(raw_log()), params, engine.keep)
    assert accounting["lines_in"] == 16
    assert (accounting["lines_used"], accounting["lines_netted"]) == (5, 4)
    assert accounting["lines_quarantined"] == 7 and accounting["holds"]
    assert accounting["quarantined_by_reason"]["duplicate line"] == 1
    assert accounting["quarantined_by_reason"]["return without a purchase by this customer"] == 1
    assert accounting["customers_out"] == 3 and accounting["snapshot_date"] == "2025-03-31"


@ON_SQL_ENGINES
def test_second_edition_headers_day_first_dates_with_seconds_and_a_snapshot(engine, params):
    header = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
              "Customer ID", "Country"]  # fmt: skip
    rows = [
        ["1", "A", "a", "1", "03/04/2025 10:00:00", "5", "17850.0", "France"],  # 3 April
        ["2", "A", "a", "1", "01/05/2025 10:00:00", "5", "17850.0", "France"],  # 1 May
    ]
    params = {**params, "date_format": "%d/%m/%Y %H:%M:%S", "snapshot_date": "2025-06-01"}
    *_, features, _ = run_nodes(engine.table(raw_log(rows, header)), params, engine.keep)
    row = features.set_index("customer_id").loc["17850"]  # an id exported as float is the same id
    assert (row["recency"], row["tenure"], row["frequency"]) == (31, 59, 2)
    assert row["mean_days_between_orders"] == 28


@ON_SQL_ENGINES
def test_an_export_of_one_row_per_invoice_nets_cancellations_by_invoice(engine, params):
    header = ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    rows = [
        ["1", "1", "01/02/2025 10:00", "120.00", "7"],
        ["2", "1", "01/09/2025 10:00", "80.00", "7"],
        ["C2", "-1", "01/09/2025 11:00", "80.00", "7"],
    ]
    _, _, net, _, features, accounting = run_nodes(
        engine.table(raw_log(rows, header)), params, engine.keep
    )
    assert net.set_index("source_line")["status"].to_dict() == {2: "used", 3: "netted", 4: "netted"}
    assert features.columns.tolist() == [
        "customer_id", "recency", "frequency", "monetary", "average_order_value", "tenure",
        "mean_days_between_orders", "return_rate",
    ]  # fmt: skip
    assert features["monetary"].item() == 120.0 and accounting["holds"]


# One row per invoice, cancellations with numbers of their own (by file line):
MIRRORED = [
    ["1", "1", "01/02/2025 10:00", "120.00", "7"],  # 2: used
    ["2", "1", "01/09/2025 10:00", "80.00", "7"],  # 3: netted by line 4 (the latest 80.00)
    ["C9", "-1", "01/10/2025 10:00", "80.00", "7"],  # 4: netted
    ["3", "2", "01/12/2025 10:00", "40.00", "7"],  # 5: netted by line 6 (80.00, split 2 x 40)
    ["C10", "-1", "01/15/2025 10:00", "80.00", "7"],  # 6: netted
    ["4", "1", "01/20/2025 10:00", "60.00", "7"],  # 7: used
    ["C11", "-1", "01/21/2025 10:00", "45.00", "7"],  # 8: mirrors nothing: unmatched return
    ["5", "1", "01/05/2025 10:00", "80.00", "8"],  # 9: used (another customer's 80.00)
    ["C12", "-1", "01/04/2025 10:00", "80.00", "8"],  # 10: before any 80.00: unmatched return
]


@ON_SQL_ENGINES
def test_a_cancellation_invoice_nets_the_earlier_invoice_it_mirrors(engine, params):
    """Without stock codes, a cancellation with a number of its own nets the same customer's latest
    earlier purchase of the same amount: that order stops counting; one that mirrors no earlier
    purchase stays an unmatched return."""
    header = ["InvoiceNo", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    params = {**params, "snapshot_date": "2025-02-01"}
    _, _, net, _, features, accounting = run_nodes(
        engine.table(raw_log(MIRRORED, header)), params, engine.keep
    )
    status = net.set_index("source_line")["status"].to_dict()
    assert status == {2: "used", 3: "netted", 4: "netted", 5: "netted", 6: "netted", 7: "used",
                      8: "used", 9: "used", 10: "used"}  # fmt: skip
    assert net.set_index("source_line").loc[[8, 10], "net_quantity"].tolist() == [-1, -1]
    rows = features.set_index("customer_id")
    # customer 7: invoices 1 and 4 are left (2 and 3 were cancelled); 120 + 60 - 45
    assert rows.loc["7", ["frequency", "monetary", "recency"]].tolist() == [2, 135.0, 12]
    assert rows.loc["8", ["frequency", "monetary"]].tolist() == [1, 0.0]
    assert accounting["lines_netted"] == 4 and accounting["unmatched_return_lines"] == 2
    assert accounting["holds"]


def test_a_missing_required_column_names_the_file_the_field_and_the_headers(engine, params):
    raw = engine.table(raw_log().drop(columns="UnitPrice"))
    with pytest.raises(DataValidationError) as error:
        standardise_order_lines(raw, params)
    message = str(error.value)
    assert message.startswith("data/01_raw/order_lines.csv: required order-line column(s) missing")
    assert "unit_price: one of ['UnitPrice', 'Price']" in message and "'InvoiceNo'" in message


def test_a_wrong_date_format_quarantining_every_line_stops_with_the_format_and_examples(
    engine, params
):
    params = {**params, "date_format": "%d/%m/%Y %H:%M"}  # the log is month-first
    rows = [row for row in LOG if row[4][:2] in ("02", "03") and int(row[4][3:5]) > 12]
    with pytest.raises(DataValidationError) as error:
        clean_order_lines(standardise_order_lines(engine.table(raw_log(rows)), params), params)
    message = str(error.value)
    assert f"no usable order line: all {len(rows)} lines would be quarantined" in message
    assert "'%d/%m/%Y %H:%M'" in message and "unparseable date" in message
    assert "03/21/2025 12:00" in message  # an example row as delivered


@ON_SQL_ENGINES
def test_a_log_whose_every_purchase_is_cancelled_describes_no_customer_and_says_so(engine, params):
    with pytest.raises(DataValidationError, match="no customer has a purchase left after netting"):
        run_nodes(
            engine.table(raw_log(LOG[2:4])), params, engine.keep
        )  # the 74,215 units, bought and cancelled


@ON_SQL_ENGINES
def test_an_empty_log_is_a_clear_error(engine, params):
    with pytest.raises(DataValidationError, match="order_lines.csv: the order log is empty"):
        standardise_order_lines(engine.table(raw_log([])), params)
    with pytest.raises(DataValidationError, match="order_lines.csv: the order log is empty"):
        standardise_order_lines(pd.DataFrame(), params)  # a file with no header at all


@ON_SQL_ENGINES
def test_rfm_scores_fill_every_bin_despite_heavy_ties_and_ignore_row_order(engine, params):
    frequency = [1] * 80 + list(range(2, 22))
    ids = [f"c{i:03d}" for i in range(100)]
    features = pd.DataFrame(
        {"customer_id": ids, "recency": [5] * 100, "frequency": frequency, "monetary": [1.0] * 100}
    )
    scores = score_rfm(engine.table(features), params).to_pandas()
    assert scores["customer_id"].tolist() == ids  # sorted by customer id
    assert scores["f_score"].value_counts().sort_index().tolist() == [20] * 5
    shuffled = features.sample(frac=1, random_state=0)
    again = score_rfm(engine.table(shuffled), params).to_pandas()
    pd.testing.assert_frame_equal(again, scores)
    three = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "recency": [1, 50, 300], "frequency": [1, 1, 1],
         "monetary": [1.0, 1.0, 1.0]}
    )  # fmt: skip
    params = {**params, "rfm": {**params["rfm"], "bins": 3, "segments": [
        {"name": "All", "r": [1, 3], "f": [1, 3]}]}}  # fmt: skip
    assert score_rfm(engine.table(three), params).to_pandas()["r_score"].tolist() == [3, 2, 1]


def random_rfm_features(n: int, seed: int) -> pd.DataFrame:
    """`n` customers with random recency, frequency and monetary value."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"{i}" for i in range(n)],
            "recency": rng.integers(0, 365, n),
            "frequency": rng.integers(1, 30, n),
            "monetary": rng.gamma(2, 300, n).round(2),
        }
    )


@ON_SQL_ENGINES
def test_rfm_segments_follow_the_grid_in_parameters(engine, params):
    scores = score_rfm(engine.table(random_rfm_features(500, seed=1)), params).to_pandas()
    assert scores[["r_score", "f_score", "m_score"]].isin(range(1, 6)).all().all()
    top = scores[(scores["r_score"] == 5) & (scores["f_score"] == 5)]
    assert set(top["rfm_segment"]) == {"Champions"}
    assert set(scores.loc[(scores["r_score"] == 1) & (scores["f_score"] == 1), "rfm_segment"]) == {
        "Hibernating"
    }
    assert scores["rfm_cell"].str.fullmatch(r"R[1-5]F[1-5]M[1-5]").all()
    assert scores["rfm_segment"].notna().all()


def test_rfm_rules_that_leave_cells_uncovered_are_refused(params):
    rules = {**params["rfm"], "segments": params["rfm"]["segments"][:-1]}  # without Hibernating
    with pytest.raises(DataValidationError, match="R1F1, R1F2, R2F1, R2F2"):
        check_rfm_rules(rules)


def test_an_rfm_rule_of_the_wrong_shape_is_named(params):
    rules = {**params["rfm"], "segments": [{"name": "All", "r": [1, 5], "f": "1-5"}]}
    with pytest.raises(
        DataValidationError, match=r"found \{'name': 'All', 'r': \[1, 5\], 'f': '1-5'\}"
    ):
        check_rfm_rules(rules)


@ON_SQL_ENGINES
def test_placeholder_customer_ids_are_missing_ids_and_placeholder_countries_blank(engine, params):
    placeholders = [
        ["2001", "A", "a", "1", "03/30/2025 08:00", "5.00", token, "United Kingdom"]
        for token in ("(blank)", "NULL", " #N/A ", "n/a", "0", "Guest")
    ]
    unknown_country = ["2002", "G", "g", "1", "03/30/2025 09:00", "5.00", "5", "unknown"]
    house = ["2003", "H", "h", "1", "03/30/2025 10:00", "5.00", "HOUSE", "EIRE"]
    params["missing_tokens"] = {"customer_id": ["house"]}
    rows = [*LOG, *placeholders, unknown_country, house]
    _, quarantine, _, _, features, accounting = run_nodes(
        engine.table(raw_log(rows)), params, engine.keep
    )
    reasons = dict(zip(quarantine["source_line"], quarantine["reason"], strict=True))
    expected = {18: "(blank)", 19: "NULL", 20: "#N/A", 21: "n/a", 22: "0", 23: "Guest", 25: "HOUSE"}
    for line, token in expected.items():
        assert reasons[line] == f"missing customer id (placeholder '{token}')"
    assert {k: v for k, v in reasons.items() if k < 18} == QUARANTINED
    assert accounting["holds"] and accounting["lines_quarantined"] == 7 + 7
    by_reason = accounting["quarantined_by_reason"]
    assert by_reason["missing customer id"] == 1  # blank
    assert by_reason["missing customer id (placeholder '(blank)')"] == 1
    assert features.set_index("customer_id").loc["5", "country"] in ("", None)  # "unknown": none


def dominant_log(customers: int, big_orders: int) -> list[list[str]]:
    """One order each for `customers` customers, and `big_orders` orders of customer 'BIG'."""
    rows = [
        [f"{5000 + i}", "A", "a", "1", "03/01/2025 10:00", "2.00", f"{i + 1}", "France"]
        for i in range(customers)
    ]
    rows += [
        [f"{9000 + i}", "A", "a", "1", "03/02/2025 10:00", "2.00", "BIG", "France"]
        for i in range(big_orders)
    ]
    return rows


@ON_SQL_ENGINES
def test_one_customer_id_holding_an_implausible_share_stops_the_run_naming_it(engine, params):
    with pytest.raises(DataValidationError) as stopped:
        run_nodes(engine.table(raw_log(dominant_log(150, 60))), params, engine.keep)
    message = str(stopped.value)
    assert "customer id 'BIG' holds 28.6% of the usable order lines (60 of 210)" in message
    assert "customer_features.dominant_id.accept" in message
    assert "'BIG', the largest customer id by lines" in message
    params["dominant_id"]["accept"] = ["BIG"]  # a house account: kept
    *_, features, _ = run_nodes(engine.table(raw_log(dominant_log(150, 60))), params, engine.keep)
    assert features.set_index("customer_id").loc["BIG", "frequency"] == 60
    # a large customer among few is not stopped: 20 customers, one with 60 orders
    *_, features, _ = run_nodes(
        engine.table(raw_log(dominant_log(20, 60))),
        {**params, "dominant_id": {**params["dominant_id"], "accept": []}},
        engine.keep,
    )
    assert len(features) == 21
