"""scoring's nodes on their own."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from customer_segmentation.errors import DataValidationError
from customer_segmentation.pipelines.scoring.nodes import scoring_cleaning_parameters


def test_a_model_trained_on_undeclared_columns_is_refused_with_its_source(parameters):
    log = pd.DataFrame({"recency": [1.0, 5, 9, 30], "frequency": [9.0, 3, 2, 1]})
    model = Pipeline([("features", StandardScaler()), ("segments", KMeans(2, n_init=1))]).fit(log)
    model.source_ = "data/transactions/06_models/segment_model.pkl (run 2026-12-01T10.00.00.000Z)"
    scoring = {**parameters["scoring"], "source_file": "data/01_raw/new_customers.csv"}
    with pytest.raises(DataValidationError) as error:
        scoring_cleaning_parameters(parameters["data_processing"], scoring, model)
    message = str(error.value)
    assert message.startswith("data/01_raw/new_customers.csv: the segment model data/transactions/")
    assert "2026-12-01T10.00.00.000Z" in message and "not declared: recency, frequency" in message


def test_the_new_files_cleaning_applies_what_the_model_learned_at_training(parameters):
    table = pd.DataFrame({"annual_income_k": [15.0, 70, 120], "spending_score": [39.0, 50, 90]})
    model = Pipeline([("features", StandardScaler()), ("segments", KMeans(2, n_init=1))])
    model.fit(table)
    model.cleaning_statistics_ = {"fills": {"age": 36.0, "gender": "Female"}, "fences": {}}
    scoring = {**parameters["scoring"], "source_file": "new.csv"}
    cleaning = scoring_cleaning_parameters(parameters["data_processing"], scoring, model)
    assert cleaning["learned_statistics"] == model.cleaning_statistics_
    assert cleaning["source_file"] == "new.csv"
    del model.cleaning_statistics_  # a model saved before models kept them: the file's own
    assert "learned_statistics" not in scoring_cleaning_parameters(
        parameters["data_processing"], scoring, model
    )
