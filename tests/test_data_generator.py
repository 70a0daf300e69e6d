"""The embedded default data is what the seeded generator makes, and has the planted structure."""

from __future__ import annotations

import pandas as pd

from customer_segmentation.card_generator import (
    CARD_COLUMNS,
    CARD_DIRTY_ROWS,
    CARD_SEGMENTS,
    generate_cards,
    generate_clean_cards,
)
from customer_segmentation.data_generator import (
    AGE_RANGE,
    DIRTY_ROWS,
    INCOME_RANGE,
    PLANTED_SEGMENTS,
    RAW_COLUMNS,
    generate_clean_customers,
    generate_customers,
    generate_new_customers,
    planted_counts,
    to_csv_text,
    write_default_data,
)
from customer_segmentation.order_log_generator import (
    BEHAVIOURS,
    DATE_FORMAT,
    DIRT,
    NON_PRODUCT_CODES,
    ORDER_COLUMNS,
    generate_order_log,
)
from tests.conftest import PROJECT_ROOT


def test_committed_files_are_regenerated_byte_identically(tmp_path):
    for path in write_default_data(tmp_path):
        committed = PROJECT_ROOT / "data" / "01_raw" / path.name
        assert path.read_bytes() == committed.read_bytes(), f"run `make data`: {path.name} differs"


def test_generator_is_deterministic_and_seeded():
    assert to_csv_text(generate_customers()) == to_csv_text(generate_customers())
    assert to_csv_text(generate_customers(seed=1)) != to_csv_text(generate_customers(seed=2))


def test_default_data_has_five_planted_segments_in_realistic_ranges():
    clean = generate_clean_customers(2_000, seed=3)
    assert len(clean) == 2_000
    assert clean["planted_segment"].nunique() == len(PLANTED_SEGMENTS) == 5
    assert clean["Age"].between(*AGE_RANGE).all()
    assert clean["Annual Income (k$)"].between(*INCOME_RANGE).all()
    assert clean["Spending Score (1-100)"].between(1, 100).all()
    means = clean.groupby("planted_segment")[
        ["Annual Income (k$)", "Spending Score (1-100)"]
    ].mean()
    assert means.loc["Affluent big spenders", "Annual Income (k$)"] > 90
    assert means.loc["Low-income savers", "Spending Score (1-100)"] < 30


def test_dirty_rows_are_where_the_table_says():
    customers = generate_customers()
    assert list(customers.columns[:5]) == RAW_COLUMNS
    for kind, (position, column, value, _) in DIRTY_ROWS.items():
        assert customers.loc[position, column] == value
        assert customers.loc[position, "dirty_kind"] == kind
    assert customers["CustomerID"].duplicated().sum() == 1
    assert generate_new_customers()["dirty_kind"].ne("").sum() == 2


def test_cards_example_is_right_skewed_with_four_planted_segments_and_dirty_rows():
    clean = generate_clean_cards(4_000, seed=3)
    assert clean["planted_segment"].nunique() == len(CARD_SEGMENTS) == 4
    for column in ("BALANCE", "PURCHASES", "ONEOFF_PURCHASES", "CASH_ADVANCE", "PAYMENTS"):
        values = clean[column]
        assert (values >= 0).all() and values.skew() > 1, column  # heavily right-skewed
    assert (clean["CASH_ADVANCE"] == 0).mean() > 0.5  # many exact zeros
    assert (
        clean["PURCHASES"]
        .round(2)
        .equals((clean["ONEOFF_PURCHASES"] + clean["INSTALLMENTS_PURCHASES"]).round(2))
    )
    cards = generate_cards()
    assert list(cards.columns[: len(CARD_COLUMNS)]) == CARD_COLUMNS
    for kind, (position, column, value, _) in CARD_DIRTY_ROWS.items():
        assert cards.loc[position, column] == value and cards.loc[position, "dirty_kind"] == kind
    assert cards["CUST_ID"].duplicated().sum() == 1


def test_order_log_has_six_planted_behaviours_and_the_documented_dirt():
    log, planted = generate_order_log()
    assert list(log.columns) == ORDER_COLUMNS
    assert planted.value_counts().to_dict() == {
        b.name: n
        for b, n in zip(
            BEHAVIOURS, planted_counts([b.share for b in BEHAVIOURS], 2_000), strict=True
        )
    }
    assert 50_000 <= len(log) <= 60_000
    dates = pd.to_datetime(log["InvoiceDate"], format=DATE_FORMAT, errors="coerce")
    assert dates.isna().sum() == 1 and (log["InvoiceDate"] == DIRT["bad_date"]).sum() == 1
    assert (dates.max() - dates.min()).days >= 390  # 13 months
    assert (log["Quantity"] == DIRT["bad_quantity"]).sum() == 1
    assert (log["UnitPrice"] == "0.00").sum() == DIRT["zero_prices"]
    assert log.duplicated().sum() >= DIRT["duplicate_lines"]
    assert (log["CustomerID"] == "").mean() > 0.01
    assert log["StockCode"].isin(list(NON_PRODUCT_CODES)).sum() > 100
    huge = log[
        log["Quantity"].isin([str(DIRT["huge_cancelled_line"]), f"-{DIRT['huge_cancelled_line']}"])
    ]
    assert huge["InvoiceNo"].tolist() == ["536364", "C536364"]
    champions = planted[planted == "Champions"].index
    orders = log[log["CustomerID"].isin(champions)].groupby("CustomerID")["InvoiceNo"].nunique()
    assert orders.median() >= 20


def test_order_log_generator_is_seeded():
    assert generate_order_log(100, seed=1)[0].equals(generate_order_log(100, seed=1)[0])
    assert not generate_order_log(100, seed=1)[0].equals(generate_order_log(100, seed=2)[0])
