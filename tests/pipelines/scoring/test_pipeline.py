"""scoring: new customers through the same validation and the saved model."""

from __future__ import annotations

import pandas as pd
import pytest

from customer_segmentation.data_generator import (
    RAW_COLUMNS,
    generate_customers,
    generate_new_customers,
)
from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.scoring import create_pipeline
from tests.conftest import run_pipeline
from tests.pipelines.clustering.test_pipeline import fast_parameters, run_training


@pytest.fixture(scope="module")
def trained() -> dict:
    return run_training(fast_parameters())


def score(trained: dict, new_customers: pd.DataFrame) -> dict:
    params = fast_parameters()
    return run_pipeline(
        create_pipeline(),
        {
            "new_customers_raw": new_customers,
            "segment_model": trained["segment_model"],
            "segment_profiles": trained["segment_profiles"],
            "params:data_processing": params["data_processing"],
            "params:scoring": params["scoring"],
        },
    )


def test_scoring_the_training_customers_reproduces_their_segments(trained):
    scored = score(trained, generate_customers()[RAW_COLUMNS].copy())["scored_customers"]
    training = trained["segmented_customers"].set_index("customer_id")
    scored = scored.set_index("customer_id").loc[training.index]
    pd.testing.assert_series_equal(scored["segment_id"], training["segment_id"])
    pd.testing.assert_series_equal(scored["segment_name"], training["segment_name"])
    pd.testing.assert_series_equal(scored["distance_to_centroid"], training["distance_to_centroid"])


def test_shipped_new_customers_are_scored_and_bad_rows_quarantined(trained):
    new = generate_new_customers()
    outputs = score(trained, new[RAW_COLUMNS].copy())
    quarantine, scored = outputs["scoring_quarantine"], outputs["scored_customers"]
    assert quarantine["reason"].tolist() == ["age not between 0 and 120", "spending_score missing"]
    assert len(scored) + len(quarantine) == len(new)
    assert scored["segment_id"].between(1, 5).all() and scored["segment_name"].notna().all()
    report = outputs["scoring_data_quality_report"]
    assert report["source_file"] == "data/01_raw/new_customers.csv"
    assert report["accounting_holds"]


def test_missing_model_columns_fail_naming_them(trained):
    new = generate_new_customers()[RAW_COLUMNS].drop(columns=["Spending Score (1-100)"])
    with pytest.raises(DataValidationError) as error:
        score(trained, new)
    message = str(error.value)
    assert "data/01_raw/new_customers.csv" in message
    assert "'spending_score'" in message
    assert "the segment model was trained on annual_income_k, spending_score" in message


def test_columns_the_model_does_not_use_may_be_absent(trained):
    new = generate_new_customers()[RAW_COLUMNS].drop(columns=["Age", "Genre"])
    scored = score(trained, new)["scored_customers"]
    assert len(scored) == len(new) - 1  # the row with the blank score is still quarantined
