"""The data_processing pipeline run with SequentialRunner on an in-memory catalog."""

from __future__ import annotations

import pandas as pd

from customer_segmentation.data_generator import RAW_COLUMNS, generate_customers
from customer_segmentation.pipelines.data_processing import create_pipeline
from tests.conftest import run_pipeline


def test_embedded_data_is_cleaned_with_every_dirty_row_accounted_for(parameters):
    generated = generate_customers()
    outputs = run_pipeline(
        create_pipeline(),
        {
            "customers_raw": generated[RAW_COLUMNS].copy(),
            "params:data_processing": parameters["data_processing"],
        },
    )
    quarantined, primary, report = (
        outputs["quarantined_customers"],
        outputs["customers_primary"],
        outputs["data_quality_report"],
    )
    dirty = generated.loc[generated["dirty_kind"] != "", "dirty_kind"]
    expected_quarantine = {
        "blank_spending_score",
        "blank_income",
        "impossible_age",
        "impossible_score",
        "non_numeric_income",
        "duplicated_customer_id",
    }
    quarantined_kinds = set(generated.loc[quarantined["source_line"] - 2, "dirty_kind"])
    assert quarantined_kinds == expected_quarantine
    assert report["rows_in"] == len(generated) == report["rows_kept"] + report["rows_quarantined"]
    assert report["rows_kept"] == len(primary) == len(generated) - len(expected_quarantine)
    assert report["values_imputed"] == {"age": 1, "gender": 1}
    kept_dirty = set(dirty) - expected_quarantine
    assert kept_dirty == {
        "blank_age",
        "blank_gender",
        "gender_F",
        "gender_female_padded",
        "gender_M",
    }
    assert set(primary["gender"]) == {"Female", "Male"}
    assert primary["customer_id"].is_unique

    features = outputs["model_features"]
    assert list(features.columns) == ["annual_income_k", "spending_score"]
    assert features.index.equals(pd.Index(primary["customer_id"], name="customer_id"))
    transformer = outputs["feature_transformer"]
    assert list(transformer.feature_names_in_) == ["annual_income_k", "spending_score"]
