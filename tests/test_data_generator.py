"""The embedded default data is what the seeded generator makes, and has the planted structure."""

from __future__ import annotations

from customer_segmentation.data_generator import (
    AGE_RANGE,
    DIRTY_ROWS,
    INCOME_RANGE,
    PLANTED_SEGMENTS,
    RAW_COLUMNS,
    generate_clean_customers,
    generate_customers,
    generate_new_customers,
    to_csv_text,
    write_default_data,
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
