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
