"""The data_processing pipeline run with SequentialRunner on an in-memory catalog."""

from __future__ import annotations

import pandas as pd
import pytest

from customer_segmentation.data_generator import RAW_COLUMNS, generate_customers
from customer_segmentation.errors import DataValidationError
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


def test_optional_column_absent_from_the_file_is_left_out_of_the_schema(parameters):
    dp = parameters["data_processing"]
    next(c for c in dp["columns"] if c["name"] == "age")["required"] = False
    raw = generate_customers(200, seed=4)[RAW_COLUMNS].drop(columns="Age")
    outputs = run_pipeline(create_pipeline(), {"customers_raw": raw, "params:data_processing": dp})
    schema = outputs["column_schema"]
    assert [c["name"] for c in schema["columns"]] == [
        "customer_id", "gender", "annual_income_k", "spending_score",
    ]  # fmt: skip
    assert "age" not in outputs["customers_primary"].columns
    assert outputs["data_quality_report"]["accounting_holds"] is True


def test_a_feature_absent_from_the_file_is_a_clear_error(parameters):
    dp = parameters["data_processing"]
    next(c for c in dp["columns"] if c["name"] == "age")["required"] = False
    dp["features"] = ["age", "spending_score"]
    raw = generate_customers(200, seed=4)[RAW_COLUMNS].drop(columns="Age")
    with pytest.raises(DataValidationError, match=r"feature column\(s\) age are not in the file"):
        run_pipeline(create_pipeline(), {"customers_raw": raw, "params:data_processing": dp})
