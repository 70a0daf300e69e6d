"""Unit tests of the data_processing nodes on small tables built here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.data_processing.features import (
    build_model_features,
    fit_feature_transformer,
)
from customer_segmentation.pipelines.data_processing.nodes import (
    build_data_quality_report,
    build_primary_table,
    collect_quarantine,
    impute_missing_values,
    remove_duplicate_customers,
    standardise_columns,
    treat_outliers,
    validate_customers,
)
from tests.conftest import raw_frame

CLEAN_ROWS = [
    [1, "Male", 19, 15, 39],
    [2, "Female", 21, 15, 81],
    [3, "Female", 35, 70, 50],
    [4, "Male", 64, 120, 20],
]


@pytest.fixture
def dp(parameters):
    return parameters["data_processing"]


def standardised(rows, dp):
    return standardise_columns(raw_frame(rows), dp)


def declare(dp: dict, name: str, **changes) -> None:
    """Change the declaration of column `name` in the data_processing parameters."""
    column = next(c for c in dp["columns"] if c["name"] == name)
    column.update(changes)


# --- standardise_columns: table-level errors ---------------------------------------------------


def test_standardise_renames_both_header_variants(dp):
    genre = standardise_columns(raw_frame(CLEAN_ROWS), dp)
    header = ["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]
    gender = standardise_columns(raw_frame(CLEAN_ROWS, header), dp)
    expected = ["source_line", "customer_id", "gender", "age", "annual_income_k", "spending_score"]
    assert list(genre.columns) == expected
    assert genre.equals(gender)
    assert genre["source_line"].tolist() == [2, 3, 4, 5]


def test_missing_column_names_file_column_and_examples(dp):
    raw = raw_frame(CLEAN_ROWS).drop(columns="Age")
    with pytest.raises(DataValidationError) as error:
        standardise_columns(raw, dp)
    message = str(error.value)
    assert "data/01_raw/customers.csv" in message
    assert "'age'" in message and "'Age'" in message
    assert "Spending Score (1-100)" in message  # found columns listed
    assert "Female" in message  # example rows shown


def test_empty_file_and_header_only_are_clear_errors(dp):
    with pytest.raises(DataValidationError, match="customers.csv: the file is empty"):
        standardise_columns(pd.DataFrame(), dp)
    with pytest.raises(
        DataValidationError, match="customers.csv: the file has a header but no rows"
    ):
        standardise_columns(raw_frame([]), dp)


# --- validate_customers: row-level checks ------------------------------------------------------


def test_gender_spellings_are_normalised(dp):
    rows = [
        [1, "F", 30, 50, 50],
        [2, "female ", 30, 50, 50],
        [3, " MALE", 30, 50, 50],
        [4, "m", 30, 50, 50],
    ]
    valid, record = validate_customers(standardised(rows, dp), dp)
    assert record.empty
    assert valid["gender"].tolist() == ["Female", "Female", "Male", "Male"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ([9, "Male", 150, 50, 50], "age not between 0 and 120"),
        ([9, "Male", -3, 50, 50], "age not between 0 and 120"),
        ([9, "Male", 30, -1, 50], "annual_income_k not at least 0"),
        ([9, "Male", 30, 50, 0], "spending_score not between 1 and 100"),
        ([9, "Male", 30, "45k", 50], "annual_income_k is not a number"),
        ([9, "Robot", 30, 50, 50], "gender not one of Female, Male"),
        ([" (blank) ", "Male", 30, 50, 50], "customer_id missing (placeholder '(blank)')"),
        (["#N/A", "Male", 30, 50, 50], "customer_id missing (placeholder '#N/A')"),
        (["0", "Male", 30, 50, 50], "customer_id missing (placeholder '0')"),
        ([None, "Male", 30, 50, 50], "customer_id missing"),
    ],
)
def test_invalid_rows_are_quarantined_with_reason(dp, row, reason):
    valid, record = validate_customers(standardised([*CLEAN_ROWS, row], dp), dp)
    assert len(valid) == len(CLEAN_ROWS)
    assert record["reason"].tolist() == [reason]
    assert record.index.tolist() == [len(CLEAN_ROWS)]


def test_several_problems_in_one_row_are_all_named(dp):
    _, record = validate_customers(standardised([[9, "X", 200, "abc", 50]], dp), dp)
    reason = record["reason"].iloc[0]
    assert (
        "age not between" in reason
        and "annual_income_k is not a number" in reason
        and "gender" in reason
    )


def test_blank_numbers_pass_validation_for_the_missing_value_step(dp):
    valid, record = validate_customers(standardised([[1, "Male", None, 50, 50]], dp), dp)
    assert record.empty and valid["age"].isna().all()


# --- missing values, duplicates, outliers -----------------------------------------------------


def test_missing_value_policies(dp):
    rows = [*CLEAN_ROWS, [5, None, None, 60, 40], [6, "Male", 40, None, 40]]
    valid, _ = validate_customers(standardised(rows, dp), dp)
    kept, record, counts, _ = impute_missing_values(valid, dp)
    assert counts == {"gender": 1, "age": 1}
    assert kept.loc[4, "age"] == pd.Series([19, 21, 35, 64, 40]).median()
    assert kept.loc[4, "gender"] == "Male"  # the mode of the rows that have a gender
    assert record["reason"].tolist() == ["annual_income_k missing"]


def test_missing_value_policy_can_quarantine_age(dp):
    declare(dp, "age", missing="quarantine")
    valid, _ = validate_customers(standardised([*CLEAN_ROWS, [5, "Male", None, 60, 40]], dp), dp)
    kept, record, counts, _ = impute_missing_values(valid, dp)
    assert len(kept) == 4 and record["reason"].tolist() == ["age missing"] and counts == {}


def test_unknown_missing_value_policy_names_the_parameter(dp):
    declare(dp, "age", missing="guess")
    with pytest.raises(DataValidationError, match=r"columns\[2\] \(age\)\.missing.*'guess'"):
        standardised([*CLEAN_ROWS, [5, "Male", None, 60, 40]], dp)


def test_duplicate_ids_keep_the_first(dp):
    valid, _ = validate_customers(standardised([*CLEAN_ROWS, [2, "Male", 50, 50, 50]], dp), dp)
    kept, record = remove_duplicate_customers(valid, dp)
    assert kept["customer_id"].tolist() == ["1", "2", "3", "4"]
    assert kept.loc[1, "gender"] == "Female"
    assert record.index.tolist() == [4]
    assert record["reason"].iloc[0].startswith("duplicate customer_id")


OUTLIER_ROWS = [[i, "Male", 30 + i % 5, 50 + i % 7, 50] for i in range(1, 21)] + [
    [99, "Male", 32, 400, 50]
]


@pytest.mark.parametrize(
    ("policy", "kept_rows", "quarantined"),
    [("none", 21, 0), ("clip_iqr", 21, 0), ("quarantine_iqr", 20, 1)],
)
def test_outlier_policies(dp, policy, kept_rows, quarantined):
    dp["outliers"]["policy"] = policy
    valid, _ = validate_customers(standardised(OUTLIER_ROWS, dp), dp)
    kept, record, counts, _ = treat_outliers(valid, dp)
    assert len(kept) == kept_rows and len(record) == quarantined
    if policy == "clip_iqr":
        assert kept["annual_income_k"].max() < 400
        assert counts["annual_income_k"] == 1
    if policy == "none":
        assert kept["annual_income_k"].max() == 400


def test_training_learns_every_fill_and_scoring_applies_them_whatever_the_batch(dp):
    valid, _ = validate_customers(standardised(CLEAN_ROWS, dp), dp)
    _, _, counts, fills = impute_missing_values(valid, dp)
    assert counts == {}  # nothing blank, yet every imputable column's value is learned
    assert fills == {"gender": "Female", "age": pd.Series([19, 21, 35, 64]).median()}
    scoring = {**dp, "learned_statistics": {"fills": {"gender": "Male", "age": 77.0}}}
    for batch in ([[9, None, None, 50, 50]], [[9, None, None, 50, 50], *CLEAN_ROWS]):
        valid, _ = validate_customers(standardised(batch, scoring), scoring)
        kept, _, counts, _ = impute_missing_values(valid, scoring)
        assert (kept.loc[0, "age"], kept.loc[0, "gender"]) == (77.0, "Male")
        assert counts == {"gender": 1, "age": 1}


def test_scoring_without_a_learned_value_for_a_blank_column_names_it(dp):
    scoring = {**dp, "learned_statistics": {"fills": {"gender": "Male"}}}
    valid, _ = validate_customers(standardised([[9, "Male", None, 50, 50]], scoring), scoring)
    with pytest.raises(
        DataValidationError, match="no impute_median value learned for column 'age'"
    ):
        impute_missing_values(valid, scoring)


def test_scoring_applies_the_outlier_fences_learned_at_training(dp):
    dp["outliers"]["policy"] = "quarantine_iqr"
    valid, _ = validate_customers(standardised(OUTLIER_ROWS, dp), dp)
    *_, fences = treat_outliers(valid, dp)
    low, high = fences["annual_income_k"]
    assert low < 50 and 56 < high < 400
    scoring = {**dp, "learned_statistics": {"fills": {}, "fences": fences}}
    one = [[7, "Male", 30, 400, 50]]  # alone, its own quartiles would have no outlier
    valid, _ = validate_customers(standardised(one, scoring), scoring)
    kept, record, _, _ = treat_outliers(valid, scoring)
    assert kept.empty and record["reason"].iloc[0].startswith("annual_income_k outlier")


def test_numbers_beyond_1e15_are_quarantined_as_out_of_range(dp):
    rows = [[1, "Male", 30, "1e200", 50], [2, "Male", 30, "-2e15", 50], [3, "Male", 30, 1e15, 50]]
    valid, record = validate_customers(standardised(rows, dp), dp)
    assert valid["customer_id"].tolist() == ["3"]
    assert record["reason"].tolist() == ["annual_income_k out of range (magnitude above 1e+15)"] * 2


# --- quarantine, primary table, report --------------------------------------------------------


def test_quarantine_keeps_rows_as_delivered_with_reason_and_line(dp):
    std = standardised([*CLEAN_ROWS, [5, "Male", "forty", 60, 40], [3, "Male", 40, 60, 40]], dp)
    valid, r1 = validate_customers(std, dp)
    imputed, r2, _, _ = impute_missing_values(valid, dp)
    unique, r3 = remove_duplicate_customers(imputed, dp)
    quarantined = collect_quarantine(std, r1, r2, r3)
    assert quarantined["age"].tolist() == ["forty", "40"]
    assert quarantined["source_line"].tolist() == [6, 7]
    assert quarantined["step"].tolist() == ["validation", "duplicates"]


def test_primary_table_is_typed_and_carries_undeclared_columns(dp):
    raw = raw_frame(CLEAN_ROWS).assign(**{"Favourite store": ["A", "B", None, "D"]})
    valid, record = validate_customers(standardise_columns(raw, dp), dp)
    primary = build_primary_table(valid, collect_quarantine(valid, record), dp)
    assert list(primary.columns) == [
        "customer_id", "gender", "age", "annual_income_k", "spending_score", "Favourite store",
    ]  # fmt: skip
    assert primary["Favourite store"].fillna("blank").tolist() == ["A", "B", "blank", "D"]
    assert primary["gender"].tolist() == ["Male", "Female", "Female", "Male"]
    assert primary["age"].dtype == "int64"


def test_no_valid_rows_left_is_a_clear_error(dp):
    std = standardised([[1, "Male", 500, 50, 50], [2, "Male", 30, 50, 500]], dp)
    valid, record = validate_customers(std, dp)
    with pytest.raises(DataValidationError) as error:
        build_primary_table(valid, collect_quarantine(std, record), dp)
    assert "customers.csv: no valid rows left" in str(error.value)
    assert "age not between 0 and 120 (1)" in str(error.value)


def test_quality_report_accounts_for_every_row(dp):
    std = standardised([*CLEAN_ROWS, [5, "Male", 999, 60, 40], [6, None, None, 60, 40]], dp)
    valid, r1 = validate_customers(std, dp)
    imputed, r2, counts, _ = impute_missing_values(valid, dp)
    quarantined = collect_quarantine(std, r1, r2)
    primary = build_primary_table(imputed, quarantined, dp)
    report = build_data_quality_report(std, primary, quarantined, counts, {}, dp)
    assert (report["rows_in"], report["rows_kept"], report["rows_quarantined"]) == (6, 5, 1)
    assert report["accounting_holds"] is True
    assert report["quarantined_by_reason"] == {"age not between 0 and 120": 1}
    assert report["values_imputed"] == {"gender": 1, "age": 1}


# --- features ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scaler", ["standard", "minmax", "robust", "none"])
def test_feature_transformer_scales_the_chosen_features(dp, scaler):
    dp["scaler"] = scaler
    valid, record = validate_customers(standardised(CLEAN_ROWS, dp), dp)
    primary = build_primary_table(valid, collect_quarantine(valid, record), dp)
    transformer = fit_feature_transformer(primary, dp)
    features = build_model_features(primary, transformer, "customer_id")
    assert list(features.columns) == ["annual_income_k", "spending_score"]
    assert features.index.tolist() == ["1", "2", "3", "4"]
    if scaler == "standard":
        assert features.mean().abs().max() < 1e-9
    if scaler == "minmax":
        assert features.min().tolist() == [0.0, 0.0]
        assert features.max().tolist() == pytest.approx([1.0, 1.0])
    if scaler == "none":
        assert features["annual_income_k"].tolist() == [15, 15, 70, 120]


def test_unknown_feature_or_scaler_names_the_parameter(dp):
    primary = pd.DataFrame({"customer_id": ["1"], "annual_income_k": [1], "spending_score": [1]})
    dp["features"] = ["annual_income_k", "shoe_size"]
    with pytest.raises(DataValidationError, match=r"data_processing\.features.*shoe_size"):
        fit_feature_transformer(primary, dp)
    dp["features"], dp["scaler"] = ["annual_income_k"], "log"
    with pytest.raises(DataValidationError, match=r"data_processing\.scaler.*'log'"):
        fit_feature_transformer(primary, dp)


# --- the declared schema at work ----------------------------------------------------------------


def test_categorical_keep_policy_makes_an_unknown_category(dp):
    declare(dp, "gender", missing="keep")
    valid, _ = validate_customers(standardised([*CLEAN_ROWS, [5, None, 30, 60, 40]], dp), dp)
    kept, record, counts, _ = impute_missing_values(valid, dp)
    assert record.empty and counts == {"gender": 1}
    assert kept["gender"].tolist() == ["Male", "Female", "Female", "Male", "Unknown"]


def test_placeholder_cells_are_missing_values_for_the_columns_missing_policy(dp):
    rows = [*CLEAN_ROWS, [5, "unknown", "N/A", 60, 40], [6, "Male", 40, "NULL", 40]]
    valid, record = validate_customers(standardised(rows, dp), dp)
    assert record.empty  # not "not a number", not "not one of"
    kept, record, counts, _ = impute_missing_values(valid, dp)
    assert counts == {"gender": 1, "age": 1}  # impute_mode, impute_median
    assert record["reason"].tolist() == ["annual_income_k missing"]  # quarantine
    declare(dp, "age", missing_tokens=["?"])
    valid, record = validate_customers(
        standardised([*CLEAN_ROWS, [5, "Male", "?", 60, 40]], dp), dp
    )
    assert record.empty and valid["age"].isna().sum() == 1
    # a spelling the column declares is a value, not a placeholder
    declare(dp, "gender", values={"male": "Male", "female": "Female", "unknown": "Not given"})
    valid, _ = validate_customers(standardised([*CLEAN_ROWS, [5, "Unknown", 30, 60, 40]], dp), dp)
    assert valid["gender"].tolist()[-1] == "Not given"


def test_categorical_without_declared_values_accepts_any_value(dp):
    declare(dp, "gender", values={})
    valid, record = validate_customers(standardised([*CLEAN_ROWS, [5, " nb ", 30, 60, 40]], dp), dp)
    assert record.empty and valid["gender"].tolist()[-1] == "nb"


def test_infinite_numbers_are_quarantined(dp):
    _, record = validate_customers(standardised([*CLEAN_ROWS, [5, "Male", 30, "inf", 40]], dp), dp)
    assert record["reason"].tolist() == ["annual_income_k is not a number"]


def test_two_headers_for_one_column_is_a_clear_error(dp):
    header = ["CustomerID", "Genre", "Gender", "Age", "Annual Income (k$)"]
    raw = raw_frame([[1, "Male", "Male", 19, 15]], header)
    with pytest.raises(DataValidationError, match="more than one column the name 'gender'"):
        standardise_columns(raw, dp)


def test_whole_number_ids_from_typed_sources_stay_whole(dp):
    raw = raw_frame(CLEAN_ROWS)
    raw["CustomerID"] = [1.0, 2.0, None, 4.0]
    valid, record = validate_customers(standardise_columns(raw, dp), dp)
    assert valid["customer_id"].tolist() == ["1", "2", "4"]
    assert record["reason"].tolist() == ["customer_id missing"]


def test_categorical_features_are_one_hot_encoded(dp):
    dp["features"] = ["annual_income_k", "gender"]
    valid, record = validate_customers(standardised(CLEAN_ROWS, dp), dp)
    primary = build_primary_table(valid, collect_quarantine(valid, record), dp)
    transformer = fit_feature_transformer(primary, dp)
    features = build_model_features(primary, transformer, "customer_id")
    assert list(features.columns) == ["annual_income_k", "gender_Female", "gender_Male"]
    assert features["gender_Female"].tolist() == [0.0, 1.0, 1.0, 0.0]
    unseen = primary.assign(gender=["Other"] * 4)
    assert (transformer.transform(unseen)[["gender_Female", "gender_Male"]] == 0).all().all()


@pytest.mark.parametrize("transform", ["log1p", "yeo-johnson"])
def test_per_feature_transforms_apply_before_scaling(dp, transform):
    dp["transforms"] = {"annual_income_k": transform}
    dp["scaler"] = "none"
    valid, record = validate_customers(standardised(CLEAN_ROWS, dp), dp)
    primary = build_primary_table(valid, collect_quarantine(valid, record), dp)
    features = build_model_features(primary, fit_feature_transformer(primary, dp), "customer_id")
    if transform == "log1p":
        assert features["annual_income_k"].tolist() == pytest.approx(np.log1p([15, 15, 70, 120]))
    else:
        assert features["annual_income_k"].tolist() != [15, 15, 70, 120]
    assert features["spending_score"].tolist() == [39, 81, 50, 20]  # no transform declared


def test_log1p_of_values_below_minus_one_names_the_column(dp):
    dp["transforms"] = {"annual_income_k": "log1p"}
    primary = pd.DataFrame(
        {"customer_id": ["1", "2"], "annual_income_k": [-5.0, 3.0], "spending_score": [1, 2]}
    )
    with pytest.raises(DataValidationError, match="'annual_income_k' has values ≤ -1"):
        fit_feature_transformer(primary, dp)
