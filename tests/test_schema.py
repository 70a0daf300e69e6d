"""The declared column schema: parameter mistakes stop with the parameter and the allowed values."""

from __future__ import annotations

import copy

import pytest

from customer_segmentation.errors import DataValidationError
from customer_segmentation.schema import schema_from_dict, schema_from_params
from tests.conftest import load_parameters


@pytest.fixture
def dp():
    return copy.deepcopy(load_parameters()["data_processing"])


def test_default_schema_describes_the_mall_table(dp):
    schema = schema_from_params(dp)
    assert schema.id_column == "customer_id"
    assert schema.numeric == ["age", "annual_income_k", "spending_score"]
    assert schema.categorical == ["gender"]
    assert schema.axis_label("annual_income_k") == "annual income (k$)"
    assert schema.axis_label("Favourite store") == "Favourite store"  # undeclared: its name
    assert schema.source_mapping()["Genre"] == schema.source_mapping()["Gender"] == "gender"
    assert schema_from_dict(schema.to_dict()) == schema


def test_cards_schema_declares_card_columns_only():
    schema = schema_from_params(load_parameters("cards")["data_processing"])
    assert schema.id_column == "customer_id"
    assert "age" not in schema.names and "card_tier" in schema.categorical
    assert set(schema.transforms.values()) == {"log1p"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda dp: dp["columns"].pop(0), r"exactly one column with role: id.*no id column"),
        (
            lambda dp: dp["columns"][2].update(role="number"),
            r"columns\[2\] \(age\)\.role.*'number'",
        ),
        (
            lambda dp: dp.update(features=["annual_income_k", "shoe_size"]),
            r"data_processing\.features.*not declared: shoe_size",
        ),
        (lambda dp: dp.update(features=[]), r"data_processing\.features: expected a non-empty"),
        (
            lambda dp: dp.update(features=["customer_id"]),
            r"features.*drawn from the declared numeric and categorical columns \(gender, age",
        ),
        (
            lambda dp: dp.update(transforms={"annual_income_k": "sqrt"}),
            r"transforms\.annual_income_k: expected one of none, log1p, yeo-johnson, found 'sqrt'",
        ),
        (
            lambda dp: dp.update(transforms={"age": "log1p"}),
            r"transforms\.age: expected a numeric feature \(annual_income_k, spending_score\)",
        ),
        (lambda dp: dp["columns"][1].update(missing="impute_median"), r"\(gender\)\.missing"),
        (lambda dp: dp["columns"][2].update(range={"min": 5, "max": 1}), r"min ≤ max"),
        (lambda dp: dp["columns"][2].update(colour="red"), r"\(age\): expected only the keys"),
        (lambda dp: dp["columns"].append({"name": "age", "role": "numeric"}), r"repeated: age"),
        (
            lambda dp: dp["columns"].append({"name": "x", "role": "numeric", "source": ["Age"]}),
            r"each source header mapped to one column",
        ),
    ],
)
def test_parameter_mistakes_name_the_parameter(dp, change, message):
    change(dp)
    with pytest.raises(DataValidationError, match=message):
        schema_from_params(dp)
